package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// BenchmarkFileMessages measures the store's part of filing: reports of
// about 10 KB (a decrypted, signed report with its acknowledgement and
// sender checks, as intake files them) committed in batches of 128, as
// the filing pipeline does in a burst. It prints reports per second and
// the store's time per report; the raw messages are committed before
// the timer starts.
func BenchmarkFileMessages(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "secinbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	words := strings.Fields("the login form reflects the next parameter unescaped so a crafted link runs script in the session of whoever follows it injection deserialization graphql webview")
	var body strings.Builder
	for i := 0; body.Len() < 10_000; i++ {
		body.WriteString(words[(i*7)%len(words)])
		body.WriteByte(' ')
	}
	const batch = 128
	n := b.N * batch
	raws := make([]*triage.RawMessage, n)
	for i := range raws {
		raws[i] = &triage.RawMessage{MailFrom: fmt.Sprintf("r%d@example.org", i%50), Recipients: []string{"security@example.com"},
			Data: []byte(fmt.Sprintf("Subject: report %d\r\n\r\n%s\r\n", i, body.String()))}
		if err := d.AddRawMessage(ctx, raws[i]); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().UTC()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		fs := make([]*triage.Filing, batch)
		for j := range fs {
			m := raws[i*batch+j]
			from := m.MailFrom
			fs[j] = &triage.Filing{
				Report: &triage.Report{MessageID: m.ID, Title: fmt.Sprintf("XSS in the login form %d", i*batch+j),
					ResearcherEmail: from, ReceivedAt: now, Status: triage.StatusNew, Encrypted: true, Decrypted: true,
					Signature: triage.Signature{Status: triage.SignatureGood, Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", KeyID: "89ABCDEF01234567"},
					Body:      body.String(), HeaderMessageID: fmt.Sprintf("<r%d@example.org>", i*batch+j),
					Authentication: triage.Authentication{Checked: true, SPF: "none", DKIM: "none", FromDomain: "example.org"}},
				Ack: &triage.OutMail{Kind: triage.MailAck, To: from, CreatedAt: now,
					HeaderMessageID: fmt.Sprintf("<ack%d@example.com>", i*batch+j)},
			}
		}
		if err := d.FileMessages(ctx, fs); err != nil {
			b.Fatal(err)
		}
		for _, f := range fs {
			if f.Err != nil {
				b.Fatal(f.Err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reports/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/report")
	// CPU time says more than the clock on a machine that is shared.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/report")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
