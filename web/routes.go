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
// The GET routes that write an audit event (views of decrypted content,
// downloads, the audit export) are sameOriginOnly: another site's link
// records nothing in a staff member's name.
var routes = []Route{
	// Public.
	{"GET", "/{$}", "", false, "landing page", (*server).landing},
	{"GET", "/.well-known/security.txt", "", false, "security.txt (RFC 9116)", (*server).securityTxt},
	{"GET", "/security.txt", "", false, "redirect to the well-known security.txt", (*server).securityTxtRedirect},
	{"GET", "/pgp-key.asc", "", false, "team public key, armored", (*server).publicKey},
	{"GET", "/.well-known/openpgpkey/hu/{hash}", "", false, "WKD key lookup (direct method)", (*server).wkdKey},
	{"GET", "/.well-known/openpgpkey/policy", "", false, "WKD policy", (*server).wkdPolicy},
	{"GET", "/.well-known/openpgpkey/{wkddomain}/hu/{hash}", "", false, "WKD key lookup (advanced method, at openpgpkey.DOMAIN)", (*server).wkdAdvancedKey},
	{"GET", "/.well-known/openpgpkey/{wkddomain}/{wkdfile}", "", false, "WKD policy (advanced method)", (*server).wkdAdvancedFile},
	{"GET", "/.well-known/mta-sts.txt", "", false, "MTA-STS policy (RFC 8461), with TLS only", (*server).mtaSTS},
	{"GET", "/policy", "", false, "disclosure policy", (*server).policy},
	{"GET", "/hall-of-fame", "", false, "hall of fame", (*server).hallOfFame},
	{"GET", "/hall-of-fame.json", "", false, "hall of fame as JSON", (*server).hallOfFameJSON},
	{"GET", "/hall-of-fame.atom", "", false, "hall of fame as an Atom feed", (*server).hallOfFameAtom},
	{"GET", "/advisories", "", false, "published security advisories", (*server).advisoriesIndex},
	{"GET", "/advisories.atom", "", false, "published security advisories as an Atom feed", (*server).advisoriesAtom},
	{"GET", "/advisories/{file}", "", false, "a published advisory's page, or its CSAF (.csaf.json, .asc, .sha512), OSV (.osv.json) or CVE JSON (.cve.json)", (*server).advisoryFile},
	{"GET", "/.well-known/csaf/provider-metadata.json", "", false, "CSAF provider metadata", (*server).csafProviderMetadata},
	{"GET", "/.well-known/csaf/feed-tlp-white.json", "", false, "CSAF ROLIE feed of the published advisories", (*server).csafFeed},
	{"GET", "/credit/{token}", "", false, "a researcher's credit choice (link from the offer mail)", (*server).creditForm},
	{"POST", "/credit/{token}", "", false, "record or revoke a researcher's credit choice", (*server).creditChoose},
	{"GET", "/report", "", false, "web form to submit a report (encrypted in the browser)", (*server).submitForm},
	{"POST", "/report", "", false, "submit a report from the web form", (*server).submit},
	{"GET", "/status/{token}", "", false, "a web submission's status and conversation (link given at submission)", (*server).statusPage},
	{"POST", "/status/{token}/reply", "", false, "the researcher replies from the status page", (*server).statusReply},
	{"GET", "/healthz", "", false, "health check", (*server).healthz},
	{"GET", "/static/{file}", "", false, "embedded stylesheet", (*server).static},
	{"GET", "/logo", "", false, "the organisation's logo", (*server).logo},
	{"GET", "/login", "", false, "sign-in form", (*server).loginForm},
	{"POST", "/login", "", false, "sign in", (*server).login},
	{"GET", "/login/2fa", "", false, "two-factor code form (after a right password)", (*server).loginTwoFactorForm},
	{"POST", "/login/2fa", "", false, "sign in with a two-factor or recovery code", (*server).loginTwoFactor},
	{"GET", "/login/oidc", "", false, "start single sign-on (OpenID Connect): on to the identity provider", (*server).oidcStart},
	{"GET", "/login/oidc/callback", "", false, "finish single sign-on: the identity provider sends the browser back here", (*server).oidcCallback},

	// Staff, with a session cookie.
	{"POST", "/logout", triage.RoleViewer, false, "sign out", (*server).logout},
	{"GET", "/board", triage.RoleViewer, false, "triage board", (*server).board},
	{"POST", "/board/bulk", triage.RoleTriager, false, "assign, label, move or close as spam several reports at once", (*server).boardBulk},
	{"GET", "/quarantine", triage.RoleViewer, false, "the quarantine: reports of quarantined senders, and the senders", (*server).quarantine},
	{"POST", "/quarantine", triage.RoleAdmin, false, "quarantine a sender (address, domain or key)", (*server).quarantineAdd},
	{"POST", "/quarantine/{qid}/release", triage.RoleAdmin, false, "release a sender: their reports to the board, acknowledged", (*server).quarantineRelease},
	{"GET", "/reports/{id}", triage.RoleViewer, false, "report page", sameOriginOnly((*server).report)},
	{"GET", "/reports/{id}/raw", triage.RoleViewer, false, "download the raw message", sameOriginOnly((*server).reportRaw)},
	{"GET", "/reports/{id}/attachments/{aid}", triage.RoleViewer, false, "download an attachment", sameOriginOnly((*server).attachment)},
	{"GET", "/reports/{id}/attachments/{aid}/source", triage.RoleViewer, false, "an attachment shown as escaped text", sameOriginOnly((*server).attachmentSource)},
	{"POST", "/reports/{id}/lookup-key", lookupRole, false, "look up the researcher's key (WKD, keyserver)", (*server).lookupKey},

	// Triage: the report page's actions, the board's quick form, the CVSS
	// calculator's scorer, the team metrics (actions.go, cvss.go,
	// metrics_page.go).
	{"GET", "/reports/{id}/quick", triage.RoleTriager, false, "the board's quick status or assign form", (*server).quick},
	{"POST", "/reports/{id}/status", triage.RoleTriager, false, "change a report's status", (*server).reportStatus},
	{"POST", "/reports/{id}/assign", triage.RoleTriager, false, "assign a report", (*server).reportAssign},
	{"POST", "/reports/{id}/labels", triage.RoleTriager, false, "set a report's labels", (*server).reportLabels},
	{"POST", "/reports/{id}/duplicate", triage.RoleTriager, false, "close a report as a duplicate of another", (*server).reportDuplicate},
	{"POST", "/reports/{id}/cvss", triage.RoleTriager, false, "set or remove a report's CVSS vector", (*server).reportCVSS},
	{"POST", "/reports/{id}/notes", triage.RoleTriager, false, "add an internal note", (*server).reportNote},
	{"POST", "/reports/{id}/replies", triage.RoleTriager, false, "reply to the researcher (mail, encrypted when their key is known)", (*server).reportReply},
	{"GET", "/reports/{id}/responses/{rid}", triage.RoleTriager, false, "a canned response filled in for the report, as text (the reply form's Insert)", (*server).reportResponse},
	{"POST", "/reports/{id}/credit-offer", triage.RoleTriager, false, "offer the researcher credit", (*server).reportCreditOffer},
	{"POST", "/reports/{id}/credit", triage.RoleTriager, false, "set the advisory title, or record the researcher's credit choice made by mail", (*server).reportSetCredit},
	{"POST", "/reports/{id}/deadlines", triage.RoleTriager, false, "move the disclosure deadline, set the embargo, mark actively exploited, record a CRA report", (*server).reportDeadlines},
	{"POST", "/reports/{id}/advisory", triage.RoleTriager, false, "draft an advisory from a report", (*server).reportDraftAdvisory},
	{"POST", "/reports/{id}/cve-id", triage.RoleTriager, false, "reserve a CVE ID through CVE Services, or record one assigned elsewhere", (*server).reportAddCVEID},
	{"GET", "/staff/advisories/{adv}", triage.RoleViewer, false, "an advisory's editor", (*server).staffAdvisory},
	{"POST", "/staff/advisories/{adv}", triage.RoleTriager, false, "save an advisory", (*server).staffAdvisorySave},
	{"POST", "/staff/advisories/{adv}/publish", triage.RoleTriager, false, "publish an advisory", (*server).staffAdvisoryPublish},
	{"GET", "/staff/advisories/{adv}/cve.json", triage.RoleViewer, false, "a draft advisory's CVE JSON, to submit by hand", (*server).staffAdvisoryCVE},
	{"GET", "/outbox", triage.RoleViewer, false, "outgoing mail and its delivery", (*server).outbox},
	{"POST", "/outbox/{mid}/retry", triage.RoleTriager, false, "send a failed mail again", (*server).outboxRetry},
	{"GET", "/cvss/score", triage.RoleViewer, false, "score a CVSS vector (the calculator)", (*server).cvssScore},
	{"GET", "/team/metrics", triage.RoleViewer, false, "team metrics: first response, SLA share, open by severity", (*server).teamMetrics},

	// Own account (every role).
	{"GET", "/account", triage.RoleViewer, false, "own account: password, two-factor, sessions", (*server).account},
	{"POST", "/account/password", triage.RoleViewer, false, "change own password", (*server).accountPassword},
	{"POST", "/account/2fa/start", triage.RoleViewer, false, "start two-factor enrolment", (*server).accountTwoFactorStart},
	{"GET", "/account/2fa", triage.RoleViewer, false, "two-factor enrolment page", (*server).accountTwoFactorPage},
	{"GET", "/account/2fa/qr.png", triage.RoleViewer, false, "two-factor enrolment QR code", (*server).accountTwoFactorQR},
	{"POST", "/account/2fa/confirm", triage.RoleViewer, false, "confirm two-factor enrolment with a code", (*server).accountTwoFactorConfirm},
	{"POST", "/account/2fa/disable", triage.RoleViewer, false, "turn own two-factor off (password and code)", (*server).accountTwoFactorDisable},
	{"POST", "/account/sessions/{sid}/revoke", triage.RoleViewer, false, "sign out one own session", (*server).accountSessionRevoke},
	{"POST", "/account/sessions/revoke-others", triage.RoleViewer, false, "sign out every other own session", (*server).accountSessionsRevokeOthers},
	{"POST", "/account/tokens", triage.RoleViewer, false, "make an own API token (shown once)", (*server).accountTokenCreate},
	{"POST", "/account/tokens/{tid}/revoke", triage.RoleViewer, false, "revoke an own API token", (*server).accountTokenRevoke},

	// Admin.
	{"GET", "/admin/users", triage.RoleAdmin, false, "list users", (*server).adminUsers},
	{"POST", "/admin/users", triage.RoleAdmin, false, "add a user", (*server).adminUserCreate},
	{"POST", "/admin/users/{uid}/role", triage.RoleAdmin, false, "change a user's role", (*server).adminUserRole},
	{"POST", "/admin/users/{uid}/disable", triage.RoleAdmin, false, "disable a user", (*server).adminUserDisable},
	{"POST", "/admin/users/{uid}/enable", triage.RoleAdmin, false, "enable a user", (*server).adminUserEnable},
	{"POST", "/admin/users/{uid}/reset-2fa", triage.RoleAdmin, false, "reset a user's two-factor sign-in", (*server).adminUserResetTwoFactor},
	{"GET", "/admin/audit", triage.RoleAdmin, false, "audit log", (*server).adminAudit},
	{"GET", "/admin/audit/export", triage.RoleAdmin, false, "export the audit log as JSON lines", sameOriginOnly((*server).adminAuditExport)},
	{"GET", "/metrics", triage.RoleAdmin, false, "Prometheus metrics (session or admin bearer token)", (*server).metrics},
	{"GET", "/admin/settings", triage.RoleAdmin, false, "SLA policy and business hours", (*server).settings},
	{"POST", "/admin/settings", triage.RoleAdmin, false, "change the SLA policy and business hours", (*server).settingsSave},
	{"GET", "/admin/site", triage.RoleAdmin, false, "organisation name, logo and the policy page's texts", (*server).adminSite},
	{"POST", "/admin/site", triage.RoleAdmin, false, "change the organisation name, logo and the policy page's texts", (*server).adminSiteSave},
	{"GET", "/admin/responses", triage.RoleAdmin, false, "canned responses", (*server).adminResponses},
	{"POST", "/admin/responses", triage.RoleAdmin, false, "add a canned response", (*server).adminResponseSave},
	{"POST", "/admin/responses/{rid}", triage.RoleAdmin, false, "change a canned response", (*server).adminResponseSave},
	{"POST", "/admin/responses/{rid}/delete", triage.RoleAdmin, false, "delete a canned response", (*server).adminResponseDelete},

	// JSON API, with a bearer token.
	{"GET", "/api/v1/reports", triage.RoleViewer, true, "list reports", (*server).apiReports},
	{"GET", "/api/v1/reports/{id}", triage.RoleViewer, true, "get a report", (*server).apiReport},
	{"POST", "/api/v1/reports/{id}/lookup-key", lookupRole, true, "look up the researcher's key (WKD, keyserver)", (*server).apiLookupKey},
	{"GET", "/api/v1/audit", triage.RoleAdmin, true, "audit log events", (*server).apiAudit},
	// Triage (api_reports.go; described in openapi.json).
	{"PATCH", "/api/v1/reports/{id}", triage.RoleTriager, true, "change a report's status, CVSS, severity, assignee, labels or duplicate_of", (*server).apiPatchReport},
	{"GET", "/api/v1/reports/{id}/notes", triage.RoleViewer, true, "a report's internal notes", (*server).apiNotes},
	{"POST", "/api/v1/reports/{id}/notes", triage.RoleTriager, true, "add an internal note", (*server).apiAddNote},
	{"GET", "/api/v1/reports/{id}/events", triage.RoleViewer, true, "a report's history", (*server).apiEvents},
	{"GET", "/api/v1/reports/{id}/messages", triage.RoleViewer, true, "a report's conversation with the researcher", (*server).apiMessages},
	{"POST", "/api/v1/reports/{id}/replies", triage.RoleTriager, true, "reply to the researcher", (*server).apiReply},
	{"POST", "/api/v1/reports/{id}/credit-offer", triage.RoleTriager, true, "offer the researcher credit", (*server).apiCreditOffer},
	{"GET", "/api/v1/reports/{id}/credit", triage.RoleViewer, true, "a report's credit offer and the researcher's choice", (*server).apiCredit},
	{"PUT", "/api/v1/reports/{id}/credit", triage.RoleTriager, true, "set the advisory title, or record the researcher's credit choice made by mail", (*server).apiSetCredit},
	{"GET", "/api/v1/outbox", triage.RoleViewer, true, "outgoing mail and its delivery", (*server).apiOutbox},
	{"POST", "/api/v1/outbox/{mid}/retry", triage.RoleTriager, true, "send a failed mail again", (*server).apiOutboxRetry},
	{"GET", "/api/v1/settings/sla", triage.RoleAdmin, true, "the SLA policy", (*server).apiSLAPolicy},
	{"PUT", "/api/v1/settings/sla", triage.RoleAdmin, true, "replace the SLA policy", (*server).apiSetSLAPolicy},
	{"GET", "/api/v1/responses", triage.RoleViewer, true, "canned responses", (*server).apiResponses},
	{"POST", "/api/v1/responses", triage.RoleAdmin, true, "add a canned response", (*server).apiSaveResponse},
	{"PUT", "/api/v1/responses/{id}", triage.RoleAdmin, true, "replace a canned response", (*server).apiSaveResponse},
	{"DELETE", "/api/v1/responses/{id}", triage.RoleAdmin, true, "delete a canned response", (*server).apiDeleteResponse},
	{"GET", "/api/v1/quarantine", triage.RoleViewer, true, "senders in quarantine", (*server).apiQuarantine},
	{"POST", "/api/v1/quarantine", triage.RoleAdmin, true, "quarantine a sender", (*server).apiQuarantineAdd},
	{"DELETE", "/api/v1/quarantine/{id}", triage.RoleAdmin, true, "release a sender: their reports to the board, acknowledged", (*server).apiQuarantineRelease},
	{"GET", "/api/v1/openapi.json", triage.RoleViewer, true, "the OpenAPI 3.1 description of this API", (*server).apiOpenAPI},
	{"POST", "/api/v1/reports/{id}/cve-id", triage.RoleTriager, true, "reserve a CVE ID through CVE Services, or record one assigned elsewhere", (*server).apiAddCVEID},
	// Advisories (advisory.go).
	{"GET", "/api/v1/advisories", triage.RoleViewer, true, "list advisories, drafts included", (*server).apiAdvisories},
	{"POST", "/api/v1/advisories", triage.RoleTriager, true, "draft an advisory", (*server).apiCreateAdvisory},
	{"GET", "/api/v1/advisories/{adv}", triage.RoleViewer, true, "get an advisory", (*server).apiAdvisory},
	{"PATCH", "/api/v1/advisories/{adv}", triage.RoleTriager, true, "edit an advisory", (*server).apiPatchAdvisory},
	{"POST", "/api/v1/advisories/{adv}/publish", triage.RoleTriager, true, "publish an advisory (409 while a report is not disclosed or under embargo)", (*server).apiPublishAdvisory},
}

// Routes returns a copy of the route table, for tests and documentation.
func Routes() []Route {
	return append([]Route(nil), routes...)
}
