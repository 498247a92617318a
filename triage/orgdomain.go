package triage

import "strings"

// multiLabelSuffixes are public suffixes of two labels under which
// organisations register (co.uk): a small built-in list, not the Public
// Suffix List. A domain under one of these keeps three labels as its
// organisational domain.
var multiLabelSuffixes = map[string]bool{
	"co.uk": true, "org.uk": true, "ac.uk": true, "gov.uk": true, "me.uk": true, "ltd.uk": true, "plc.uk": true, "net.uk": true,
	"com.au": true, "net.au": true, "org.au": true, "edu.au": true, "gov.au": true,
	"co.nz": true, "org.nz": true, "net.nz": true, "ac.nz": true, "govt.nz": true,
	"co.jp": true, "ne.jp": true, "or.jp": true, "ac.jp": true, "go.jp": true,
	"co.kr": true, "or.kr": true, "co.in": true, "net.in": true, "org.in": true, "ac.in": true,
	"co.za": true, "org.za": true, "com.br": true, "net.br": true, "org.br": true,
	"com.cn": true, "net.cn": true, "org.cn": true, "com.tw": true, "com.hk": true, "com.sg": true,
	"com.mx": true, "com.ar": true, "com.tr": true, "co.il": true, "ac.il": true, "co.id": true,
	"com.my": true, "com.ph": true, "com.vn": true, "com.ua": true, "com.pl": true, "co.at": true, "or.at": true,
}

// OrganizationalDomain is DMARC's organisational domain of d, kept
// simple: the last two labels, or three under a suffix of
// multiLabelSuffixes (so mail.example.co.uk is example.co.uk). It is
// lower-cased, without a final dot; "" for "".
func OrganizationalDomain(d string) string {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	labels := strings.Split(d, ".")
	n := 2
	if len(labels) >= 3 && multiLabelSuffixes[strings.Join(labels[len(labels)-2:], ".")] {
		n = 3
	}
	if len(labels) <= n {
		return d
	}
	return strings.Join(labels[len(labels)-n:], ".")
}
