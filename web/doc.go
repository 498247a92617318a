// Package web is secinbox's HTTP side: the staff UI (login, board, report
// page), the JSON API, and the public pages (security.txt, the team key,
// WKD, policy, hall of fame). Every route is listed in routes.go with the
// role it needs.
package web
