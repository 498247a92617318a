package inbox

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener caps concurrent connections in total and per client IP.
// A connection over a cap is answered 421 and closed before go-smtp ever
// sees it. It also keeps the set of open connections so that Shutdown can
// tell idle ones from ones in the middle of a DATA transfer.
type limitListener struct {
	net.Listener
	max, maxPerIP int
	onReject      func(remote string, reason string)

	mu    sync.Mutex
	perIP map[string]int
	conns map[*trackedConn]struct{}
}

func newLimitListener(l net.Listener, max, maxPerIP int, onReject func(string, string)) *limitListener {
	return &limitListener{Listener: l, max: max, maxPerIP: maxPerIP, onReject: onReject,
		perIP: map[string]int{}, conns: map[*trackedConn]struct{}{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		l.mu.Lock()
		reason := ""
		switch {
		case len(l.conns) >= l.max:
			reason = "too many connections"
		case l.perIP[ip] >= l.maxPerIP:
			reason = "too many connections from your address"
		}
		if reason != "" {
			l.mu.Unlock()
			l.onReject(c.RemoteAddr().String(), reason)
			go refuse(c, reason)
			continue
		}
		tc := &trackedConn{Conn: c, l: l, ip: ip}
		l.perIP[ip]++
		l.conns[tc] = struct{}{}
		l.mu.Unlock()
		return tc, nil
	}
}

// refuse answers a connection over the limits with 421 (RFC 5321 §3.8)
// without reading from it.
func refuse(c net.Conn, reason string) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("421 4.7.0 " + reason + ", try again later\r\n"))
	c.Close()
}

// kickIdle makes every connection that is not inside a DATA transfer
// return from its pending read at once; go-smtp then answers it 421 and
// closes it. Used while shutting down.
func (l *limitListener) kickIdle() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if !c.inData.Load() {
			c.SetReadDeadline(now)
		}
	}
}

// closeAll closes every open connection, whatever it is doing.
func (l *limitListener) closeAll() {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (l *limitListener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// trackedConn is an accepted connection that gives its slot back on Close.
type trackedConn struct {
	net.Conn
	l      *limitListener
	ip     string
	inData atomic.Bool
	once   sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		if c.l.perIP[c.ip]--; c.l.perIP[c.ip] <= 0 {
			delete(c.l.perIP, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// tracked finds our trackedConn under what go-smtp holds (a *tls.Conn
// after STARTTLS).
func tracked(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, _ := c.(*trackedConn)
	return t
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
