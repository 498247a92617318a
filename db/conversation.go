package db

// Owned by the conversation/outbox work (issue 5): messages, outbox,
// threading. Stubs until implemented.

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

var errTODO = triage.Errorf(triage.EINTERNAL, "not implemented yet")

func (db *DB) FileReportAck(ctx context.Context, r *triage.Report, ack *triage.OutMail) error {
	return errTODO
}
func (db *DB) ReportByMessageIDs(ctx context.Context, ids []string) (int64, error) { return 0, errTODO }
func (db *DB) ReportByTrackingID(ctx context.Context, trackingID string) (int64, error) {
	return 0, errTODO
}
func (db *DB) AddIncomingMessage(ctx context.Context, m *triage.Message) error { return errTODO }
func (db *DB) QueueMail(ctx context.Context, m *triage.OutMail) error          { return errTODO }
func (db *DB) CountMail(ctx context.Context, kind triage.MailKind, to string, since time.Time) (int, error) {
	return 0, errTODO
}
func (db *DB) PendingMail(ctx context.Context, now time.Time, limit int) ([]*triage.OutMail, error) {
	return nil, errTODO
}
func (db *DB) MarkMail(ctx context.Context, id int64, a triage.MailAttempt, now time.Time) error {
	return errTODO
}
func (db *DB) Messages(ctx context.Context, reportID int64) ([]*triage.Message, error) {
	return nil, errTODO
}
func (db *DB) AddReply(ctx context.Context, m *triage.Message, mail *triage.OutMail, by triage.Actor) error {
	return errTODO
}
func (db *DB) Outbox(ctx context.Context, f triage.OutboxFilter) ([]*triage.OutMail, error) {
	return nil, errTODO
}
func (db *DB) RetryMail(ctx context.Context, id int64, by triage.Actor, now time.Time) error {
	return errTODO
}
func (db *DB) AddWebReply(ctx context.Context, m *triage.Message) error { return errTODO }
