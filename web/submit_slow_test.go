package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// loopback returns a dialer whose connections come from ip, one of the
// 127/8 addresses Linux answers on the loopback interface: the server
// sees a distinct client address.
func loopback(ip string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
}

// multipartBody encodes fields as the form would post them.
func multipartBody(t *testing.T, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// slowUpload is a POST /report over a raw connection that sends its
// headers with Expect: 100-continue, so that the server says when the
// handler starts reading the body, then trickles the body a byte at a
// time.
type slowUpload struct {
	conn net.Conn
	br   *bufio.Reader
	stop chan struct{}
	wg   sync.WaitGroup
}

// startSlowUpload sends the request's headers from ip and returns the
// upload with the server's first answer: "100" when the handler reads
// the body (the upload holds a slot), or the final status line.
func startSlowUpload(t *testing.T, addr, ip string, body []byte, ctype string) (*slowUpload, string) {
	t.Helper()
	conn, err := loopback(ip).Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	u := &slowUpload{conn: conn, br: bufio.NewReader(conn), stop: make(chan struct{})}
	t.Cleanup(u.close)
	// A safety net only: every answer below comes sooner.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(conn, "POST /report HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		addr, ctype, len(body))
	status := u.statusLine(t)
	if strings.Contains(status, " 100 ") {
		if _, err := u.br.ReadString('\n'); err != nil { // the blank line ending the interim answer
			t.Fatal(err)
		}
		u.wg.Add(1)
		go u.trickle(body)
		return u, "100"
	}
	return u, status
}

// trickle sends body a byte every 50 ms, far below any sane upload
// rate, until it is stopped or the server closes the connection.
func (u *slowUpload) trickle(body []byte) {
	defer u.wg.Done()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := range body {
		select {
		case <-u.stop:
			return
		case <-tick.C:
		}
		if _, err := u.conn.Write(body[i : i+1]); err != nil {
			return
		}
	}
}

func (u *slowUpload) statusLine(t *testing.T) string {
	t.Helper()
	line, err := u.br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return strings.TrimSpace(line)
}

func (u *slowUpload) close() {
	select {
	case <-u.stop:
	default:
		close(u.stop)
	}
	u.conn.Close()
	u.wg.Wait()
}

// TestSubmit_SlowUploads: slow uploads from one address hold at most
// that address's slots, so a report from another address goes through
// meanwhile; an upload that trickles in is cut off with 408.
func TestSubmit_SlowUploads(t *testing.T) {
	t.Parallel()
	e, key := formEnv(t)
	token := e.formToken()
	e.clock.Set(t0.Add(time.Minute))
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	body, ctype := multipartBody(t, encryptedFields(t, key, token))

	// Four slow uploads from 127.0.0.2: as many as the old global cap.
	var held []*slowUpload
	refused := 0
	for i := range 4 {
		u, first := startSlowUpload(t, addr, "127.0.0.2", body, ctype)
		switch {
		case first == "100":
			held = append(held, u)
		case strings.Contains(first, " 429 "):
			refused++
		default:
			t.Fatalf("slow upload %d: %q", i+1, first)
		}
	}
	if len(held) > 2 || len(held)+refused != 4 {
		t.Errorf("one address holds %d uploads at once (%d refused), want at most 2", len(held), refused)
	}

	// Meanwhile a report from 127.0.0.3 goes through.
	other := &http.Client{Transport: &http.Transport{DialContext: loopback("127.0.0.3").DialContext}, Timeout: time.Minute}
	resp, err := other.Post(e.srv.URL+"/report", ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Report received") {
		t.Errorf("a report from another address while slow uploads run: %d\n%.500s", resp.StatusCode, page)
	}

	// The trickling uploads are cut off.
	for i, u := range held {
		if status := u.statusLine(t); !strings.Contains(status, " 408 ") {
			t.Errorf("trickling upload %d: %q, want 408", i+1, status)
		}
	}
	if n := len(e.pending()); n != 1 {
		t.Errorf("%d raw messages stored, want the one whole report", n)
	}
}
