package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEverySetting keeps the README's configuration table
// complete: every flag and its environment variable must be in it.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	for _, s := range c.settings() {
		row := "| `-" + s.flag + "` | `" + s.env + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row for -%s / %s", s.flag, s.env)
		}
	}
}
