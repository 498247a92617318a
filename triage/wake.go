package triage

// Waker is a background worker that can be told that work is waiting
// for it: intake's processor (a message was committed) and the outbox's
// sender (a mail was queued). Wake never blocks; wakes that come while
// the worker is busy count as one. It is the one way the parts of the
// server tell each other so: without a wake, a worker still finds the
// work at its next poll.
type Waker interface {
	Wake()
}

// WakeFunc is a function as a Waker.
type WakeFunc func()

// Wake calls f.
func (f WakeFunc) Wake() { f() }
