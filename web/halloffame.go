package web

import "net/http"

func (s *server) hallOfFameJSON(w http.ResponseWriter, r *http.Request) { s.notImplemented(w, r) }
func (s *server) hallOfFameAtom(w http.ResponseWriter, r *http.Request) { s.notImplemented(w, r) }
func (s *server) creditForm(w http.ResponseWriter, r *http.Request)     { s.notImplemented(w, r) }
func (s *server) creditChoose(w http.ResponseWriter, r *http.Request)   { s.notImplemented(w, r) }
