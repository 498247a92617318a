package web

import "testing"

func TestWKDHash(t *testing.T) {
	tests := []struct{ local, want string }{
		// draft-koch-openpgp-webkey-service §3.1 example.
		{"Joe.Doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
		{"joe.doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
		{"security", "t5s8ztdbon8yzntexy6oz5y48etqsnbb"},
	}
	for _, tt := range tests {
		if got := wkdHash(tt.local); got != tt.want {
			t.Errorf("wkdHash(%q) = %q, want %q", tt.local, got, tt.want)
		}
	}
}
