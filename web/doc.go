// Package web is secinbox's HTTP side: the staff UI (login, board, report
// page with its conversation, outbox), the JSON API, and the public pages
// (security.txt, the team key, WKD, policy, hall of fame, the researchers'
// web form, status and credit pages). Every route is listed in routes.go
// with the role it needs.
package web
