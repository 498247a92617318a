package web

import (
	"net/http"

	"github.com/secinbox/secinbox/triage"
)

// Route is one entry of the route table. Role is the least role the route
// needs; "" means public. API routes authenticate with a bearer token and
// answer errors in JSON; the others use the session cookie and HTML.
type Route struct {
	Method  string
	Pattern string // net/http.ServeMux pattern, without the method
	Role    triage.Role
	API     bool
	Name    string // what the route does, for listings

	handle func(*server, http.ResponseWriter, *http.Request)
}

// routes is every route the site serves. Authorization is applied from
// Role by the middleware in auth.go, so no handler checks it itself.
var routes = []Route{
	// Public.
	{"GET", "/{$}", "", false, "landing page", (*server).landing},
	{"GET", "/.well-known/security.txt", "", false, "security.txt (RFC 9116)", (*server).securityTxt},
	{"GET", "/security.txt", "", false, "redirect to the well-known security.txt", (*server).securityTxtRedirect},
	{"GET", "/pgp-key.asc", "", false, "team public key, armored", (*server).publicKey},
	{"GET", "/.well-known/openpgpkey/hu/{hash}", "", false, "WKD key lookup (direct method)", (*server).wkdKey},
	{"GET", "/.well-known/openpgpkey/policy", "", false, "WKD policy", (*server).wkdPolicy},
	{"GET", "/policy", "", false, "disclosure policy", (*server).policy},
	{"GET", "/hall-of-fame", "", false, "hall of fame", (*server).hallOfFame},
	{"GET", "/healthz", "", false, "health check", (*server).healthz},
	{"GET", "/static/{file}", "", false, "embedded stylesheet", (*server).static},
	{"GET", "/login", "", false, "sign-in form", (*server).loginForm},
	{"POST", "/login", "", false, "sign in", (*server).login},

	// Staff, with a session cookie.
	{"POST", "/logout", triage.RoleViewer, false, "sign out", (*server).logout},
	{"GET", "/board", triage.RoleViewer, false, "triage board", (*server).board},
	{"GET", "/reports/{id}", triage.RoleViewer, false, "report page", (*server).report},
	{"GET", "/reports/{id}/raw", triage.RoleViewer, false, "download the raw message", (*server).reportRaw},
	{"GET", "/reports/{id}/attachments/{aid}", triage.RoleViewer, false, "download an attachment", (*server).attachment},

	// JSON API, with a bearer token.
	{"GET", "/api/v1/reports", triage.RoleViewer, true, "list reports", (*server).apiReports},
	{"GET", "/api/v1/reports/{id}", triage.RoleViewer, true, "get a report", (*server).apiReport},
}

// Routes returns a copy of the route table, for tests and documentation.
func Routes() []Route {
	return append([]Route(nil), routes...)
}
