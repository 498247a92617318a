package triage

import (
	"slices"
	"strings"
	"time"
)

// The junk lane. An admin quarantines a sender — an address, a whole
// domain, or an OpenPGP key by fingerprint — with a QuarantineRule. New
// mail from them is filed held (Report.Quarantine): off the board, in
// the quarantine view, with no acknowledgement sent and no SLA clock
// running. Releasing the rule moves its reports to the board and sends
// the acknowledgement they were held with; the time held counts as a
// pause, so their clocks start at the release.

// QuarantineKind says what a rule matches.
type QuarantineKind string

const (
	QuarantineAddress     QuarantineKind = "address"     // the sender's address, exactly (case-insensitive)
	QuarantineDomain      QuarantineKind = "domain"      // the address's domain and its subdomains
	QuarantineFingerprint QuarantineKind = "fingerprint" // a signature by that key
)

// QuarantineRule holds the new mail of one sender.
type QuarantineRule struct {
	ID        int64
	Kind      QuarantineKind
	Value     string // lower-case address or domain; upper-case hex fingerprint
	Note      string // why, for the other admins
	CreatedAt time.Time
	CreatedBy string // email of the admin
	Held      int    // reports it holds now; filled in by the store
}

// MaxQuarantineRules bounds the active rules (each new report is checked
// against all of them); MaxQuarantineNote a rule's note, in bytes.
const (
	MaxQuarantineRules = 1000
	MaxQuarantineNote  = 500
)

// ParseQuarantineRule checks and normalizes a rule of kind for value:
// an address as ValidAddress takes it, a domain name (an address's part
// after @ is taken too), or a v4 or v5 fingerprint (40 or 64 hex digits,
// spaces ignored). EINVALID says what is wrong.
func ParseQuarantineRule(kind, value, note string) (QuarantineRule, error) {
	q := QuarantineRule{Kind: QuarantineKind(strings.TrimSpace(kind)), Note: strings.TrimSpace(note)}
	value = strings.TrimSpace(value)
	switch q.Kind {
	case QuarantineAddress:
		a, err := ValidAddress(value)
		if err != nil {
			return q, Errorf(EINVALID, "address: %q is not an email address", cut(value, 60))
		}
		q.Value = strings.ToLower(a)
	case QuarantineDomain:
		if i := strings.LastIndexByte(value, '@'); i >= 0 {
			value = value[i+1:]
		}
		d := strings.ToLower(strings.TrimSuffix(value, "."))
		if !validDomain(d) {
			return q, Errorf(EINVALID, "domain: %q is not a domain name", cut(value, 60))
		}
		q.Value = d
	case QuarantineFingerprint:
		f := strings.ToUpper(strings.Join(strings.Fields(value), ""))
		if (len(f) != 40 && len(f) != 64) || strings.ContainsFunc(f, func(c rune) bool { return !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') }) {
			return q, Errorf(EINVALID, "fingerprint: want 40 or 64 hexadecimal digits")
		}
		q.Value = f
	default:
		return q, Errorf(EINVALID, "kind must be address, domain or fingerprint")
	}
	if len(q.Note) > MaxQuarantineNote || strings.ContainsFunc(q.Note, func(c rune) bool { return c < 0x20 && c != '\n' || c == 0x7f }) {
		return q, Errorf(EINVALID, "note: at most %d bytes of text", MaxQuarantineNote)
	}
	return q, nil
}

// validDomain reports whether d is a plausible host name: dot-separated
// labels of letters, digits and hyphens, at most 253 bytes, and at least
// two labels (quarantining a whole top-level domain is not a sender).
func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Matches reports whether r comes from the sender q names.
func (q *QuarantineRule) Matches(r *Report) bool {
	switch q.Kind {
	case QuarantineAddress:
		return strings.EqualFold(r.ResearcherEmail, q.Value)
	case QuarantineDomain:
		i := strings.LastIndexByte(r.ResearcherEmail, '@')
		if i < 0 {
			return false
		}
		d := strings.ToLower(r.ResearcherEmail[i+1:])
		return d == q.Value || strings.HasSuffix(d, "."+q.Value)
	case QuarantineFingerprint:
		if strings.EqualFold(r.Signature.Fingerprint, q.Value) {
			return true
		}
		return slices.ContainsFunc(r.Signatures, func(s Signature) bool { return strings.EqualFold(s.Fingerprint, q.Value) })
	}
	return false
}

// MatchQuarantine returns the first of rules that holds r, or nil.
func MatchQuarantine(rules []QuarantineRule, r *Report) *QuarantineRule {
	for i := range rules {
		if rules[i].Matches(r) {
			return &rules[i]
		}
	}
	return nil
}

// Hold puts r in quarantine under rule at now: off the board, its clocks
// stopped while it is held. It returns the event to record.
func (r *Report) Hold(rule int64, actor int64, now time.Time) Event {
	now = now.UTC()
	r.Quarantine = rule
	if r.Timeline.HeldAt.IsZero() {
		r.Timeline.HeldAt = now
	}
	return Event{ReportID: r.ID, At: now, ActorID: actor, Kind: EventHeld, To: userRef(rule)}
}

// Release takes r out of quarantine at now: the time it was held counts
// as a pause, so its clocks go on from where they were (a report filed
// held starts them now). It returns the event to record.
func (r *Report) Release(actor int64, now time.Time) Event {
	now = now.UTC()
	t := &r.Timeline
	// A needs-info pause still open that began before the hold covers it
	// already (and must stay the last, open one).
	coveredByOpen := t.Paused() && !t.Pauses[len(t.Pauses)-1].Start.After(t.HeldAt)
	if !t.HeldAt.IsZero() && !coveredByOpen {
		p := Pause{Start: t.HeldAt, End: now}
		i, _ := slices.BinarySearchFunc(t.Pauses, p, func(a, b Pause) int { return a.Start.Compare(b.Start) })
		t.Pauses = slices.Insert(slices.Clone(t.Pauses), i, p)
	}
	from := userRef(r.Quarantine)
	t.HeldAt, r.Quarantine = time.Time{}, 0
	return Event{ReportID: r.ID, At: now, ActorID: actor, Kind: EventReleased, From: from}
}

// Held reports whether r is in quarantine.
func (r *Report) Held() bool { return r.Quarantine != 0 }

// SenderHistory is a sender's other reports, for the report page: by the
// same address, and signed by the same key. Only ID, TrackingID, Title,
// Status, ReceivedAt and Quarantine are set.
type SenderHistory struct {
	ByAddress, ByKey             []*Report // newest first, at most as many as asked
	AddressTotal, KeyTotal       int       // how many there are in all
	AddressOutcomes, KeyOutcomes map[Status]int
}
