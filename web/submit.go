package web

import "net/http"

func (s *server) submitForm(w http.ResponseWriter, r *http.Request)  { s.notImplemented(w, r) }
func (s *server) submit(w http.ResponseWriter, r *http.Request)      { s.notImplemented(w, r) }
func (s *server) statusPage(w http.ResponseWriter, r *http.Request)  { s.notImplemented(w, r) }
func (s *server) statusReply(w http.ResponseWriter, r *http.Request) { s.notImplemented(w, r) }
