package web_test

import (
	"golang.org/x/net/html"
)

// attrOf is n's attribute key, "" if it has none.
func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
