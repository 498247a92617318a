package inbox

// Exported for the external tests (package inbox_test) only.

// SetRelayTLS changes the relay TLS mode of s after NewSender, which
// refuses an unknown mode: TestSender_UnknownTLSMode checks that each
// connection refuses one too, rather than falling back to no TLS.
func SetRelayTLS(s *Sender, mode string) { s.cfg.RelayTLS = mode }

// FeedPage is how many pending messages the processor reads at a time:
// TestProcessor_OverflowDoesNotWaitForTheTimer sends a burst of several.
const FeedPage = feedPage
