package inbox

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The filing pipeline (Processor.Run):
//
//	feeder ──ids──▶ workers (Workers) ──read messages──▶ sender checks ──▶ filer ──batches──▶ store
//
// The feeder pages through the pending messages in the order they were
// committed, from a cursor past the last one it handed out: a message
// committed later always has a higher id (one writer, AUTOINCREMENT), so
// none is missed. When nothing is pending it waits for Wake; every
// RetryInterval, once the pipeline is idle, it starts again from the
// beginning for the messages whose filing failed.
//
// Workers read (decrypt, verify) messages in parallel, one per core by
// default: that is work for a core. The sender checks (SPF, DKIM, DMARC)
// are not: they wait on DNS, so each message's run in a goroutine of its
// own once it is read, and the messages in flight wait for their lookups
// together (with two workers waiting on DNS answering in 20 ms, filing
// would be held to 100 messages a second). The filer puts
// them back in order (tracking ids follow the order of the 250s), makes
// the decisions that depend on what was filed before (threading,
// acknowledgement limits), and commits them in batches: as many as are
// ready, up to maxBatch, in one transaction. So a burst is filed with a
// disk sync per batch, not per report, and a lone message is filed at
// once. At most maxInFlight messages are between the feeder and the
// store, which bounds memory.
//
// Crash safety is the store's: a message is marked filed in the
// transaction that files it, so after a crash each committed message is
// filed exactly once, by the catch-up at start.

const (
	// maxBatch bounds the messages of one filing transaction.
	maxBatch = 128
	// maxBatchBytes bounds the raw bytes of one batch: a few large
	// messages make a batch of their own.
	maxBatchBytes = 32 << 20
	// feedPage is how many pending ids the feeder reads at a time.
	feedPage = 256
)

// Run files pending messages until ctx ends: those pending at start,
// then each as Wake announces it, and every RetryInterval those whose
// filing failed. The messages read when ctx ends are filed first (in
// order, up to the first that was not read); the rest stay pending for
// the next start.
func (p *Processor) Run(ctx context.Context) {
	workers := p.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	maxInFlight := 2*maxBatch + 4*workers
	var (
		jobs    = make(chan *incoming, 2*workers)
		results = make(chan *incoming, 2*workers)
		slots   = make(chan struct{}, maxInFlight) // one per message between feeder and store
		wg      sync.WaitGroup
	)
	// Workers read with a context of their own: a message being read
	// when ctx ends is finished, not half read.
	readCtx, stopReads := context.WithCancel(context.Background())
	defer stopReads()
	for range workers {
		wg.Go(func() {
			for in := range jobs {
				id := in.id
				if r := p.readSafely(readCtx, id); r != nil {
					r.seq = in.seq
					in = r
				}
				// The worker is busy, so wg is above zero: Go may add.
				wg.Go(func() {
					p.checkSender(readCtx, in)
					results <- in
				})
			}
		})
	}
	filed := make(chan struct{})
	go func() {
		p.file(results, slots)
		close(filed)
	}()
	p.feed(ctx, jobs, slots)
	close(jobs)
	wg.Wait()
	close(results)
	<-filed
}

// readSafely is read, with a panic turned into a read failure (the
// message stays pending) rather than a crash of intake.
func (p *Processor) readSafely(ctx context.Context, id int64) (in *incoming) {
	defer func() {
		if v := recover(); v != nil {
			in = &incoming{id: id, err: fmt.Errorf("panic: %v", v)}
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return p.read(rctx, id)
}

// feed hands out the pending messages in order until ctx ends.
func (p *Processor) feed(ctx context.Context, jobs chan<- *incoming, slots chan struct{}) {
	retry := time.NewTicker(p.cfg.RetryInterval)
	defer retry.Stop()
	var (
		cursor   int64  // the last id handed out
		seq      uint64 // the order they were handed out in
		retryDue bool
	)
	for {
		ids, err := p.cfg.Store.PendingRawMessagesAfter(ctx, cursor, feedPage)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.cfg.Logger.Error("intake: list pending messages", "err", err)
			ids = nil
		}
		for _, id := range ids {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			seq++
			jobs <- &incoming{seq: seq, id: id}
			cursor = id
		}
		if len(ids) == feedPage {
			continue // there may be more
		}
		if retryDue && len(slots) == 0 {
			// Idle: whatever is still pending had its filing fail.
			retryDue, cursor = false, 0
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry.C:
			retryDue = true
		}
	}
}

// file is the filer: it takes the workers' results, puts them in order,
// and commits them in batches until results is closed. Each message
// frees its slot once it is committed or given up.
func (p *Processor) file(results <-chan *incoming, slots <-chan struct{}) {
	var (
		next    uint64 = 1
		waiting        = map[uint64]*incoming{}
		b       batch
		open    = true
	)
	flush := func() {
		if len(b.items) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.commit(ctx, &b); err != nil {
			p.cfg.Logger.Error("intake: file messages", "messages", len(b.items), "err", err)
		}
		for range b.items {
			<-slots
		}
		b.reset()
	}
	for open || len(waiting) > 0 {
		// Everything ready in order goes into the batch.
		for {
			in, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			if !p.take(in, &b, flush) {
				<-slots
			}
		}
		if len(b.items) > 0 && open {
			// More results already there make the batch bigger; else
			// it goes now, rather than waiting for a slow message.
			select {
			case in, ok := <-results:
				if ok {
					waiting[in.seq] = in
				} else {
					open = false
				}
				continue
			default:
			}
		}
		flush()
		if !open {
			// The rest came after a message that was not read: it
			// stays pending, as they do, for the next start.
			for range waiting {
				<-slots
			}
			return
		}
		in, ok := <-results
		if !ok {
			open = false
			continue
		}
		waiting[in.seq] = in
	}
	flush()
}

// take adds in, the next message in order, to b, flushing b first when
// it is full or when in may answer a report b is about to file. It
// reports whether in went into b (false: it failed, and stays pending).
func (p *Processor) take(in *incoming, b *batch, flush func()) bool {
	if in.err != nil {
		p.cfg.Logger.Error("intake: file message", "message", in.id, "err", in.err)
		return false
	}
	if len(b.items) >= maxBatch || (len(b.items) > 0 && b.bytes+len(in.raw.Data) > maxBatchBytes) || b.threads(in) {
		flush()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := p.decide(ctx, in, b)
	if err != nil {
		p.cfg.Logger.Error("intake: file message", "message", in.id, "err", err)
		return false
	}
	b.add(in, f)
	return true
}

// batch is the messages the filer commits together.
type batch struct {
	items     []*incoming
	filings   []*triage.Filing
	bytes     int
	messageID map[string]bool // the Message-IDs of the new reports in it
	acks      int             // acknowledgements in it
	acksTo    map[string]int  // by recipient

	// The acknowledgements the store held when the batch began (the
	// filer alone queues them, so they only change by its commits).
	stored     bool
	storedAll  int
	storedTo   map[string]int
	storedFrom time.Time
}

// ackCounts returns the acknowledgements queued since since to to and in
// all, counting b's own: the store is asked once per batch for the total
// and once per recipient.
func (b *batch) ackCounts(ctx context.Context, store ConversationStore, to string, since time.Time) (toRecipient, total int, err error) {
	if !b.stored {
		if b.storedAll, err = store.CountMail(ctx, triage.MailAck, "", since); err != nil {
			return 0, 0, err
		}
		b.stored, b.storedFrom, b.storedTo = true, since, map[string]int{}
	}
	n, ok := b.storedTo[to]
	if !ok {
		if n, err = store.CountMail(ctx, triage.MailAck, to, b.storedFrom); err != nil {
			return 0, 0, err
		}
		b.storedTo[to] = n
	}
	return n + b.acksTo[to], b.storedAll + b.acks, nil
}

func (b *batch) add(in *incoming, f *triage.Filing) {
	b.items = append(b.items, in)
	b.filings = append(b.filings, f)
	if in.raw != nil {
		b.bytes += len(in.raw.Data)
	}
	if f.Report != nil && f.Report.HeaderMessageID != "" {
		if b.messageID == nil {
			b.messageID = map[string]bool{}
		}
		b.messageID[f.Report.HeaderMessageID] = true
	}
	if f.Ack != nil {
		if b.acksTo == nil {
			b.acksTo = map[string]int{}
		}
		b.acks++
		b.acksTo[f.Ack.To]++
	}
}

func (b *batch) reset() { *b = batch{} }

// threads reports whether in names, as the message it answers, a report
// of b: its threading must wait until b is committed.
func (b *batch) threads(in *incoming) bool {
	if in.msg == nil || len(b.messageID) == 0 {
		return false
	}
	return slices.ContainsFunc(threadIDs(in.msg), func(id string) bool { return b.messageID[id] })
}

// commit files b in one transaction and reports each message's outcome.
// The error is the transaction's (nothing was filed).
func (p *Processor) commit(ctx context.Context, b *batch) error {
	if len(b.filings) == 0 {
		return nil
	}
	err := p.cfg.Store.FileMessages(ctx, b.filings)
	at := p.cfg.Now()
	queued := false
	for i, f := range b.filings {
		in := b.items[i]
		switch {
		case err != nil:
			// Logged once by the caller; every message stays pending.
		case f.Err != nil && triage.ErrorCode(f.Err) == triage.ECONFLICT:
			// Filed already (by a catch-up that overlapped).
		case f.Err != nil:
			p.cfg.Logger.Error("intake: file message", "message", in.id, "err", f.Err)
		default:
			if f.KeysErr != nil {
				p.cfg.Logger.Warn("intake: researcher keys refused by the store", "message", in.id, "err", f.KeysErr)
			}
			if p.cfg.Latency != nil && !in.raw.StoredAt.IsZero() {
				p.cfg.Latency.Observe(at.Sub(in.raw.StoredAt))
			}
			// A quarantined sender's acknowledgement is held, not queued
			// (db.fileHeld): nothing for the sender to do.
			queued = queued || (f.Ack != nil && (f.Report == nil || f.Report.Quarantine == 0))
			p.logFiled(in, f)
		}
	}
	if queued && p.cfg.Outbox != nil {
		p.cfg.Outbox.Wake()
	}
	return err
}

// logFiled logs a message filed.
func (p *Processor) logFiled(in *incoming, f *triage.Filing) {
	if m := f.Reply; m != nil {
		p.cfg.Logger.Info("reply filed", "message", in.id, "report", m.ReportID, "conversation_message", m.ID,
			"matched_by", in.how, "encrypted", m.Encrypted, "decrypted", m.Decrypted,
			"signature", m.Signature.Status, "attachments", len(m.Attachments), "researcher_keys", len(f.Keys))
		return
	}
	r := f.Report
	switch {
	case f.Ack == nil:
		p.cfg.Logger.Info("no acknowledgement", "message", in.id, "report", r.ID, "reason", in.noAck)
	case r.Quarantine != 0:
		p.cfg.Logger.Info("acknowledgement held: the sender is in quarantine", "message", in.id, "report", r.ID, "quarantine", r.Quarantine)
	default:
		p.cfg.Logger.Info("acknowledgement queued", "message", in.id, "report", r.ID, "outbox", f.Ack.ID)
	}
	p.cfg.Logger.Info("report filed", "message", in.id, "report", r.ID, "tracking_id", r.TrackingID,
		"status", r.Status, "encrypted", r.Encrypted, "decrypted", r.Decrypted,
		"signature", r.Signature.Status, "signatures", len(r.Signatures), "parts", len(r.Parts),
		"attachments", len(r.Attachments), "researcher_keys", len(f.Keys))
}
