package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// normalizeEmail is how emails are stored and looked up.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores u with its email lower-cased and sets u.ID and
// u.CreatedAt. A taken email is ECONFLICT; an empty email or unknown role
// EINVALID.
func (db *DB) CreateUser(ctx context.Context, u *triage.User) error {
	return db.CreateUserAudited(ctx, u, nil)
}

const userColumns = `users.id, users.email, users.role, users.password_hash, users.created_at,
	users.password_changed_at, users.disabled_at, users.totp_enabled_at IS NOT NULL`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanUser scans userColumns, after the columns in pre.
func scanUser(row scanner, pre ...any) (*triage.User, error) {
	u := &triage.User{}
	var role string
	dest := append(pre, &u.ID, &u.Email, &role, &u.PasswordHash, timeScanner{&u.CreatedAt},
		timeScanner{&u.PasswordChangedAt}, timeScanner{&u.DisabledAt}, &u.TwoFactor)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.Role = triage.Role(role)
	return u, nil
}

// UserByEmail returns the user with email (compared case-insensitively),
// or an ENOTFOUND error.
func (db *DB) UserByEmail(ctx context.Context, email string) (*triage.User, error) {
	var u *triage.User
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, normalizeEmail(email)))
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "user not found")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: user by email: %w", err)
	}
	return u, nil
}

// UserByID returns one user, or an ENOTFOUND error.
func (db *DB) UserByID(ctx context.Context, id int64) (*triage.User, error) {
	var u *triage.User
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		u, err = findUser(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: user by id: %w", err)
	}
	return u, nil
}

func findUser(ctx context.Context, tx *sql.Tx, id int64) (*triage.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, triage.Errorf(triage.ENOTFOUND, "user %d not found", id)
	}
	return u, err
}

// CreateSession stores s. A zero CreatedAt is set to db.Now(), a zero
// ExpiresAt to CreatedAt + triage.SessionLifetime. ENOTFOUND if the user
// does not exist, ECONFLICT if the token hash is taken, EINVALID without a
// token hash.
func (db *DB) CreateSession(ctx context.Context, s *triage.Session) error {
	if len(s.TokenHash) == 0 {
		return fmt.Errorf("db: create session: %w", triage.Errorf(triage.EINVALID, "session has no token hash"))
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	if s.ExpiresAt.IsZero() {
		s.ExpiresAt = s.CreatedAt.Add(triage.SessionLifetime)
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	err := db.writeAt(ctx, s.CreatedAt, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := findUser(ctx, tx, s.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions
			(token_hash, user_id, created_at, expires_at, remote_addr, user_agent, last_seen_at, last_addr)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.UserID, formatTime(s.CreatedAt), formatTime(s.ExpiresAt), s.RemoteAddr, s.UserAgent,
			formatTime(s.CreatedAt), s.RemoteAddr)
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "session already exists")
		} else if err != nil {
			return err
		}
		s.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("db: create session: %w", err)
	}
	s.LastSeenAt, s.LastAddr = s.CreatedAt, s.RemoteAddr
	return nil
}

const sessionColumns = `id, token_hash, user_id, created_at, expires_at, remote_addr, user_agent, last_seen_at, last_addr`

// sessionRow scans sessionColumns.
type sessionRow struct{ triage.Session }

func (s *sessionRow) scanDest() []any {
	return []any{&s.ID, &s.TokenHash, &s.UserID, timeScanner{&s.CreatedAt}, timeScanner{&s.ExpiresAt},
		&s.RemoteAddr, &s.UserAgent, timeScanner{&s.LastSeenAt}, &s.LastAddr}
}

// SessionByTokenHash returns the session with hash unless it is missing or
// expired at now (ExpiresAt <= now); both are ENOTFOUND.
func (db *DB) SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (*triage.Session, error) {
	s := &sessionRow{}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT `+sessionColumns+`
			FROM sessions WHERE token_hash = ? AND expires_at > ?`, blob(hash), formatTime(now)).
			Scan(s.scanDest()...)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "session not found")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: session: %w", err)
	}
	return &s.Session, nil
}

// DeleteSession deletes the session with hash. Deleting a missing session
// is not an error (logging out twice is fine).
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, blob(hash))
		return err
	})
	if err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions (and pending two-factor
// sign-ins) expired at now and returns how many sessions there were.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(now))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE expires_at <= ?`, formatTime(now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: delete expired sessions: %w", err)
	}
	return n, nil
}

// CreateAPIToken stores t and sets t.ID, t.CreatedAt and, when zero,
// t.ExpiresAt (CreatedAt + triage.APITokenLifetime). ENOTFOUND if the
// user does not exist, ECONFLICT if the token hash is taken, EINVALID
// without a token hash or with an expiry not after its creation.
func (db *DB) CreateAPIToken(ctx context.Context, t *triage.APIToken) error {
	return db.CreateAPITokenAudited(ctx, t, nil)
}

// CreateAPITokenAudited is CreateAPIToken with an audit event (nil: none)
// in the same transaction; ev.Target is left as given and "token" (the
// new id) is added to its detail when the detail is a JSON object.
func (db *DB) CreateAPITokenAudited(ctx context.Context, t *triage.APIToken, ev *triage.AuditEvent) error {
	if len(t.TokenHash) == 0 {
		return fmt.Errorf("db: create api token: %w", triage.Errorf(triage.EINVALID, "token has no hash"))
	}
	created := db.now()
	expires := t.ExpiresAt.UTC()
	if expires.IsZero() {
		expires = created.Add(triage.APITokenLifetime)
	}
	if !expires.After(created) {
		return fmt.Errorf("db: create api token: %w", triage.Errorf(triage.EINVALID, "the expiry must be in the future"))
	}
	var id int64
	err := db.writeAt(ctx, created, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := findUser(ctx, tx, t.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, t.TokenHash, t.UserID, t.Name, formatTime(created), formatTime(expires))
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "api token already exists")
		} else if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if ev != nil {
			ev.Detail = addTokenID(ev.Detail, id)
			return db.addAudit(ctx, tx, ev)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: create api token: %w", err)
	}
	t.ID, t.CreatedAt, t.ExpiresAt = id, created, expires
	return nil
}

// addTokenID adds "token": id to detail, a JSON object ("" is one).
func addTokenID(detail string, id int64) string {
	m := map[string]any{}
	if detail != "" {
		if err := json.Unmarshal([]byte(detail), &m); err != nil {
			return detail
		}
	}
	m["token"] = id
	b, err := json.Marshal(m)
	if err != nil {
		return detail
	}
	return string(b)
}

const apiTokenColumns = `api_tokens.id, api_tokens.user_id, users.email, api_tokens.name, api_tokens.token_hash,
	api_tokens.created_at, api_tokens.expires_at, api_tokens.revoked_at, api_tokens.last_used_at`

func apiTokenDest(t *triage.APIToken) []any {
	return []any{&t.ID, &t.UserID, &t.UserEmail, &t.Name, &t.TokenHash, timeScanner{&t.CreatedAt},
		timeScanner{&t.ExpiresAt}, timeScanner{&t.RevokedAt}, timeScanner{&t.LastUsedAt}}
}

// APITokenByHash returns the bearer token with hash and the user it acts
// for, unless it is unknown, revoked or expired at now (all ENOTFOUND).
// It only reads: the token's use is recorded later by RecordUses, so that
// a read through the API never waits for, or fails on, a write.
func (db *DB) APITokenByHash(ctx context.Context, hash []byte, now time.Time) (*triage.APIToken, *triage.User, error) {
	t := &triage.APIToken{}
	var u *triage.User
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+apiTokenColumns+`, `+userColumns+`
			FROM api_tokens JOIN users ON users.id = api_tokens.user_id
			WHERE api_tokens.token_hash = ? AND api_tokens.revoked_at IS NULL AND api_tokens.expires_at > ?`,
			blob(hash), formatTime(now)), apiTokenDest(t)...)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "api token not found")
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("db: api token: %w", err)
	}
	return t, u, nil
}

// APITokens returns user userID's tokens (every user's for 0), revoked
// and expired ones included, newest first.
func (db *DB) APITokens(ctx context.Context, userID int64) ([]*triage.APIToken, error) {
	var out []*triage.APIToken
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+apiTokenColumns+`
			FROM api_tokens JOIN users ON users.id = api_tokens.user_id
			WHERE ? = 0 OR api_tokens.user_id = ? ORDER BY api_tokens.id DESC`, userID, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := &triage.APIToken{}
			if err := rows.Scan(apiTokenDest(t)...); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken revokes token id at at, if it belongs to user userID (0:
// any user). A token that is not theirs or does not exist is ENOTFOUND;
// revoking a revoked token is fine (and keeps the first time). It returns
// the token as it now is.
func (db *DB) RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time, ev *triage.AuditEvent) (*triage.APIToken, error) {
	t := &triage.APIToken{}
	err := db.withAudit(ctx, at, ev, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?)
			WHERE id = ? AND (? = 0 OR user_id = ?)`, formatTime(at), id, userID, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ENOTFOUND, "API token %d not found", id)
		}
		return tx.QueryRowContext(ctx, `SELECT `+apiTokenColumns+`
			FROM api_tokens JOIN users ON users.id = api_tokens.user_id WHERE api_tokens.id = ?`, id).Scan(apiTokenDest(t)...)
	})
	if err != nil {
		return nil, fmt.Errorf("db: revoke api token: %w", err)
	}
	return t, nil
}

// RecordUses writes last uses kept in memory, in one transaction: tokens
// and sessions map ids to their last use. A recorded time only moves
// forward; ids that no longer exist are skipped.
func (db *DB) RecordUses(ctx context.Context, tokens, sessions map[int64]triage.Use) error {
	if len(tokens) == 0 && len(sessions) == 0 {
		return nil
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for id, u := range tokens {
			at := formatTime(u.At)
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?
				WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, at, id, at); err != nil {
				return err
			}
		}
		for id, u := range sessions {
			at := formatTime(u.At)
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, last_addr = ?
				WHERE id = ? AND last_seen_at < ?`, at, cut(u.Addr, triage.MaxAuditField), id, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: record uses: %w", err)
	}
	return nil
}
