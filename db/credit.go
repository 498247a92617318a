package db

// Owned by the credit/hall-of-fame/web-submission work (issue 5). Stubs
// until implemented.

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func (db *DB) OfferCredit(ctx context.Context, c *triage.Credit, nonce string, tokenHash []byte, mail *triage.OutMail, by triage.Actor) error {
	return errTODO
}
func (db *DB) Credit(ctx context.Context, reportID int64) (*triage.Credit, error) {
	return nil, errTODO
}
func (db *DB) CreditByTokenHash(ctx context.Context, hash []byte) (*triage.Credit, error) {
	return nil, errTODO
}
func (db *DB) CreditLink(ctx context.Context, reportID int64) (string, *triage.Credit, error) {
	return "", nil, errTODO
}
func (db *DB) ChooseCredit(ctx context.Context, reportID int64, choice triage.CreditChoice, name, link string, now time.Time) error {
	return errTODO
}
func (db *DB) RevokeCredit(ctx context.Context, reportID int64, now time.Time) error { return errTODO }
func (db *DB) SetAdvisoryTitle(ctx context.Context, reportID int64, title string, by triage.Actor) error {
	return errTODO
}
func (db *DB) HallOfFame(ctx context.Context) (*triage.HallOfFame, error) { return nil, errTODO }
func (db *DB) AddWebSubmission(ctx context.Context, raw *triage.RawMessage, nonce string, tokenHash []byte) error {
	return errTODO
}
func (db *DB) StatusLink(ctx context.Context, hash []byte) (int64, int64, error) {
	return 0, 0, errTODO
}
func (db *DB) StatusLinkNonce(ctx context.Context, rawID int64) (string, error) { return "", errTODO }
