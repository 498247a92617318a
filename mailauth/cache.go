package mailauth

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Cache is a Resolver that asks its resolver once for the questions
// asked at the same time, and remembers the answers for a while: a
// burst of mail from one domain asks for its SPF record once, not once
// per message. Without it, a hundred messages being filed at once sent
// a hundred identical queries, which a resolver may drop (each then
// waits out its timeout). Answers, "no such name" included, are kept
// for TTL; other failures (a timeout, a server failure) for FailTTL, so
// that a burst does not wait for a dead server message after message.
// A lookup that ends because its caller's context did is not kept.
type Cache struct {
	r       Resolver
	ttl     time.Duration
	failTTL time.Duration
	now     func() time.Time

	mu sync.Mutex
	m  map[question]*answer
}

// maxCached bounds the answers a Cache keeps.
const maxCached = 10_000

// NewCache returns a Cache over r keeping answers for ttl and failures
// for failTTL. now is the clock (nil: time.Now).
func NewCache(r Resolver, ttl, failTTL time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{r: r, ttl: ttl, failTTL: failTTL, now: now, m: map[question]*answer{}}
}

type question struct{ kind, network, name string }

type answer struct {
	done    chan struct{} // closed once the fields below are set
	txt     []string
	mx      []*net.MX
	ips     []net.IP
	err     error
	expires time.Time
}

// LookupTXT implements Resolver.
func (c *Cache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	a, err := c.ask(ctx, question{"txt", "", name}, func(ctx context.Context, a *answer) {
		a.txt, a.err = c.r.LookupTXT(ctx, name)
	})
	if err != nil {
		return nil, err
	}
	return a.txt, a.err
}

// LookupMX implements Resolver.
func (c *Cache) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	a, err := c.ask(ctx, question{"mx", "", name}, func(ctx context.Context, a *answer) {
		a.mx, a.err = c.r.LookupMX(ctx, name)
	})
	if err != nil {
		return nil, err
	}
	return a.mx, a.err
}

// LookupIP implements Resolver.
func (c *Cache) LookupIP(ctx context.Context, network, host string) ([]net.IP, error) {
	a, err := c.ask(ctx, question{"ip", network, host}, func(ctx context.Context, a *answer) {
		a.ips, a.err = c.r.LookupIP(ctx, network, host)
	})
	if err != nil {
		return nil, err
	}
	return a.ips, a.err
}

// ask returns the answer to q: a kept one, the one being looked up, or
// one it looks up with lookup. The error is ctx's, when it ends first.
func (c *Cache) ask(ctx context.Context, q question, lookup func(context.Context, *answer)) (*answer, error) {
	c.mu.Lock()
	a, ok := c.m[q]
	if ok {
		select {
		case <-a.done:
			if c.now().After(a.expires) {
				ok = false
			}
		default: // being looked up
		}
	}
	if !ok {
		c.prune()
		a = &answer{done: make(chan struct{})}
		c.m[q] = a
		c.mu.Unlock()
		lookup(ctx, a)
		ttl := c.ttl
		var dnsErr *net.DNSError
		if a.err != nil && !(errors.As(a.err, &dnsErr) && dnsErr.IsNotFound) {
			ttl = c.failTTL
		}
		a.expires = c.now().Add(ttl)
		close(a.done)
		if a.err != nil && ctx.Err() != nil {
			c.mu.Lock()
			if c.m[q] == a {
				delete(c.m, q) // our caller gave up: not an answer
			}
			c.mu.Unlock()
		}
		return a, nil
	}
	c.mu.Unlock()
	select {
	case <-a.done:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// prune drops expired answers once the cache is full, and everything
// looked up already when that is not enough. c.mu is held.
func (c *Cache) prune() {
	if len(c.m) < maxCached {
		return
	}
	now := c.now()
	for q, a := range c.m {
		select {
		case <-a.done:
			if now.After(a.expires) || len(c.m) >= maxCached {
				delete(c.m, q)
			}
		default:
		}
	}
}
