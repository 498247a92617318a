package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// UseFlushInterval is how often a UseRecorder writes the uses it holds:
// last-use times are coarse, to about this much.
const UseFlushInterval = time.Minute

// maxPendingUses bounds the sessions and the tokens a UseRecorder holds
// between two writes; past it, uses of further ones are dropped until the
// next write (they are only "last used" times).
const maxPendingUses = 10000

// UseStore is what a UseRecorder writes to; db.DB implements it.
type UseStore interface {
	// RecordUses stores last uses (id → use) of API tokens and sessions
	// in one write; a time only moves forward.
	RecordUses(ctx context.Context, tokens, sessions map[int64]triage.Use) error
}

// UseRecorder keeps the last use of each API token and session in memory
// and writes them in the background (Run), at most once a
// UseFlushInterval. No request ever writes its own use: reads keep
// answering while the database is locked or the disk is full. A failed
// write is logged and its uses are kept for the next try.
type UseRecorder struct {
	store UseStore
	log   *slog.Logger

	mu       sync.Mutex
	tokens   map[int64]triage.Use
	sessions map[int64]triage.Use
	dropped  bool // a use was dropped since the last write: logged once
}

// NewUseRecorder returns a recorder writing to store; log may be nil.
func NewUseRecorder(store UseStore, log *slog.Logger) *UseRecorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &UseRecorder{store: store, log: log, tokens: map[int64]triage.Use{}, sessions: map[int64]triage.Use{}}
}

// note records a use of id in m. It never blocks on I/O.
func (u *UseRecorder) note(m map[int64]triage.Use, id int64, use triage.Use) {
	if old, ok := m[id]; ok {
		if use.At.After(old.At) {
			m[id] = use
		}
		return
	}
	if len(m) >= maxPendingUses {
		u.dropped = true
		return
	}
	m[id] = use
}

// TokenUsed records that API token id was used at at from addr.
func (u *UseRecorder) TokenUsed(id int64, at time.Time, addr string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.note(u.tokens, id, triage.Use{At: at.UTC(), Addr: addr})
}

// SessionUsed records that session id was used at at from addr.
func (u *UseRecorder) SessionUsed(id int64, at time.Time, addr string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.note(u.sessions, id, triage.Use{At: at.UTC(), Addr: addr})
}

// pendingToken and pendingSession return the use of id not yet written
// (ok false if none), so that pages show it before it is written.
func (u *UseRecorder) pendingToken(id int64) (triage.Use, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	use, ok := u.tokens[id]
	return use, ok
}

func (u *UseRecorder) pendingSession(id int64) (triage.Use, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	use, ok := u.sessions[id]
	return use, ok
}

// Flush writes the uses held now. On failure they are kept (unless newer
// ones came in meanwhile) for the next Flush, and the error is returned.
func (u *UseRecorder) Flush(ctx context.Context) error {
	u.mu.Lock()
	tokens, sessions, dropped := u.tokens, u.sessions, u.dropped
	u.tokens, u.sessions, u.dropped = map[int64]triage.Use{}, map[int64]triage.Use{}, false
	u.mu.Unlock()
	if dropped {
		u.log.WarnContext(ctx, "too many sessions and API tokens in use at once: some last-use times were not recorded", "limit", maxPendingUses)
	}
	err := u.store.RecordUses(ctx, tokens, sessions)
	if err == nil {
		return nil
	}
	u.mu.Lock()
	for id, use := range tokens {
		u.note(u.tokens, id, use)
	}
	for id, use := range sessions {
		u.note(u.sessions, id, use)
	}
	u.mu.Unlock()
	return err
}

// Run writes the uses every UseFlushInterval until ctx ends, then once
// more (with a few seconds to do it). Failures are logged and retried at
// the next tick.
func (u *UseRecorder) Run(ctx context.Context) {
	t := time.NewTicker(UseFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := u.Flush(fctx); err != nil {
				u.log.Warn("last uses of sessions and API tokens not recorded at shutdown", "err", err)
			}
			return
		case <-t.C:
			if err := u.Flush(ctx); err != nil && ctx.Err() == nil {
				u.log.WarnContext(ctx, "record last uses of sessions and API tokens (will retry)", "err", err)
			}
		}
	}
}
