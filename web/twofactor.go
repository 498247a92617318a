package web

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// TOTP parameters: what every authenticator app understands (RFC 6238
// defaults: SHA-1, 6 digits, 30 s), with one step of clock skew allowed
// either side.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: totpSkew, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// sealer seals TOTP secrets with AES-256-GCM under a key derived from the
// server's secret, so that a copy of the database alone does not give
// anyone the second factor. The user id is bound in as additional data:
// a sealed secret copied to another user's row does not open.
type sealer struct {
	aead  cipher.AEAD
	keyID [4]byte // which key sealed a blob: a changed server secret is told apart from tampering
}

// sealVersion is the first byte of a sealed blob.
const sealVersion = 1

// errNoSecretKey refuses two-factor enrolment without a server secret.
var errNoSecretKey = triage.Errorf(triage.ECONFLICT, "two-factor sign-in needs the server's secret key, which is not configured")

func newSealer(secret []byte) *sealer {
	if len(secret) < 32 {
		return nil
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "secinbox totp seal v1", 32)
	if err != nil {
		return nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil
	}
	s := &sealer{aead: aead}
	id := sha256.Sum256(append([]byte("secinbox totp key id "), key...))
	copy(s.keyID[:], id[:])
	return s
}

func sealAD(userID int64) []byte {
	return []byte("secinbox totp user " + strconv.FormatInt(userID, 10))
}

// seal returns secret sealed for userID.
func (s *sealer) seal(userID int64, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{sealVersion}, s.keyID[:]...)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, []byte(secret), sealAD(userID))
}

// open returns the secret sealed for userID.
func (s *sealer) open(userID int64, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+4+n || sealed[0] != sealVersion {
		return "", errors.New("web: sealed TOTP secret: unknown format")
	}
	if !bytes.Equal(sealed[1:5], s.keyID[:]) {
		return "", errors.New("web: sealed TOTP secret: sealed under another server secret (was the key passphrase changed?); an admin must reset this user's two-factor sign-in")
	}
	plain, err := s.aead.Open(nil, sealed[5:5+n], sealed[5+n:], sealAD(userID))
	if err != nil {
		return "", fmt.Errorf("web: sealed TOTP secret: %w", err)
	}
	return string(plain), nil
}

// totpStep checks code against secret at now and returns the time step
// it belongs to. Codes are compared in constant time.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != int(otp.DigitsSix) {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// normalizeCode strips what people type around a code: spaces and dashes,
// and folds case (recovery codes are base32).
func normalizeCode(code string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

// isTOTPCode reports whether code (normalized) looks like a 6-digit TOTP
// code rather than a recovery code.
func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes returns triage.RecoveryCodeCount codes of 80 random
// bits each, as shown ("abcd-efgh-ijkl-mnop"), and their hashes.
func newRecoveryCodes() (codes []string, hashes [][]byte) {
	for range triage.RecoveryCodeCount {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		c := strings.ToLower(recoveryEncoding.EncodeToString(b)) // 16 characters
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
		hashes = append(hashes, recoveryHash(c))
	}
	return codes, hashes
}

// recoveryHash is how a normalized recovery code is stored.
func recoveryHash(code string) []byte {
	sum := sha256.Sum256([]byte("secinbox recovery code " + code))
	return sum[:]
}

// checkSecondFactor checks code (a TOTP code or a recovery code) for u at
// now and uses it up: a TOTP time step or a recovery code is good once.
// It returns the audit action for the success, or an EUNAUTHORIZED error
// (ECONFLICT for a replayed TOTP code).
func (s *server) checkSecondFactor(r *http.Request, u *triage.User, code string) (string, error) {
	code = normalizeCode(code)
	if code == "" || len(code) > 64 {
		return "", triage.Errorf(triage.EUNAUTHORIZED, "Wrong code.")
	}
	tf, err := s.store.TwoFactor(r.Context(), u.ID)
	if err != nil {
		return "", err
	}
	if !tf.Enabled() {
		return "", triage.Errorf(triage.EUNAUTHORIZED, "Wrong code.")
	}
	now := s.now()
	if !isTOTPCode(code) {
		err := s.store.UseRecoveryCode(r.Context(), u.ID, recoveryHash(code), now)
		if triage.ErrorCode(err) == triage.ENOTFOUND {
			return "", triage.Errorf(triage.EUNAUTHORIZED, "Wrong code.")
		} else if err != nil {
			return "", err
		}
		return triage.AuditRecoveryUsed, nil
	}
	if s.acct.sealer == nil {
		return "", errNoSecretKey
	}
	secret, err := s.acct.sealer.open(u.ID, tf.Sealed)
	if err != nil {
		return "", err
	}
	step, ok := totpStep(secret, code, now)
	if !ok {
		return "", triage.Errorf(triage.EUNAUTHORIZED, "Wrong code.")
	}
	if step <= tf.LastStep {
		return "", triage.Errorf(triage.ECONFLICT, "This code was already used. Wait for the next one.")
	}
	if err := s.store.UseTOTPStep(r.Context(), u.ID, step); err != nil {
		if triage.ErrorCode(err) == triage.ECONFLICT {
			return "", triage.Errorf(triage.ECONFLICT, "This code was already used. Wait for the next one.")
		}
		return "", err
	}
	return triage.AuditTwoFactorOK, nil
}

// accountTwoFactorStart creates a new TOTP secret for the signed-in user
// and shows the enrolment page. Nothing changes at sign-in until a code
// confirms it.
func (s *server) accountTwoFactorStart(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if s.acct.sealer == nil {
		s.Error(w, r, errNoSecretKey)
		return
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "secinbox " + s.domain, AccountName: u.Email, SecretSize: 20})
	if err != nil {
		s.Error(w, r, fmt.Errorf("web: generate totp key: %w", err))
		return
	}
	if err := s.store.StartTwoFactor(r.Context(), u.ID, s.acct.sealer.seal(u.ID, key.Secret())); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/2fa", http.StatusSeeOther)
}

// pendingTOTP returns the signed-in user's TOTP key that is enrolling
// (stored, not yet enabled). ENOTFOUND without one.
func (s *server) pendingTOTP(r *http.Request) (*otp.Key, []byte, error) {
	u := userFrom(r.Context())
	tf, err := s.store.TwoFactor(r.Context(), u.ID)
	if err != nil {
		return nil, nil, err
	}
	if tf.Enabled() || tf.Sealed == nil {
		return nil, nil, triage.Errorf(triage.ENOTFOUND, "no two-factor enrolment in progress")
	}
	if s.acct.sealer == nil {
		return nil, nil, errNoSecretKey
	}
	secret, err := s.acct.sealer.open(u.ID, tf.Sealed)
	if err != nil {
		return nil, nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: "secinbox " + s.domain, AccountName: u.Email, Secret: mustBase32(secret),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("web: totp key: %w", err)
	}
	return key, tf.Sealed, nil
}

// mustBase32 decodes a secret we encoded ourselves.
func mustBase32(s string) []byte {
	b, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(s))
	return b
}

// accountTwoFactorPage shows the QR code and the secret to enter, and the
// form to confirm with a first code.
func (s *server) accountTwoFactorPage(w http.ResponseWriter, r *http.Request) {
	s.renderTwoFactorSetup(w, r, http.StatusOK, "")
}

func (s *server) renderTwoFactorSetup(w http.ResponseWriter, r *http.Request, status int, msg string) {
	key, _, err := s.pendingTOTP(r)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, status, templates.TwoFactorSetup(templates.TwoFactorSetupView{
		Nav:    staffNav(userFrom(r.Context())),
		QRURL:  "/account/2fa/qr.png",
		Secret: groupSecret(key.Secret()),
		Error:  msg,
	}))
}

// groupSecret writes a base32 secret in groups of four for typing.
func groupSecret(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// accountTwoFactorQR serves the enrolling key's otpauth:// URL as a QR
// code PNG (a same-origin image: the CSP allows no data: URLs).
func (s *server) accountTwoFactorQR(w http.ResponseWriter, r *http.Request) {
	key, _, err := s.pendingTOTP(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	img, err := key.Image(256, 256)
	if err != nil {
		s.Error(w, r, fmt.Errorf("web: totp qr: %w", err))
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		s.Error(w, r, fmt.Errorf("web: totp qr: %w", err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w)
}

// accountTwoFactorConfirm enables the enrolling key if the password
// (asked again: a session left open must not be enough to put someone
// else's phone on the account) and the code are right, and shows the
// recovery codes, once. Wrong passwords count as on the other account
// forms.
func (s *server) accountTwoFactorConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := userFrom(r.Context())
	key, sealed, err := s.pendingTOTP(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now, lim := s.now(), s.acct.limits
	pw := attempt{addr: ipKey(r), account: accountLimitKey(u.Email)}
	if wait := lim.passwordWait(pw, now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	if bcryptCheck(u.PasswordHash, r.PostForm.Get("password")) != nil {
		lim.passwordFailed(pw, now)
		s.renderTwoFactorSetup(w, r, http.StatusUnprocessableEntity, "Wrong password: two-factor sign-in is not on yet.")
		return
	}
	step, ok := totpStep(key.Secret(), normalizeCode(r.PostForm.Get("code")), s.now())
	if !ok {
		s.renderTwoFactorSetup(w, r, http.StatusUnprocessableEntity, "Wrong code. Check the time on your phone and try the current code.")
		return
	}
	codes, hashes := newRecoveryCodes()
	ev := s.auditEvent(r, triage.AuditTwoFactorEnable, userTarget(u.ID), nil)
	if err := s.store.EnableTwoFactor(r.Context(), u.ID, sealed, step, s.now(), hashes, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.RecoveryCodes(templates.RecoveryCodesView{
		Nav: staffNav(u), Codes: codes,
	}))
}

// accountTwoFactorDisable turns two-factor sign-in off; it takes the
// password and a current code (or a recovery code).
func (s *server) accountTwoFactorDisable(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := userFrom(r.Context())
	// Wrong passwords and codes count as at sign-in, so that a stolen
	// session cannot guess either without limit.
	now, lim := s.now(), s.acct.limits
	pw := attempt{addr: ipKey(r), account: accountLimitKey(u.Email)}
	code := attempt{addr: ipKey(r), account: codeLimitKey(u.ID)}
	if wait := max(lim.passwordWait(pw, now), lim.codeWait(code, now)); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	if bcryptCheck(u.PasswordHash, r.PostForm.Get("password")) != nil {
		lim.passwordFailed(pw, now)
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", "Wrong password: two-factor sign-in is still on.")
		return
	}
	if _, err := s.checkSecondFactor(r, u, r.PostForm.Get("code")); err != nil {
		if c := triage.ErrorCode(err); c != triage.EUNAUTHORIZED && c != triage.ECONFLICT {
			s.Error(w, r, err)
			return
		}
		lim.codeFailed(code, now)
		// Audited like a wrong code at sign-in: someone holding the
		// session may be guessing; the log (and /metrics) should show it.
		_ = s.audit(r, triage.AuditTwoFactorFail, userTarget(u.ID), map[string]string{"reason": triage.ErrorMessage(err), "during": "2fa.disable"})
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", triage.ErrorMessage(err)+" Two-factor sign-in is still on.")
		return
	}
	if err := s.store.DisableTwoFactor(r.Context(), u.ID, s.auditEvent(r, triage.AuditTwoFactorOff, userTarget(u.ID), nil)); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=2fa-off", http.StatusSeeOther)
}
