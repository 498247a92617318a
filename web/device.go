package web

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Device cookies (OWASP, "Slow down online guessing attacks with device
// cookies"): after a complete sign-in the browser gets a signed cookie
// naming it as a device its user signed in from. A sign-in that presents
// one for the account being tried is limited only by that device's own
// budget, not by the account's or the address's: someone guessing the
// account's password from elsewhere cannot lock its owner out.

// deviceCookieLifetime is how long a device stays known after its last
// complete sign-in (each one renews it).
const deviceCookieLifetime = 180 * 24 * time.Hour

// deviceCookieVersion starts every device cookie.
const deviceCookieVersion = "d1"

// newDeviceKey derives the key that signs device cookies from the
// server's secret; without one (or a short one) it is random, so that
// devices are known until the process restarts.
func newDeviceKey(secret []byte) []byte {
	if len(secret) >= 32 {
		if key, err := hkdf.Key(sha256.New, secret, nil, "secinbox device cookie v1", 32); err == nil {
			return key
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}

// deviceMAC signs a device id and its issue time for one account.
func (a *accounts) deviceMAC(email, id string, issued int64) string {
	m := hmac.New(sha256.New, a.deviceKey)
	m.Write([]byte(deviceCookieVersion + "\x00" + strings.ToLower(strings.TrimSpace(email)) + "\x00" + id + "\x00" + strconv.FormatInt(issued, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newDeviceCookie returns a device cookie value for the account email,
// for a fresh device id, issued at now.
func (a *accounts) newDeviceCookie(email string, now time.Time) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	issued := now.Unix()
	return deviceCookieVersion + "." + id + "." + strconv.FormatInt(issued, 10) + "." + a.deviceMAC(email, id, issued)
}

// knownDevice returns the id of the device r's device cookie names, if
// the cookie was issued for the account email and is still live at now;
// "" otherwise.
func (s *server) knownDevice(r *http.Request, email string, now time.Time) string {
	c, err := r.Cookie(s.acct.deviceCookie)
	if err != nil || len(c.Value) > maxTokenLen || email == "" {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 || parts[0] != deviceCookieVersion {
		return ""
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return ""
	}
	if age := now.Sub(time.Unix(issued, 0)); age < -time.Hour || age > deviceCookieLifetime {
		return ""
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.acct.deviceMAC(email, parts[1], issued))) {
		return ""
	}
	return parts[1]
}

// setDeviceCookie marks r's browser as a device the user with email
// signed in from, replacing any device cookie it had. SameSite=Strict:
// only our own sign-in form needs it.
func (s *server) setDeviceCookie(w http.ResponseWriter, email string, now time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.acct.deviceCookie,
		Value:    s.acct.newDeviceCookie(email, now),
		Path:     "/",
		MaxAge:   int(deviceCookieLifetime.Seconds()),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteStrictMode,
	})
}
