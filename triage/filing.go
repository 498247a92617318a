package triage

// A Filing is what intake files from one raw message, in one go: a new
// report with the acknowledgement due for it, or a researcher's message
// on an existing report; and the researcher keys the message brought.
// The store files many in one transaction (one disk sync), each on its
// own: one that fails leaves the others filed.
type Filing struct {
	// Report is a new report filed from raw message Report.MessageID,
	// and Ack its acknowledgement (nil: none is due). The store sets the
	// report's ID, tracking id and attachment IDs, and the ack's IDs.
	Report *Report
	Ack    *OutMail
	// Reply, when Report is nil, is a message on report Reply.ReportID
	// filed from raw message Reply.RawMessageID. The store sets its ID.
	Reply *Message
	// Keys are stored first. Keys the store refuses as invalid are left
	// out (KeysErr says why); they do not keep the message from being
	// filed.
	Keys []ResearcherKey

	// Err is set by the store: nil when the message was filed, else why
	// not (ECONFLICT: it was filed already; EINVALID; ENOTFOUND).
	Err error
	// KeysErr is set by the store when it refused Keys (EINVALID).
	KeysErr error
}

// RawMessageID is the raw message f files.
func (f *Filing) RawMessageID() int64 {
	switch {
	case f.Report != nil:
		return f.Report.MessageID
	case f.Reply != nil:
		return f.Reply.RawMessageID
	}
	return 0
}
