package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// cvssMetric is one base metric of the calculator with its values, in
// the order the specification writes them in a vector.
type cvssMetric struct {
	key, label string
	values     [][2]string // value, label
}

var (
	impact   = [][2]string{{"H", "High"}, {"L", "Low"}, {"N", "None"}}
	vector   = [][2]string{{"N", "Network"}, {"A", "Adjacent"}, {"L", "Local"}, {"P", "Physical"}}
	lowHigh  = [][2]string{{"L", "Low"}, {"H", "High"}}
	noneLowH = [][2]string{{"N", "None"}, {"L", "Low"}, {"H", "High"}}
)

// cvssVersions are the calculator's versions and base metrics: CVSS v3.1
// (specification section 2) and v4.0 (section 2, base metrics).
var cvssVersions = []struct {
	version string
	metrics []cvssMetric
}{
	{"3.1", []cvssMetric{
		{"AV", "Attack vector", vector},
		{"AC", "Attack complexity", lowHigh},
		{"PR", "Privileges required", noneLowH},
		{"UI", "User interaction", [][2]string{{"N", "None"}, {"R", "Required"}}},
		{"S", "Scope", [][2]string{{"U", "Unchanged"}, {"C", "Changed"}}},
		{"C", "Confidentiality", impact},
		{"I", "Integrity", impact},
		{"A", "Availability", impact},
	}},
	{"4.0", []cvssMetric{
		{"AV", "Attack vector", vector},
		{"AC", "Attack complexity", lowHigh},
		{"AT", "Attack requirements", [][2]string{{"N", "None"}, {"P", "Present"}}},
		{"PR", "Privileges required", noneLowH},
		{"UI", "User interaction", [][2]string{{"N", "None"}, {"P", "Passive"}, {"A", "Active"}}},
		{"VC", "Confidentiality (vulnerable system)", impact},
		{"VI", "Integrity (vulnerable system)", impact},
		{"VA", "Availability (vulnerable system)", impact},
		{"SC", "Confidentiality (subsequent systems)", impact},
		{"SI", "Integrity (subsequent systems)", impact},
		{"SA", "Availability (subsequent systems)", impact},
	}},
}

// cvssScoreURL is the calculator's scoring endpoint.
const cvssScoreURL = "/cvss/score"

// cvssView is the calculator for a stored vector and the vector field's
// value input (which may differ after a refusal): radio groups checked
// from input's metrics, and the server's score of input.
func cvssView(stored triage.CVSS, input string) templates.CVSSView {
	v := templates.CVSSView{
		Vector:   stored.Vector,
		Version:  "3.1",
		Input:    input,
		Result:   cvssResult(input),
		ScoreURL: cvssScoreURL,
	}
	if stored.Vector != "" {
		v.Score, v.Severity = formatScore(stored.Score), string(stored.Severity())
	}
	metrics := map[string]string{}
	if version, rest, ok := strings.Cut(strings.TrimSpace(input), "/"); ok {
		if strings.HasPrefix(version, "CVSS:") {
			v.Version = strings.TrimPrefix(version, "CVSS:")
		}
		for _, part := range strings.Split(rest, "/") {
			if k, val, ok := strings.Cut(part, ":"); ok {
				metrics[k] = val
			}
		}
	}
	if v.Version != "4.0" {
		v.Version = "3.1"
	}
	for _, ver := range cvssVersions {
		cv := templates.CVSSVersion{Version: ver.version, Prefix: "CVSS:" + ver.version, Active: ver.version == v.Version}
		for _, m := range ver.metrics {
			g := templates.MetricGroup{Key: m.key, Label: m.label}
			for _, val := range m.values {
				g.Values = append(g.Values, templates.MetricValue{
					Value: val[0], Label: val[1], Checked: cv.Active && metrics[m.key] == val[0],
				})
			}
			cv.Groups = append(cv.Groups, g)
		}
		v.Versions = append(v.Versions, cv)
	}
	return v
}

// cvssResult scores vector with the one scorer, triage.ParseCVSS.
func cvssResult(vector string) templates.CVSSResult {
	if strings.TrimSpace(vector) == "" {
		return templates.CVSSResult{Empty: true}
	}
	c, err := triage.ParseCVSS(vector)
	if err != nil {
		return templates.CVSSResult{Error: triage.ErrorMessage(err)}
	}
	return templates.CVSSResult{Vector: c.Vector, Score: formatScore(c.Score), Severity: string(c.Severity())}
}

func formatScore(score float64) string { return strconv.FormatFloat(score, 'f', 1, 64) }

// cvssScore answers the calculator: ?vector= scored, as the fragment the
// page shows live. An invalid vector is 422 with the reason.
func (s *server) cvssScore(w http.ResponseWriter, r *http.Request) {
	res := cvssResult(r.URL.Query().Get("vector"))
	status := http.StatusOK
	if res.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, templates.CVSSScore(res))
}
