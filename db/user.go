package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// apiTokenTouchInterval throttles last_used_at updates, so API reads do
// not take the write lock on every request.
const apiTokenTouchInterval = time.Minute

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
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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

// CreateAPIToken stores t and sets t.ID and t.CreatedAt. ENOTFOUND if the
// user does not exist, ECONFLICT if the token hash is taken, EINVALID
// without a token hash.
func (db *DB) CreateAPIToken(ctx context.Context, t *triage.APIToken) error {
	if len(t.TokenHash) == 0 {
		return fmt.Errorf("db: create api token: %w", triage.Errorf(triage.EINVALID, "token has no hash"))
	}
	created := db.now()
	var id int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := findUser(ctx, tx, t.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, created_at)
			VALUES (?, ?, ?, ?)`, t.TokenHash, t.UserID, t.Name, formatTime(created))
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "api token already exists")
		} else if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("db: create api token: %w", err)
	}
	t.ID, t.CreatedAt = id, created
	return nil
}

// UserByAPITokenHash returns the user a bearer token acts for, or an
// ENOTFOUND error. It records the token's last use (at most once a minute).
func (db *DB) UserByAPITokenHash(ctx context.Context, hash []byte) (*triage.User, error) {
	var (
		u       *triage.User
		tokenID int64
		used    time.Time
	)
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT api_tokens.id, api_tokens.last_used_at, `+userColumns+`
			FROM api_tokens JOIN users ON users.id = api_tokens.user_id
			WHERE api_tokens.token_hash = ?`, blob(hash)), &tokenID, timeScanner{&used})
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "api token not found")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: user by api token: %w", err)
	}
	if now := db.now(); now.Sub(used) >= apiTokenTouchInterval {
		err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), tokenID)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("db: user by api token: record use: %w", err)
		}
	}
	return u, nil
}
