package inbox

import (
	"strings"

	"github.com/secinbox/secinbox/triage"
)

// The automatic acknowledgement. Anyone can make us write to any address
// by forging a From field, so an acknowledgement goes only where a person
// is likely to read it, and only a few times: never to bounces, automated
// or list mail (that is how mail loops start), never to ourselves, and at
// most a few per recipient and a bounded number in all per hour, so a
// flood of junk cannot turn secinbox into a spam cannon.

// Default acknowledgement limits, per hour.
const (
	DefaultAckPerSender = 3
	DefaultAckPerHour   = 100
)

// ackRecipient decides from the message alone whether it may be
// acknowledged: envelope is the SMTP envelope sender ("" for a bounce),
// from the From address, automated pgp.Message.Automated, list whether
// it has a List-Id (RFC 2919: a mailing list post, which pgp does not
// count as automated), own our addresses. It returns the address to
// write to, or ok false and the reason not to.
func ackRecipient(envelope, from string, automated, list bool, own []string) (to string, ok bool, reason string) {
	if e := strings.TrimSpace(envelope); e == "" || e == "<>" {
		return "", false, "null envelope sender (a bounce)"
	}
	if automated {
		return "", false, "automated or bulk mail"
	}
	if list {
		return "", false, "mailing list mail"
	}
	if strings.TrimSpace(from) == "" {
		return "", false, "no From address"
	}
	to, err := triage.ValidAddress(from)
	if err != nil || !strings.Contains(to[strings.LastIndexByte(to, '@'):], ".") {
		// A domain without a dot (root@localhost) is nobody outside.
		return "", false, "invalid From address"
	}
	// Lower-cased whole: mailboxes ignore case in practice, and the
	// per-recipient limit counts by the exact address, so varying the
	// case must not multiply the mail one mailbox gets.
	to = strings.ToLower(to)
	for _, a := range own {
		if to == strings.ToLower(strings.TrimSpace(a)) {
			return "", false, "From is one of our own addresses"
		}
	}
	if robotLocalPart(to[:strings.LastIndexByte(to, '@')]) {
		return "", false, "From is a mailer-daemon, postmaster or no-reply address"
	}
	return to, true, ""
}

// robotLocalPart tells whether a (lower-cased) local part names a
// mailbox no person reads: MAILER-DAEMON, postmaster, no-reply and
// do-not-reply in their usual spellings, and bounce addresses (VERP:
// "bounces+123", "bounce-abc"). Separators and a +detail are ignored.
func robotLocalPart(local string) bool {
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	local = strings.NewReplacer("-", "", "_", "", ".", "").Replace(local)
	switch local {
	case "mailerdaemon", "postmaster":
		return true
	}
	for _, prefix := range []string{"noreply", "donotreply", "bounce"} {
		if strings.HasPrefix(local, prefix) {
			return true
		}
	}
	return false
}

// ackWithinLimits decides whether one more acknowledgement may go out:
// toRecipient and total are the acknowledgements queued in the last hour
// to this recipient and in all; perRecipient and perHour the limits
// (zero or less: the defaults).
func ackWithinLimits(toRecipient, total, perRecipient, perHour int) (ok bool, reason string) {
	if perRecipient <= 0 {
		perRecipient = DefaultAckPerSender
	}
	if perHour <= 0 {
		perHour = DefaultAckPerHour
	}
	if toRecipient >= perRecipient {
		return false, "per-recipient acknowledgement limit reached"
	}
	if total >= perHour {
		return false, "hourly acknowledgement cap reached"
	}
	return true, ""
}
