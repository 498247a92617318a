package certs

import (
	"net"
	"net/http"
)

// Redirect answers plain HTTP: GET and HEAD are sent permanently to the
// same path over HTTPS, on the requested host when it is one of hosts
// (another Host header is not trusted: def), at port httpsPort ("" or
// "443": none); other methods get 400, since their body already went
// over the network in the clear.
func Redirect(hosts map[string]bool, def, httpsPort string) http.Handler {
	def = normalize(def)
	suffix := ""
	if httpsPort != "" && httpsPort != "443" {
		suffix = ":" + httpsPort
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "Use HTTPS.", http.StatusBadRequest)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host = normalize(host); !hosts[host] {
			host = def
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "https://"+host+suffix+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}
