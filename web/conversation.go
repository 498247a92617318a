package web

import "net/http"

func (s *server) reportReply(w http.ResponseWriter, r *http.Request)       { s.notImplemented(w, r) }
func (s *server) reportCreditOffer(w http.ResponseWriter, r *http.Request) { s.notImplemented(w, r) }
func (s *server) outbox(w http.ResponseWriter, r *http.Request)            { s.notImplemented(w, r) }
func (s *server) outboxRetry(w http.ResponseWriter, r *http.Request)       { s.notImplemented(w, r) }
func (s *server) apiMessages(w http.ResponseWriter, r *http.Request)       { s.notImplemented(w, r) }
func (s *server) apiReply(w http.ResponseWriter, r *http.Request)          { s.notImplemented(w, r) }
func (s *server) apiCreditOffer(w http.ResponseWriter, r *http.Request)    { s.notImplemented(w, r) }
func (s *server) apiCredit(w http.ResponseWriter, r *http.Request)         { s.notImplemented(w, r) }
func (s *server) apiOutbox(w http.ResponseWriter, r *http.Request)         { s.notImplemented(w, r) }
func (s *server) apiOutboxRetry(w http.ResponseWriter, r *http.Request)    { s.notImplemented(w, r) }

// notImplemented answers routes whose handlers are being written.
func (s *server) notImplemented(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented yet", http.StatusNotImplemented)
}
