package web

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/secinbox/secinbox/triage"
)

// Rate limits on sign-in and API authentication. Each is a token bucket
// (golang.org/x/time/rate): burst tries at once, then one more every
// interval. The per-IP limits count every attempt; the per-account ones
// count failures only, so a colleague's typos cannot lock anyone out for
// long, and guessing a password or a code stays slow whatever the number
// of addresses an attacker has.
var (
	// Every POST /login and /login/2fa from one address (an IPv6 /64).
	limitLoginIP = limit{burst: 20, every: 3 * time.Second}
	// Wrong passwords for one email, whether or not it is a user.
	limitLoginAccount = limit{burst: 5, every: time.Minute}
	// Wrong codes for one user. A 6-digit code has 3 valid values in a
	// million (one step of clock skew either side): 96 tries a day.
	limitTwoFactor = limit{burst: 5, every: 15 * time.Minute}
	// Wrong or unknown bearer tokens from one address.
	limitAPIAuth = limit{burst: 20, every: 3 * time.Second}
	// Unknown link tokens (/credit/…, /status/…) from one address: the
	// tokens are unguessable, this keeps trying them expensive too.
	limitLinks = limit{burst: 20, every: 3 * time.Second}
)

// limiterCapacity bounds the keys one limiter remembers, so that a flood
// of addresses or emails cannot exhaust memory.
const limiterCapacity = 10000

// limit is a token bucket's shape.
type limit struct {
	burst int
	every time.Duration
}

// limiter is a set of token buckets, one per key (an address, an email),
// with a bounded number of keys.
type limiter struct {
	limit
	capacity int

	mu       sync.Mutex
	buckets  map[string]*bucket
	overflow *rate.Limiter // shared by new keys while the map is full
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(l limit, capacity int) *limiter {
	return &limiter{
		limit:    l,
		capacity: capacity,
		buckets:  make(map[string]*bucket),
		overflow: rate.NewLimiter(rate.Every(l.every), l.burst),
	}
}

// idle is how long a bucket takes to fill up again: after that it is as
// good as a new one and can be forgotten.
func (l *limiter) idle() time.Duration { return time.Duration(l.burst) * l.every }

// get returns key's bucket, creating it. When the map is full it first
// forgets idle buckets; if it is still full, new keys share one overflow
// bucket: under a flood of new addresses they are limited together
// rather than remembered one by one.
func (l *limiter) get(key string, now time.Time) *rate.Limiter {
	if b, ok := l.buckets[key]; ok {
		b.seen = now
		return b.lim
	}
	if len(l.buckets) >= l.capacity {
		for k, b := range l.buckets {
			if now.Sub(b.seen) >= l.idle() {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= l.capacity {
			return l.overflow
		}
	}
	b := &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst), seen: now}
	l.buckets[key] = b
	return b.lim
}

// wait returns how long key must wait before its next try at now, 0 if
// it may try now. It takes no token.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.get(key, now)
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(l.every)))
}

// take uses one of key's tokens at now and returns 0, or, when none is
// left, takes nothing and returns how long to wait.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.get(key, now).ReserveN(now, 1)
	if !r.OK() {
		return l.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// size is how many keys l remembers.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limiters are the server's rate limiters.
type limiters struct {
	loginIP, loginAccount, twoFactor, apiAuth *limiter
	links                                     *limiter // unknown credit and status link tokens
}

func newLimiters() *limiters {
	return &limiters{
		loginIP:      newLimiter(limitLoginIP, limiterCapacity),
		loginAccount: newLimiter(limitLoginAccount, limiterCapacity),
		twoFactor:    newLimiter(limitTwoFactor, limiterCapacity),
		apiAuth:      newLimiter(limitAPIAuth, limiterCapacity),
		links:        newLimiter(limitLinks, limiterCapacity),
	}
}

// ipKey is the rate-limit key of r's client: its IPv4 address, or the
// /64 of its IPv6 address (one host usually has a whole /64).
func ipKey(r *http.Request) string {
	host := clientIP(r)
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// accountLimitKey is the key of an email (a user's or not) in the
// limits that count wrong passwords.
func accountLimitKey(email string) string { return "e:" + strings.ToLower(email) }

// codeLimitKey is the key of a user in the limit that counts wrong
// two-factor codes.
func codeLimitKey(userID int64) string { return "u:" + itoa(userID) }

// limitedError is a refusal by a rate limiter; answer it with tooMany.
type limitedError struct{ wait time.Duration }

func (e *limitedError) Error() string { return "web: rate limited for " + e.wait.String() }

// tooMany answers r 429 Too Many Requests with Retry-After (whole
// seconds, rounded up, at least 1).
func (s *server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	s.acct.limited.Add(1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.Error(w, r, triage.Errorf(triage.ETOOMANY, "Too many attempts. Try again in %s.", waitText(secs)))
}

// waitText is secs as "1 second", "40 seconds", "3 minutes".
func waitText(secs int) string {
	switch {
	case secs == 1:
		return "1 second"
	case secs < 120:
		return strconv.Itoa(secs) + " seconds"
	}
	return strconv.Itoa((secs+59)/60) + " minutes"
}
