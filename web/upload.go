package web

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Uploads to the web form (POST /report) are read whole into memory, so
// how many are read at once is bounded (uploadSlots), and a body that
// trickles in is cut off (paceReader) instead of holding its slot until
// the server's read timeout.

// uploadSlots bounds the uploads read at once: at most max in all and
// perClient from one client (ipKey). It remembers only the clients that
// hold a slot, so at most max of them.
type uploadSlots struct {
	max, perClient int

	mu    sync.Mutex
	total int
	held  map[string]int
}

func newUploadSlots(max, perClient int) *uploadSlots {
	return &uploadSlots{max: max, perClient: perClient, held: make(map[string]int)}
}

// acquire takes a slot for client, or returns false when it holds
// perClient already or all are taken. A true answer must be followed by
// release.
func (u *uploadSlots) acquire(client string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.total >= u.max || u.held[client] >= u.perClient {
		return false
	}
	u.total++
	u.held[client]++
	return true
}

// release gives back a slot client acquired.
func (u *uploadSlots) release(client string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.total--
	if u.held[client] <= 1 {
		delete(u.held, client)
	} else {
		u.held[client]--
	}
}

// slowUploadError is an upload cut off for arriving too slowly; Error
// answers it 408 Request Timeout.
type slowUploadError struct{}

func (slowUploadError) Error() string { return "web: upload slower than the minimum rate: cut off" }

var errSlowUpload error = slowUploadError{}

// paceReader reads a request body that must arrive at minUploadRate
// bytes a second on average after the first uploadGrace: by time t,
// minUploadRate*(t-start-uploadGrace) bytes. Before each read it sets
// the connection's read deadline to the moment the bytes read so far
// stop being enough, so a stalled or trickling client is cut off as
// soon as it falls behind, by the network poller, without a goroutine
// per upload. A read that misses the deadline sets cut and returns
// errSlowUpload. The deadline it sets replaces the server's own
// (http.Server.ReadTimeout), so it never sets one later than that
// timeout after start. Where the connection cannot take deadlines (an
// unusual transport), the body is read without a pace.
type paceReader struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	limit time.Time // zero: none
	n     int64
	cut   bool
	paced bool // a deadline is set
}

// newPaceReader paces r's body from start (the real clock: deadlines
// are wall-clock times).
func newPaceReader(w http.ResponseWriter, r *http.Request, start time.Time) *paceReader {
	p := &paceReader{body: r.Body, rc: http.NewResponseController(w), start: start}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 {
		p.limit = start.Add(srv.ReadTimeout)
	}
	return p
}

func (p *paceReader) Read(b []byte) (int, error) {
	if p.cut {
		return 0, errSlowUpload
	}
	deadline := p.start.Add(uploadGrace + time.Duration(p.n)*time.Second/minUploadRate)
	if !p.limit.IsZero() && deadline.After(p.limit) {
		deadline = p.limit
	}
	p.paced = p.rc.SetReadDeadline(deadline) == nil
	n, err := p.body.Read(b)
	p.n += int64(n)
	switch {
	case err != nil && p.paced && errors.Is(err, os.ErrDeadlineExceeded):
		p.cut = true
		return n, errSlowUpload
	case err != nil:
		// At the end of the body the server starts reading ahead for
		// the next request: a deadline left set would fail that read
		// and cancel the request's context while it is being stored.
		p.finish()
	}
	return n, err
}

func (p *paceReader) Close() error { return p.body.Close() }

// finish clears the read deadline once the body is read (or abandoned);
// a cut upload keeps it, so the server closes the connection.
func (p *paceReader) finish() {
	if p.paced && !p.cut {
		_ = p.rc.SetReadDeadline(time.Time{})
		p.paced = false
	}
}
