package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEverySetting keeps the manual's configuration table
// (docs/configuration.md, linked from the README) complete: every flag
// and its environment variable must be in it.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	for _, s := range c.settings() {
		row := "| `-" + s.flag + "` | `" + s.env + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("docs/configuration.md has no row for -%s / %s", s.flag, s.env)
		}
	}
}
