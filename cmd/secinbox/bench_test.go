package main

import (
	"fmt"
	"net/smtp"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/pgp"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkSMTPIntake sends BENCH_N (default 2000) reports of about 10 KB,
// each encrypted to the team key, over BENCH_C (default 8) concurrent SMTP
// sessions to a running server, and prints reports/s, p50 and p99 time to
// 250 (from connect to the 250 after DATA), and the server's peak RSS.
// Each report is a fresh connection, as MTAs deliver.
func BenchmarkSMTPIntake(b *testing.B) {
	n, c := envInt("BENCH_N", 2000), envInt("BENCH_C", 8)
	data := b.TempDir()
	p := startProc(b, data, "SECINBOX_SMTP_MAX_CONNS_PER_IP="+strconv.Itoa(2*c))
	keys := teamKeyFrom(b, p)

	// Prepare the messages first: encryption is the researcher's cost.
	body := strings.Repeat("Steps to reproduce: send a crafted request to /api and observe the crash.\n", 100)
	msgs := make([][]byte, n)
	for i := range msgs {
		inner := crlf(fmt.Sprintf("Content-Type: text/plain; charset=utf-8\n\nReport %d\n%s", i, body))
		armored, err := pgp.Encrypt([]byte(inner), keys, nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = []byte(pgpMIME("bench@example.org", fmt.Sprintf("bench %d", i), armored))
	}

	b.ResetTimer()
	for range b.N {
		lat := make([]time.Duration, n)
		next := make(chan int)
		var wg sync.WaitGroup
		var failed sync.Map
		start := time.Now()
		for range c {
			wg.Go(func() {
				for i := range next {
					d, err := send(p.smtpAddr, msgs[i])
					if err != nil {
						failed.Store(i, err)
					}
					lat[i] = d
				}
			})
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		elapsed := time.Since(start)
		failed.Range(func(k, v any) bool { b.Fatalf("message %v: %v", k, v); return false })

		slices.Sort(lat)
		p50, p99 := lat[n/2], lat[n*99/100]
		rss := peakRSS(p.cmd.Process.Pid)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "reports/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		fmt.Printf("SMTP intake: %d reports of %d bytes, %d sessions: %.0f reports/s, time to 250 p50 %v p99 %v, server peak RSS %.1f MiB\n",
			n, len(msgs[0]), c, float64(n)/elapsed.Seconds(), p50.Round(time.Microsecond), p99.Round(time.Microsecond), float64(rss)/(1<<20))
	}
}

// send delivers one message in its own SMTP session and returns the time
// from connecting to the server's 250 for the DATA.
func send(addr string, msg []byte) (time.Duration, error) {
	start := time.Now()
	cl, err := smtp.Dial(addr)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if err := cl.Hello("bench.example"); err != nil {
		return 0, err
	}
	if err := cl.Mail("bench@example.org"); err != nil {
		return 0, err
	}
	if err := cl.Rcpt("security@localhost"); err != nil {
		return 0, err
	}
	w, err := cl.Data()
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(msg); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil { // returns after the 250
		return 0, err
	}
	d := time.Since(start)
	return d, cl.Quit()
}
