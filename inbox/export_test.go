package inbox

// Exported for the external tests (package inbox_test) only.

// SetRelayTLS changes the relay TLS mode of s after NewSender, which
// refuses an unknown mode: TestSender_UnknownTLSMode checks that each
// connection refuses one too, rather than falling back to no TLS.
func SetRelayTLS(s *Sender, mode string) { s.cfg.RelayTLS = mode }
