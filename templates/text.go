package templates

import (
	"strconv"

	"github.com/secinbox/secinbox/triage"
)

// Text someone else chose (a report's title, a researcher's name or
// address, a credit name or link, a file name, a key's user ID, what an
// audit event records) is shown as <bdi>{ visible(s) }</bdi>: without
// the invisible characters that could make it display as something else
// (a right-to-left override turns "Invoice ‮fdp.exe" into "Invoice
// exe.pdf"), and isolated, so that right-to-left text in it cannot
// reorder the page's own words around it. Where no element can go
// (attribute values, the page's <title>), visible alone.

// visible is s without invisible characters (triage.StripInvisible).
func visible(s string) string { return triage.StripInvisible(s) }

// itoa is n in decimal, for ids in attributes.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
