package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

func cmdUserAdd(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	email := fs.String("email", "", "the staff member's email address (their login)")
	role := fs.String("role", "", "admin, triager or viewer (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of generating one")
	if err := e.parse(fs); err != nil {
		return err
	}
	if *email == "" || *role == "" {
		fmt.Fprintln(e.stderr, "usage: secinbox user add --email E --role admin|triager|viewer [--password-stdin]")
		return errUsage
	}
	address, err := triage.ValidStaffEmail(strings.TrimSpace(*email))
	if err != nil {
		return fmt.Errorf("--email: %s", triage.ErrorMessage(err))
	}
	r, err := triage.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %s", triage.ErrorMessage(err))
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
		if err := triage.CheckPassword(password, address); err != nil {
			return errors.New(triage.ErrorMessage(err))
		}
	} else {
		password, generated = randomToken(18), true
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), triage.PasswordCost)
	if err != nil {
		return err
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	u := &triage.User{Email: strings.ToLower(address), Role: r, PasswordHash: hash}
	ev := cliAudit(triage.AuditUserCreate, "", map[string]string{"email": u.Email, "role": string(r)})
	if err := d.CreateUserAudited(ctx, u, ev); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s (%s)\n", u.Email, u.Role)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}

func cmdTokenCreate(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	email := fs.String("user", "", "email of the staff member the token acts for (with their role)")
	name := fs.String("name", "api", "a label for the token")
	expires := fs.String("expires", "90d", "how long the token lasts: days (\"30d\") or hours (\"12h\"), at most 365d")
	if err := e.parse(fs); err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprintln(e.stderr, "usage: secinbox token create --user E [--name N] [--expires 90d]")
		return errUsage
	}
	life, err := parseTokenLifetime(*expires)
	if err != nil {
		return err
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("user %s: %w", *email, err)
	}
	token, hash := web.NewAPIToken()
	t := &triage.APIToken{UserID: u.ID, Name: *name, TokenHash: hash, ExpiresAt: time.Now().UTC().Add(life)}
	ev := cliAudit(triage.AuditTokenCreate, fmt.Sprintf("user:%d", u.ID),
		map[string]any{"name": *name, "expires": t.ExpiresAt.Format(time.RFC3339)})
	if err := d.CreateAPITokenAudited(ctx, t, ev); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	fmt.Fprintf(e.stderr, "token %d for %s, expires %s\n", t.ID, u.Email, t.ExpiresAt.Format(time.RFC3339))
	return nil
}

// parseTokenLifetime reads --expires: "90d" (days) or a Go duration of at
// least an hour ("12h"), at most triage.MaxAPITokenLifetime.
func parseTokenLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("--expires %q: want days such as 90d, or hours such as 12h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("--expires %q: want days such as 90d, or hours such as 12h", s)
		}
	}
	if d < time.Hour || d > triage.MaxAPITokenLifetime {
		return 0, fmt.Errorf("--expires %q: between 1h and 365d", s)
	}
	return d, nil
}

// cmdTokenList prints API tokens (one user's with --user): id, user,
// name, made, expires, last used (coarse: written about once a minute
// by the server), state.
func cmdTokenList(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	email := fs.String("user", "", "only this staff member's tokens")
	if err := e.parse(fs); err != nil {
		return err
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	var uid int64
	if *email != "" {
		u, err := d.UserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("user %s: %w", *email, err)
		}
		uid = u.ID
	}
	tokens, err := d.APITokens(ctx, uid)
	if err != nil {
		return err
	}
	now := time.Now()
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	fmt.Fprintln(e.stdout, "id\tuser\tname\tcreated\texpires\tlast_used\tstate")
	for _, t := range tokens {
		state := "active"
		switch {
		case !t.RevokedAt.IsZero():
			state = "revoked"
		case !t.Live(now):
			state = "expired"
		}
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserEmail, strings.ReplaceAll(t.Name, "\t", " "),
			stamp(t.CreatedAt), stamp(t.ExpiresAt), stamp(t.LastUsedAt), state)
	}
	return nil
}

// cmdTokenRevoke revokes an API token by its id (token list shows it):
// it is refused from then on.
func cmdTokenRevoke(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	id := fs.Int64("id", 0, "the token's id, from secinbox token list")
	if err := e.parse(fs); err != nil {
		return err
	}
	if *id <= 0 {
		fmt.Fprintln(e.stderr, "usage: secinbox token revoke --id N")
		return errUsage
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := d.RevokeAPIToken(ctx, 0, *id, time.Now(), cliAudit(triage.AuditTokenRevoke, fmt.Sprintf("token:%d", *id), nil))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked token %d (%s) of %s\n", t.ID, t.Name, t.UserEmail)
	return nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cliAudit is the audit event of a change made with the CLI: the actor
// is "cli" (whoever can run it can read the database anyway).
func cliAudit(action, target string, detail any) *triage.AuditEvent {
	ev := &triage.AuditEvent{ActorEmail: triage.ActorCLI, Action: action, Target: target}
	if detail != nil {
		b, _ := json.Marshal(detail)
		ev.Detail = string(b)
	}
	return ev
}

// userCommand parses the flags of a `user` subcommand that acts on one
// user (--email), opens the database and finds them.
func userCommand(ctx context.Context, e *env, usage string, extra func(*flag.FlagSet)) (*db.DB, *triage.User, error) {
	var cfg Config
	fs := e.flags(&cfg)
	email := fs.String("email", "", "the staff member's email address")
	if extra != nil {
		extra(fs)
	}
	if err := e.parse(fs); err != nil {
		return nil, nil, err
	}
	if *email == "" {
		fmt.Fprintln(e.stderr, "usage: secinbox "+usage)
		return nil, nil, errUsage
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return nil, nil, err
	}
	u, err := d.UserByEmail(ctx, *email)
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("user %s: %w", *email, err)
	}
	return d, u, nil
}

// cmdUserList prints every staff member: email, role, two-factor, state.
func cmdUserList(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	if err := e.parse(fs); err != nil {
		return err
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	users, err := d.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		twoFactor, state := "2fa:off", "active"
		if u.TwoFactor {
			twoFactor = "2fa:on"
		}
		if u.Disabled() {
			state = "disabled"
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", u.Email, u.Role, twoFactor, state)
	}
	return nil
}

// cmdUserRole changes a staff member's role.
func cmdUserRole(ctx context.Context, e *env) error {
	var role string
	d, u, err := userCommand(ctx, e, "user role --email E --role admin|triager|viewer", func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "the new role: admin, triager or viewer")
	})
	if err != nil {
		return err
	}
	defer d.Close()
	r, err := triage.ParseRole(role)
	if err != nil {
		return err
	}
	ev := cliAudit(triage.AuditUserRole, fmt.Sprintf("user:%d", u.ID), map[string]string{"from": string(u.Role), "to": string(r)})
	if err := d.SetUserRole(ctx, u.ID, r, ev); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is now %s\n", u.Email, r)
	return nil
}

// cmdUserDisable disables a staff member: no sign-in, no API tokens, and
// their sessions end.
func cmdUserDisable(ctx context.Context, e *env) error {
	d, u, err := userCommand(ctx, e, "user disable --email E", nil)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.SetUserDisabled(ctx, u.ID, time.Now(), cliAudit(triage.AuditUserDisable, fmt.Sprintf("user:%d", u.ID), nil)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "disabled %s\n", u.Email)
	return nil
}

// cmdUserEnable lets a disabled staff member sign in again.
func cmdUserEnable(ctx context.Context, e *env) error {
	d, u, err := userCommand(ctx, e, "user enable --email E", nil)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.SetUserDisabled(ctx, u.ID, time.Time{}, cliAudit(triage.AuditUserEnable, fmt.Sprintf("user:%d", u.ID), nil)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "enabled %s\n", u.Email)
	return nil
}

// cmdUserResetTwoFactor turns a staff member's two-factor sign-in off:
// the way back in for an admin who lost their phone and codes.
func cmdUserResetTwoFactor(ctx context.Context, e *env) error {
	d, u, err := userCommand(ctx, e, "user reset-2fa --email E", nil)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.DisableTwoFactor(ctx, u.ID, cliAudit(triage.AuditTwoFactorReset, fmt.Sprintf("user:%d", u.ID), nil)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "two-factor sign-in is off for %s\n", u.Email)
	return nil
}

// webSecretKey derives the key that seals staff two-factor secrets in the
// database from the team key's passphrase, so that the database alone
// (a backup, a stolen file) does not hold them in the clear. Argon2id,
// because a guess at the passphrase checked against a sealed secret must
// cost about as much as one checked against the locked team key; salt is
// the installation's own (db.InstallSalt), so no dictionary precomputed
// for every secinbox applies.
func webSecretKey(pass, salt []byte) []byte {
	if len(pass) == 0 {
		return nil
	}
	return argon2.IDKey(pass, salt, 2, 64*1024, 2, 32)
}
