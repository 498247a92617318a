// Package templates holds secinbox's templ components. They take view
// models with values already formatted, never database rows.
package templates
