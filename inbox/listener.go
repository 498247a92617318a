package inbox

import (
	"net"
	"sync"
	"time"
)

// limitListener caps concurrent connections in total and per client IP.
// A connection over a cap is answered 421 and closed before go-smtp ever
// sees it. Every other one is handed to go-smtp wrapped in a guardConn
// (guard.go); the listener keeps the set of them, so that Shutdown can
// drain them and, at the end of its grace, close them.
type limitListener struct {
	net.Listener
	guard         *guardConfig
	max, maxPerIP int
	onReject      func(remote string, reason string)

	mu    sync.Mutex
	perIP map[string]int
	conns map[*guardConn]struct{}
}

func newLimitListener(l net.Listener, guard *guardConfig, max, maxPerIP int, onReject func(string, string)) *limitListener {
	return &limitListener{Listener: l, guard: guard, max: max, maxPerIP: maxPerIP, onReject: onReject,
		perIP: map[string]int{}, conns: map[*guardConn]struct{}{}}
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
		var g *guardConn
		g = newGuardConn(c, l.guard, func() { l.release(g, ip) })
		l.perIP[ip]++
		l.conns[g] = struct{}{}
		l.mu.Unlock()
		return g, nil
	}
}

// release gives the slot of a closed connection back.
func (l *limitListener) release(g *guardConn, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, g)
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

// refuse answers a connection over the limits with 421 (RFC 5321 §3.8)
// without reading from it.
func refuse(c net.Conn, reason string) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("421 4.7.0 " + reason + ", try again later\r\n"))
	c.Close()
}

// drain tells every connection the server is shutting down: those not
// inside a DATA transfer are answered 421 and closed (see guardConn.drain).
func (l *limitListener) drain() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.drain()
	}
}

// closeAll answers every open connection 421 and closes it, whatever it
// is doing: the end of the shutdown grace.
func (l *limitListener) closeAll() {
	l.mu.Lock()
	conns := make([]*guardConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.abort(errShuttingDown) })
	}
	wg.Wait()
}

func (l *limitListener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
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
