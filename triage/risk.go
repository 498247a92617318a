package triage

import (
	"math"
	"time"
)

// Risk is a report's place on the board, from Rank.
type Risk struct {
	// Tier: 3 a clock is breached, 2 a clock is due within DueSoon,
	// 1 open, 0 closed (or disclosed).
	Tier int
	// Points is the severity in tenths of a CVSS point, 0–100 (SeverityPoints).
	Points int
	// NextDue is the earliest due time of the clocks still counting down
	// (SLA.NextDue); zero if none is.
	NextDue time.Time
}

// Value is the risk rank as one number, Tier×1000 + Points: higher is
// more urgent. Reports with the same value are ordered by NextDue.
func (r Risk) Value() int { return r.Tier*1000 + r.Points }

// Rank is the board's order, the one place it is defined. Reports sort
// by, in turn:
//
//  1. tier, highest first: 3 when a clock is breached (nextDue ≤ now),
//     2 when one is due within 2 h (nextDue ≤ now + DueSoon), 1 for any
//     other open report, 0 for closed and disclosed ones;
//  2. severity points, highest first: the CVSS score × 10 when there is a
//     vector; without one the lowest score of the severity's band
//     (critical 90, high 70, medium 40, low 1, none 0); an unscored
//     report counts as medium (40) until someone assesses it, because
//     unknown is not safe;
//  3. nextDue, earliest first (least time left, the most overdue first);
//     reports with no clock counting down come after those with one;
//  4. (in stores) the newest report first.
//
// risk_rank = tier × 1000 + points; the store computes the same order in
// SQL from the stored status, points and next due time (db.Board), and a
// test holds the two together.
func Rank(closed bool, points int, nextDue, now time.Time) Risk {
	r := Risk{Tier: 1, Points: points, NextDue: nextDue}
	switch {
	case closed:
		r.Tier = 0
	case nextDue.IsZero():
	case !now.Before(nextDue):
		r.Tier = 3
	case nextDue.Sub(now) <= DueSoon:
		r.Tier = 2
	}
	return r
}

// Compare orders risks as the board does: negative when a comes first.
func (a Risk) Compare(b Risk) int {
	if a.Tier != b.Tier {
		return b.Tier - a.Tier
	}
	if a.Points != b.Points {
		return b.Points - a.Points
	}
	switch {
	case a.NextDue.Equal(b.NextDue):
		return 0
	case a.NextDue.IsZero():
		return 1
	case b.NextDue.IsZero():
		return -1
	}
	return a.NextDue.Compare(b.NextDue)
}

// SeverityPoints is r's severity as Rank weighs it (see there).
func (r *Report) SeverityPoints() int {
	if r.CVSS.Vector != "" {
		return int(math.Round(r.CVSS.Score * 10))
	}
	switch r.Severity {
	case SeverityCritical:
		return 90
	case SeverityHigh:
		return 70
	case SeverityMedium, SeverityUnscored:
		return 40
	case SeverityLow:
		return 1
	}
	return 0
}

// Risk ranks r under policy p at now.
func (r *Report) Risk(p *SLAPolicy, now time.Time) Risk {
	return Rank(r.Status.Closed(), r.SeverityPoints(), r.Clocks(p, now).NextDue(), now)
}
