package triage

import "time"

// AuditEvent is one entry of the append-only audit log: who did what to
// which thing, when and from where. Entries are never changed or deleted
// (the database refuses it).
type AuditEvent struct {
	ID         int64
	At         time.Time
	ActorID    int64  // 0: no signed-in user (a failed sign-in, the CLI, the server itself)
	ActorEmail string // the user's email; for a failed sign-in the email that was tried; "cli" or "system" otherwise
	Action     string // a dotted verb, one of the Audit* constants or another "noun.verb"
	Target     string // what was acted on, "report:12", "user:3", "key:ABCD…"; may be empty
	Detail     string // small JSON or text; never report content, passwords, codes or secrets
	RemoteAddr string // the client's address, empty for the CLI
	UserAgent  string
}

// Audit actions. Other packages may log further dotted verbs; these are
// the ones the accounts and report code writes.
const (
	AuditLoginSuccess    = "login.success"
	AuditLoginFailure    = "login.failure"
	AuditLoginOIDC       = "login.oidc"         // a single sign-on (OpenID Connect)
	AuditLoginOIDCFail   = "login.oidc.failure" // a single sign-on refused
	AuditLogout          = "logout"
	AuditTwoFactorOK     = "login.2fa.success"
	AuditTwoFactorFail   = "login.2fa.failure"
	AuditRecoveryUsed    = "login.recovery_code"
	AuditTwoFactorEnable = "2fa.enable"
	AuditTwoFactorOff    = "2fa.disable"
	AuditTwoFactorReset  = "2fa.reset" // by an admin or the CLI
	AuditPasswordChange  = "password.change"
	AuditSessionRevoke   = "session.revoke"
	AuditSessionsRevoke  = "session.revoke_others"
	AuditAPIAuthFailure  = "api.auth.failure"
	AuditUserCreate      = "user.create"
	AuditUserRole        = "user.role"
	AuditUserDisable     = "user.disable"
	AuditUserEnable      = "user.enable"
	AuditTokenCreate     = "token.create"
	AuditTokenRevoke     = "token.revoke"
	AuditReportView      = "report.view"
	AuditReportStatus    = "report.status"
	AuditRawDownload     = "report.raw.download"
	AuditAttachment      = "attachment.download"
	AuditKeyGenerate     = "key.generate"
	AuditKeyImport       = "key.import"
	AuditKeyExport       = "key.export"
	AuditKeyRotate       = "key.rotate"
	AuditKeySetPrimary   = "key.set_primary"
	AuditKeyRetire       = "key.retire"
	AuditSettingsChange  = "settings.change"
	AuditAuditExport     = "audit.export"
	// The conversation with researchers (issue 5).
	AuditReply           = "report.reply"        // a staff reply queued
	AuditCreditOffer     = "report.credit_offer" // credit offered (again)
	AuditAdvisoryTitle   = "report.advisory_title"
	AuditCreditChoice    = "credit.choice"           // the researcher chose (actor: researcher)
	AuditCreditRevoke    = "credit.revoke"           // the researcher withdrew consent
	AuditMailRetry       = "mail.retry"              // a failed mail queued again
	AuditWebSubmission   = "report.web_submission"   // a report sent through the web form
	AuditResearcherReply = "report.researcher_reply" // a researcher's reply joined a report

	// The triage UI (issue 14).
	AuditResponseCreate    = "response.create" // a canned response added
	AuditResponseUpdate    = "response.update"
	AuditResponseDelete    = "response.delete"
	AuditQuarantineAdd     = "quarantine.add"     // a sender quarantined
	AuditQuarantineRelease = "quarantine.release" // released: held reports to the board
	AuditPolicyChange      = "settings.policy"    // the public policy page's text
	AuditBrandingChange    = "settings.branding"  // organisation name and logo
)

// Actor names for events no signed-in user caused.
const (
	ActorCLI    = "cli"
	ActorSystem = "system"
	// ActorResearcher: the researcher, through a credit or status link.
	ActorResearcher = "researcher"
)

// Bounds on what one audit event stores; longer values are cut.
const (
	MaxAuditAction = 64
	MaxAuditTarget = 256
	MaxAuditDetail = 4096
	MaxAuditField  = 256 // actor email, remote address, user agent
)

// ValidAuditAction reports whether s is a plausible action: 1 to
// MaxAuditAction bytes of lower-case letters, digits, '_' and '.', not
// starting or ending with '.'.
func ValidAuditAction(s string) bool {
	if s == "" || len(s) > MaxAuditAction || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// AuditFilter selects audit events, newest first. Zero fields select all.
type AuditFilter struct {
	Since    time.Time // events at or after
	Until    time.Time // events before
	Actor    string    // actor email, exact (case-insensitive)
	Action   string    // exact action, or a prefix ending in '.' ("login." for every sign-in event)
	BeforeID int64     // events with a smaller ID: the next page after the last one shown
	Limit    int       // at most this many; 0 means the store's default
}
