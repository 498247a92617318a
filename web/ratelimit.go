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
// interval.
//
// Guessing is slowed without locking the owner out: wrong passwords and
// codes count per client address and per address+account, so one
// attacker slows only themselves; they also count per account, so that
// many addresses cannot guess fast either, but only for clients that are
// not a known device of the account (a device cookie, device.go): the
// owner's own browsers are exempt from the per-account and per-address
// limits and have a budget of their own instead. See the README.
var (
	// Every POST /login and /login/2fa from one address (an IPv6 /64).
	limitLoginIP = limit{burst: 20, every: 3 * time.Second}
	// Wrong passwords for one email (a user's or not) from one address.
	limitPasswordAddr = limit{burst: 5, every: time.Minute}
	// Wrong passwords for one email from every client that is not one
	// of its known devices. One address alone cannot spend it (its own
	// limit above refills more slowly).
	limitPasswordAccount = limit{burst: 20, every: 30 * time.Second}
	// Wrong passwords from one known device.
	limitPasswordDevice = limit{burst: 5, every: time.Minute}
	// Wrong two-factor codes for one user from one address. A 6-digit
	// code has 3 valid values in a million (one step of clock skew
	// either side): 96 tries a day.
	limitCodeAddr = limit{burst: 5, every: 15 * time.Minute}
	// Wrong codes for one user from every client that is not one of
	// their known devices.
	limitCodeAccount = limit{burst: 10, every: 15 * time.Minute}
	// Wrong codes from one known device.
	limitCodeDevice = limit{burst: 5, every: 15 * time.Minute}
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
	loginIP                                       *limiter
	passwordAddr, passwordAccount, passwordDevice *limiter
	codeAddr, codeAccount, codeDevice             *limiter
	apiAuth                                       *limiter
	links                                         *limiter // unknown credit and status link tokens
}

func newLimiters() *limiters {
	return &limiters{
		loginIP:         newLimiter(limitLoginIP, limiterCapacity),
		passwordAddr:    newLimiter(limitPasswordAddr, limiterCapacity),
		passwordAccount: newLimiter(limitPasswordAccount, limiterCapacity),
		passwordDevice:  newLimiter(limitPasswordDevice, limiterCapacity),
		codeAddr:        newLimiter(limitCodeAddr, limiterCapacity),
		codeAccount:     newLimiter(limitCodeAccount, limiterCapacity),
		codeDevice:      newLimiter(limitCodeDevice, limiterCapacity),
		apiAuth:         newLimiter(limitAPIAuth, limiterCapacity),
		links:           newLimiter(limitLinks, limiterCapacity),
	}
}

// attempt names who tries to sign in (or to prove who they are) and as
// whom: the keys of the limits it counts against.
type attempt struct {
	addr    string // ipKey of the client
	account string // accountLimitKey (passwords) or codeLimitKey (codes)
	device  string // a known device of the account; "" for any other client
	signIn  bool   // at sign-in: also the per-address and per-account limits
}

func (a attempt) addrKey() string { return a.addr + " " + a.account }

// passwordWait returns how long a must wait before its password is
// checked, 0 if it may be now. At sign-in it takes one of the address's
// tokens, as every attempt counts there.
func (l *limiters) passwordWait(a attempt, now time.Time) time.Duration {
	if a.device != "" {
		return l.passwordDevice.wait(a.device, now)
	}
	wait := l.passwordAddr.wait(a.addrKey(), now)
	if a.signIn {
		wait = max(wait, l.loginIP.take(a.addr, now), l.passwordAccount.wait(a.account, now))
	}
	return wait
}

// passwordFailed counts a wrong password of a.
func (l *limiters) passwordFailed(a attempt, now time.Time) {
	if a.device != "" {
		l.passwordDevice.take(a.device, now)
		return
	}
	l.passwordAddr.take(a.addrKey(), now)
	if a.signIn {
		l.passwordAccount.take(a.account, now)
	}
}

// codeWait and codeFailed are passwordWait and passwordFailed for
// two-factor (and recovery) codes.
func (l *limiters) codeWait(a attempt, now time.Time) time.Duration {
	if a.device != "" {
		return l.codeDevice.wait(a.device, now)
	}
	wait := l.codeAddr.wait(a.addrKey(), now)
	if a.signIn {
		wait = max(wait, l.loginIP.take(a.addr, now), l.codeAccount.wait(a.account, now))
	}
	return wait
}

func (l *limiters) codeFailed(a attempt, now time.Time) {
	if a.device != "" {
		l.codeDevice.take(a.device, now)
		return
	}
	l.codeAddr.take(a.addrKey(), now)
	if a.signIn {
		l.codeAccount.take(a.account, now)
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

// accountLimitKey is the account part of the keys of an email (a user's
// or not) in the limits that count wrong passwords.
func accountLimitKey(email string) string { return "e:" + strings.ToLower(email) }

// codeLimitKey is the account part of the keys of a user in the limits
// that count wrong two-factor codes.
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
