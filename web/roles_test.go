package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// wantRoles is, independently of the route table, the least role each
// route must need: "" for public. TestRoutes_Roles fails for a route that
// is missing here or whose table entry disagrees, so adding a route means
// deciding here, in review, who may use it.
var wantRoles = map[string]triage.Role{
	"GET /{$}":                                     "",
	"GET /.well-known/security.txt":                "",
	"GET /security.txt":                            "",
	"GET /pgp-key.asc":                             "",
	"GET /.well-known/openpgpkey/hu/{hash}":        "",
	"GET /.well-known/openpgpkey/policy":           "",
	"GET /policy":                                  "",
	"GET /hall-of-fame":                            "",
	"GET /hall-of-fame.json":                       "",
	"GET /hall-of-fame.atom":                       "",
	"GET /credit/{token}":                          "",
	"POST /credit/{token}":                         "",
	"GET /report":                                  "",
	"POST /report":                                 "",
	"GET /status/{token}":                          "",
	"POST /status/{token}/reply":                   "",
	"POST /reports/{id}/replies":                   triage.RoleTriager,
	"POST /reports/{id}/credit-offer":              triage.RoleTriager,
	"POST /reports/{id}/credit":                    triage.RoleTriager,
	"GET /outbox":                                  triage.RoleViewer,
	"POST /outbox/{mid}/retry":                     triage.RoleTriager,
	"GET /api/v1/reports/{id}/messages":            triage.RoleViewer,
	"POST /api/v1/reports/{id}/replies":            triage.RoleTriager,
	"POST /api/v1/reports/{id}/credit-offer":       triage.RoleTriager,
	"GET /api/v1/reports/{id}/credit":              triage.RoleViewer,
	"PUT /api/v1/reports/{id}/credit":              triage.RoleTriager,
	"GET /api/v1/outbox":                           triage.RoleViewer,
	"POST /api/v1/outbox/{mid}/retry":              triage.RoleTriager,
	"GET /healthz":                                 "",
	"GET /static/{file}":                           "",
	"GET /login":                                   "",
	"POST /login":                                  "",
	"GET /login/2fa":                               "",
	"POST /login/2fa":                              "",
	"GET /login/oidc":                              "",
	"GET /login/oidc/callback":                     "",
	"GET /advisories":                              "",
	"GET /advisories.atom":                         "",
	"GET /advisories/{file}":                       "",
	"GET /.well-known/csaf/provider-metadata.json": "",
	"GET /.well-known/csaf/feed-tlp-white.json":    "",
	"POST /reports/{id}/cve-id":                    triage.RoleTriager,
	"POST /api/v1/reports/{id}/cve-id":             triage.RoleTriager,
	"POST /reports/{id}/advisory":                  triage.RoleTriager,
	"GET /staff/advisories/{adv}":                  triage.RoleViewer,
	"POST /staff/advisories/{adv}":                 triage.RoleTriager,
	"POST /staff/advisories/{adv}/publish":         triage.RoleTriager,
	"GET /staff/advisories/{adv}/cve.json":         triage.RoleViewer,
	"POST /reports/{id}/deadlines":                 triage.RoleTriager,

	"POST /logout":                         triage.RoleViewer,
	"GET /board":                           triage.RoleViewer,
	"POST /board/bulk":                     triage.RoleTriager,
	"GET /logo":                            "",
	"GET /admin/site":                      triage.RoleAdmin,
	"POST /admin/site":                     triage.RoleAdmin,
	"GET /quarantine":                      triage.RoleViewer,
	"POST /quarantine":                     triage.RoleAdmin,
	"POST /quarantine/{qid}/release":       triage.RoleAdmin,
	"GET /api/v1/quarantine":               triage.RoleViewer,
	"POST /api/v1/quarantine":              triage.RoleAdmin,
	"DELETE /api/v1/quarantine/{id}":       triage.RoleAdmin,
	"GET /reports/{id}/responses/{rid}":    triage.RoleTriager,
	"GET /admin/responses":                 triage.RoleAdmin,
	"POST /admin/responses":                triage.RoleAdmin,
	"POST /admin/responses/{rid}":          triage.RoleAdmin,
	"POST /admin/responses/{rid}/delete":   triage.RoleAdmin,
	"GET /api/v1/responses":                triage.RoleViewer,
	"POST /api/v1/responses":               triage.RoleAdmin,
	"PUT /api/v1/responses/{id}":           triage.RoleAdmin,
	"DELETE /api/v1/responses/{id}":        triage.RoleAdmin,
	"GET /reports/{id}":                    triage.RoleViewer,
	"GET /reports/{id}/raw":                triage.RoleViewer,
	"GET /reports/{id}/attachments/{aid}":  triage.RoleViewer,
	"GET /account":                         triage.RoleViewer,
	"POST /account/password":               triage.RoleViewer,
	"POST /account/2fa/start":              triage.RoleViewer,
	"GET /account/2fa":                     triage.RoleViewer,
	"GET /account/2fa/qr.png":              triage.RoleViewer,
	"POST /account/2fa/confirm":            triage.RoleViewer,
	"POST /account/2fa/disable":            triage.RoleViewer,
	"POST /account/sessions/{sid}/revoke":  triage.RoleViewer,
	"POST /account/sessions/revoke-others": triage.RoleViewer,
	"POST /account/tokens":                 triage.RoleViewer,
	"POST /account/tokens/{tid}/revoke":    triage.RoleViewer,
	"GET /admin/users":                     triage.RoleAdmin,
	"POST /admin/users":                    triage.RoleAdmin,
	"POST /admin/users/{uid}/role":         triage.RoleAdmin,
	"POST /admin/users/{uid}/disable":      triage.RoleAdmin,
	"POST /admin/users/{uid}/enable":       triage.RoleAdmin,
	"POST /admin/users/{uid}/reset-2fa":    triage.RoleAdmin,
	"GET /admin/audit":                     triage.RoleAdmin,
	"GET /admin/audit/export":              triage.RoleAdmin,
	"GET /metrics":                         triage.RoleAdmin,
	"GET /api/v1/reports":                  triage.RoleViewer,
	"GET /api/v1/reports/{id}":             triage.RoleViewer,
	"GET /api/v1/audit":                    triage.RoleAdmin,

	// Report content and researcher keys.
	"GET /reports/{id}/attachments/{aid}/source": triage.RoleViewer,
	"POST /reports/{id}/lookup-key":              triage.RoleTriager,
	"POST /api/v1/reports/{id}/lookup-key":       triage.RoleTriager,

	// Triage UI: report actions, the board's quick form, the CVSS
	// scorer, metrics and the SLA settings.
	"GET /reports/{id}/quick":      triage.RoleTriager,
	"POST /reports/{id}/status":    triage.RoleTriager,
	"POST /reports/{id}/assign":    triage.RoleTriager,
	"POST /reports/{id}/labels":    triage.RoleTriager,
	"POST /reports/{id}/duplicate": triage.RoleTriager,
	"POST /reports/{id}/cvss":      triage.RoleTriager,
	"POST /reports/{id}/notes":     triage.RoleTriager,
	"GET /cvss/score":              triage.RoleViewer,
	"GET /team/metrics":            triage.RoleViewer,
	"GET /admin/settings":          triage.RoleAdmin,
	"POST /admin/settings":         triage.RoleAdmin,

	// Triage API.
	"PATCH /api/v1/reports/{id}":      triage.RoleTriager,
	"GET /api/v1/reports/{id}/notes":  triage.RoleViewer,
	"POST /api/v1/reports/{id}/notes": triage.RoleTriager,
	"GET /api/v1/reports/{id}/events": triage.RoleViewer,
	"GET /api/v1/settings/sla":        triage.RoleAdmin,
	"PUT /api/v1/settings/sla":        triage.RoleAdmin,
	"GET /api/v1/openapi.json":        triage.RoleViewer,

	// WKD advanced method, MTA-STS (mtasts.go).
	"GET /.well-known/openpgpkey/{wkddomain}/hu/{hash}": "",
	"GET /.well-known/openpgpkey/{wkddomain}/{wkdfile}": "",
	"GET /.well-known/mta-sts.txt":                      "",
	"GET /api/v1/advisories":                            triage.RoleViewer,
	"POST /api/v1/advisories":                           triage.RoleTriager,
	"GET /api/v1/advisories/{adv}":                      triage.RoleViewer,
	"PATCH /api/v1/advisories/{adv}":                    triage.RoleTriager,
	"POST /api/v1/advisories/{adv}/publish":             triage.RoleTriager,
}

// selfService are the staff routes that change something yet are open
// to viewers: each acts only on the signed-in user's own account.
var selfService = regexp.MustCompile(`^POST /(logout|account/.*)$`)

// TestRoutes_RoleTable checks the route table against wantRoles and
// against rules no route may break: changes need at least a triager
// unless they are self-service; admin areas need an admin.
func TestRoutes_RoleTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, rt := range web.Routes() {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		want, ok := wantRoles[key]
		if !ok {
			t.Errorf("%s (role %q) is not in wantRoles in roles_test.go: add it with the least role that may use it", key, rt.Role)
			continue
		}
		if rt.Role != want {
			t.Errorf("%s: the route table says role %q, wantRoles says %q", key, rt.Role, want)
		}
		safe := rt.Method == "GET" || rt.Method == "HEAD"
		switch {
		case strings.HasPrefix(rt.Pattern, "/admin/") || rt.Pattern == "/admin" || rt.Pattern == "/metrics" ||
			strings.HasPrefix(rt.Pattern, "/api/v1/audit") || strings.HasPrefix(rt.Pattern, "/api/v1/users") ||
			strings.HasPrefix(rt.Pattern, "/api/v1/settings") || strings.HasPrefix(rt.Pattern, "/api/v1/keys"):
			if rt.Role != triage.RoleAdmin {
				t.Errorf("%s: admin area open to role %q", key, rt.Role)
			}
		case rt.Role == "" && !safe && !strings.HasPrefix(rt.Pattern, "/login") && !strings.HasPrefix(rt.Pattern, "/report") && !strings.HasPrefix(rt.Pattern, "/credit/") && !strings.HasPrefix(rt.Pattern, "/status/"):
			t.Errorf("%s: a public route that changes something, and not a sign-in or a researcher form", key)
		case rt.Role == triage.RoleViewer && !safe && !selfService.MatchString(key):
			t.Errorf("%s: viewers are read-only, but this route changes something", key)
		}
	}
	// A route may be listed before it lands (the list is kept while
	// others add routes); only say so.
	for key := range wantRoles {
		if !seen[key] {
			t.Logf("wantRoles lists %s, which is not a route (yet)", key)
		}
	}
}

// principal is someone sending requests: a role (or anonymous) with a
// fresh session per request and an API token.
type principal struct {
	name  string
	role  triage.Role // "" for anonymous
	user  *triage.User
	token string
}

// TestRoutes_Roles sends every route of the router, as anonymous, viewer,
// triager and admin, with a session cookie and, where the route takes
// one, an API bearer token. The wrong role gets 401/403 (or, for a page,
// the redirect to /login); the right ones never do. Unsafe methods carry
// the same-origin headers a browser sends, so CSRF protection is not what
// answers.
func TestRoutes_Roles(t *testing.T) {
	t.Parallel()
	// Each principal's requests go to a site of its own, with the same
	// users and reports, side by side: what one sends (a sign-out, the
	// admin's user actions) cannot change what another is answered.
	for _, who := range []struct {
		name string
		role triage.Role // "" for anonymous
	}{{"anonymous", ""}, {"viewer", triage.RoleViewer}, {"triager", triage.RoleTriager}, {"admin", triage.RoleAdmin}} {
		t.Run(who.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *web.Config) { c.SecretKey = testSecretKey })
			viewer, err := e.db.UserByID(t.Context(), e.viewerID)
			if err != nil {
				t.Fatal(err)
			}
			staff := map[triage.Role]*triage.User{
				triage.RoleViewer:  viewer,
				triage.RoleTriager: e.addUser("triager@localhost", triage.RoleTriager, "triager password 1"),
				triage.RoleAdmin:   e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12"),
			}
			// The target of the admin's user actions: never the principal.
			target := e.addUser("target@localhost", triage.RoleViewer, "target password 1")
			// The advisory the {adv} routes name.
			ids := []int64{e.xss.ID}
			if _, err := e.db.CreateAdvisory(t.Context(), triage.AdvisoryChange{ReportIDs: &ids, Title: ptr("An advisory")}, triage.Actor{}, t0); err != nil {
				t.Fatal(err)
			}
			p := &principal{name: who.name, role: who.role}
			if p.role != "" {
				p.user = staff[p.role]
				p.token = e.newToken(p.user.ID)
			}
			e.checkRoles(t, p, target)
		})
	}
}

// checkRoles sends every route listed in wantRoles as p, with each
// credential the route takes, and checks the answer against p's role.
func (e *env) checkRoles(t *testing.T, p *principal, target *triage.User) {
	for _, rt := range web.Routes() {
		want, listed := wantRoles[rt.Method+" "+rt.Pattern]
		if !listed {
			continue // TestRoutes_RoleTable reports it
		}
		creds := []string{"cookie"}
		if rt.API {
			creds = []string{"bearer"}
		} else if web.BearerRoutes[rt.Method+" "+rt.Pattern] {
			creds = append(creds, "bearer")
		}
		for _, cred := range creds {
			name := fmt.Sprintf("%s %s/%s", rt.Method, rt.Pattern, cred)
			t.Run(name, func(t *testing.T) {
				c := e.client()
				path := e.examplePath(rt.Pattern)
				var hdr []string
				if p.user != nil {
					if cred == "bearer" {
						hdr = []string{"Authorization", "Bearer " + p.token}
					} else {
						cookie, _ := e.newSession(p.user.ID)
						hdr = []string{"Cookie", "secinbox_session=" + cookie}
						if strings.Contains(path, "{sid}") {
							// A session of theirs to revoke.
							_, sid := e.newSession(p.user.ID)
							path = strings.ReplaceAll(path, "{sid}", fmt.Sprint(sid))
						}
					}
				}
				path = strings.NewReplacer("{uid}", fmt.Sprint(target.ID), "{sid}", "1").Replace(path)
				if strings.ContainsAny(path, "{}") {
					t.Fatalf("%s: add its wildcard to examplePath in routes_test.go", path)
				}
				resp, body := e.do(c, rt.Method, path, nil, hdr...)
				loc := resp.Header.Get("Location")
				allowed := want == "" || p.role != "" && p.role.Can(want)
				switch {
				case allowed:
					if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
						(loc == "/login" && rt.Pattern != "/logout") {
						t.Errorf("allowed, but status %d Location %q: %.200s", resp.StatusCode, loc, body)
					}
					if resp.StatusCode == http.StatusTooManyRequests {
						t.Errorf("rate limited: the test sends too much")
					}
				case p.role == "" && !rt.API && cred == "cookie" && !web.BearerRoutes[rt.Method+" "+rt.Pattern]:
					if resp.StatusCode != http.StatusSeeOther || loc != "/login" {
						t.Errorf("anonymous page: status %d Location %q, want 303 to /login", resp.StatusCode, loc)
					}
				case p.role == "":
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("anonymous: status %d, want 401", resp.StatusCode)
					}
					if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without WWW-Authenticate: Bearer")
					}
				default:
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("role %s below %s: status %d, want 403", p.role, want, resp.StatusCode)
					}
				}
				if !allowed && (strings.Contains(body, "alert(1)") || strings.Contains(body, e.xss.TrackingID)) {
					t.Errorf("refusal leaks report content: %.200s", body)
				}
			})
		}
	}
}

// TestRoutes_CrossSite sends every unsafe route as an admin, but from
// another site: the cross-origin protection refuses each before its
// handler runs.
func TestRoutes_CrossSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *web.Config) { c.SecretKey = testSecretKey })
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	target := e.addUser("target@localhost", triage.RoleViewer, "target password 1")
	n := 0
	for _, rt := range web.Routes() {
		if rt.Method == "GET" || rt.Method == "HEAD" || rt.API {
			continue
		}
		n++
		cookie, sid := e.newSession(admin.ID)
		path := strings.NewReplacer("{uid}", fmt.Sprint(target.ID), "{sid}", fmt.Sprint(sid)).Replace(e.examplePath(rt.Pattern))
		resp, _ := e.do(e.client(), rt.Method, path, nil,
			"Cookie", "secinbox_session="+cookie, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s from another site: status %d, want 403", rt.Method, rt.Pattern, resp.StatusCode)
		}
	}
	if u, _ := e.db.UserByID(t.Context(), target.ID); u.Disabled() || u.Role != triage.RoleViewer {
		t.Errorf("a cross-site request changed the target user: %+v", u)
	}
	if n < 5 {
		t.Errorf("only %d unsafe routes", n)
	}
}
