package db

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// Group commit of raw messages (AddRawMessage). Every SMTP session
// waiting for its 250 needs its message durably committed; one
// transaction per message costs one disk sync each, and the sessions
// queue behind one another for the single write connection. So the
// messages that arrive while a commit is running are committed together
// in the next one: a committer goroutine takes everything queued (up to
// maxRawBatch messages or maxRawBatchBytes), inserts it in one
// transaction and answers every caller once the commit is durable. A
// lone message is committed at once, as before.
const (
	maxRawBatch      = 256
	maxRawBatchBytes = 64 << 20
)

// errClosed is the answer to a message stored after Close.
var errClosed = errors.New("database closed")

// intakeCommitter is the group commit of raw messages. Its zero value is
// ready; the committer starts with the first message.
type intakeCommitter struct {
	// mu is held for reading while a message is queued, and for writing
	// by stop: no message is queued once stop has closed reqs.
	mu     sync.RWMutex
	once   sync.Once
	reqs   chan *rawRequest // nil until the first message
	done   chan struct{}    // closed when the committer has stopped
	shut   bool             // stop was called
	closed bool             // reqs is closed
	// held is how many messages the committer has taken from reqs and
	// not yet answered (for tests: queued plus held is every caller
	// waiting).
	held atomic.Int32
}

// rawRequest is one AddRawMessage call waiting for its commit.
type rawRequest struct {
	ctx  context.Context
	m    *triage.RawMessage
	done chan error
}

// add queues m, starting the committer with the first message, and waits
// for the commit that stores it. Once queued it waits whatever ctx does:
// the commit may already be under way, and an error then could have the
// sender retry a message that was stored.
func (c *intakeCommitter) add(ctx context.Context, db *DB, m *triage.RawMessage) error {
	req := &rawRequest{ctx: ctx, m: m, done: make(chan error, 1)}
	c.mu.RLock()
	if c.shut {
		c.mu.RUnlock()
		return errClosed
	}
	c.once.Do(func() {
		c.reqs = make(chan *rawRequest, maxRawBatch)
		c.done = make(chan struct{})
		go c.run(db)
	})
	select {
	case c.reqs <- req:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	return <-req.done
}

// stop refuses further messages, lets the committer finish what is
// queued, and waits for it. It may be called more than once.
func (c *intakeCommitter) stop() {
	c.mu.Lock()
	c.shut = true
	started := c.reqs != nil
	if started && !c.closed {
		close(c.reqs)
		c.closed = true
	}
	c.mu.Unlock()
	if started {
		<-c.done
	}
}

// run commits what is queued, batch after batch, until reqs is closed.
func (c *intakeCommitter) run(db *DB) {
	defer close(c.done)
	for first := range c.reqs {
		batch := []*rawRequest{first}
		size := len(first.m.Data)
	Fill:
		for len(batch) < maxRawBatch && size < maxRawBatchBytes {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break Fill
				}
				batch = append(batch, r)
				size += len(r.m.Data)
			default:
				break Fill
			}
		}
		c.held.Store(int32(len(batch)))
		db.commitRaw(batch)
		c.held.Store(0)
	}
}

// commitRaw stores batch in one transaction and answers each request.
// A request whose context ended before its turn is not stored. Any
// failure fails the whole batch: nothing of it is stored.
func (db *DB) commitRaw(batch []*rawRequest) {
	type saved struct {
		received, stored time.Time
		id               int64
	}
	out := make([]saved, len(batch))
	skipped := make([]error, len(batch))
	err := db.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		stored := txNow(ctx)
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				skipped[i] = err
				continue
			}
			m := *r.m
			if m.ReceivedAt.IsZero() {
				m.ReceivedAt = stored
			}
			m.ReceivedAt, m.StoredAt = m.ReceivedAt.UTC(), stored
			id, err := insertRawMessage(ctx, tx, &m)
			if err != nil {
				return err
			}
			out[i] = saved{m.ReceivedAt, stored, id}
		}
		return nil
	})
	for i, r := range batch {
		switch {
		case err != nil:
			r.done <- err
		case skipped[i] != nil:
			r.done <- skipped[i]
		default:
			r.m.ID, r.m.ReceivedAt, r.m.StoredAt = out[i].id, out[i].received, out[i].stored
			r.done <- nil
		}
	}
}
