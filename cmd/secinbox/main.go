// Command secinbox runs the security@ inbox: SMTP intake, the triage UI
// and the public pages, on one SQLite file.
package main

func main() {}
