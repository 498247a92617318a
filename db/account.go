package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The account methods below take an optional audit event (nil for none)
// and write it in the same transaction as the change it records: the
// change and its record commit together or not at all.

// withAudit runs fn in a write transaction whose clock is now (zero:
// db.Now, read once) and then appends ev, if any.
func (db *DB) withAudit(ctx context.Context, now time.Time, ev *triage.AuditEvent, fn func(context.Context, *sql.Tx) error) error {
	return db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if ev != nil {
			return db.addAudit(ctx, tx, ev)
		}
		return nil
	})
}

// Users returns every user, by email.
func (db *DB) Users(ctx context.Context) ([]*triage.User, error) {
	var out []*triage.User
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: users: %w", err)
	}
	return out, nil
}

// CreateUserAudited is CreateUser with an audit event (nil: none) in the
// same transaction; ev.Target is set to the new user.
func (db *DB) CreateUserAudited(ctx context.Context, u *triage.User, ev *triage.AuditEvent) error {
	email := normalizeEmail(u.Email)
	if email == "" {
		return fmt.Errorf("db: create user: %w", triage.Errorf(triage.EINVALID, "email is required"))
	}
	if _, err := triage.ParseRole(string(u.Role)); err != nil {
		return fmt.Errorf("db: create user: %w", err)
	}
	created := db.now()
	var id int64
	err := db.writeAt(ctx, created, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, role, password_hash, created_at)
			VALUES (?, ?, ?, ?)`, email, string(u.Role), blob(u.PasswordHash), formatTime(created))
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "a user with email %s already exists", email)
		} else if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if ev != nil {
			ev.Target = fmt.Sprintf("user:%d", id)
			return db.addAudit(ctx, tx, ev)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: create user: %w", err)
	}
	u.ID, u.Email, u.CreatedAt = id, email, created
	return nil
}

// errLastAdmin is the refusal to leave the team without an active admin.
var errLastAdmin = triage.Errorf(triage.ECONFLICT, "this is the last active admin: make someone else admin first")

// checkAdminsLeft fails with ECONFLICT unless some active admin other
// than user id exists.
func checkAdminsLeft(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users
		WHERE role = 'admin' AND disabled_at IS NULL AND id != ?`, id).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return errLastAdmin
	}
	return nil
}

// SetUserRole changes user id's role. Taking admin from the last active
// admin is ECONFLICT; an unknown user ENOTFOUND; an unknown role EINVALID.
func (db *DB) SetUserRole(ctx context.Context, id int64, role triage.Role, ev *triage.AuditEvent) error {
	if _, err := triage.ParseRole(string(role)); err != nil {
		return fmt.Errorf("db: set user role: %w", err)
	}
	err := db.withAudit(ctx, time.Time{}, ev, func(ctx context.Context, tx *sql.Tx) error {
		u, err := findUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Role == triage.RoleAdmin && role != triage.RoleAdmin && !u.Disabled() {
			if err := checkAdminsLeft(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(role), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: set user role: %w", err)
	}
	return nil
}

// SetUserDisabled disables user id at time at (ending their sessions and
// pending sign-ins), or enables them again when at is zero. Disabling the
// last active admin is ECONFLICT; an unknown user ENOTFOUND.
func (db *DB) SetUserDisabled(ctx context.Context, id int64, at time.Time, ev *triage.AuditEvent) error {
	err := db.withAudit(ctx, at, ev, func(ctx context.Context, tx *sql.Tx) error {
		u, err := findUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if at.IsZero() {
			_, err = tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE id = ?`, id)
			return err
		}
		if u.Role == triage.RoleAdmin && !u.Disabled() {
			if err := checkAdminsLeft(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, formatTime(at), id); err != nil {
			return err
		}
		return deleteUserSessions(ctx, tx, id, nil)
	})
	if err != nil {
		return fmt.Errorf("db: set user disabled: %w", err)
	}
	return nil
}

// deleteUserSessions deletes user id's sessions but the one with hash
// keep (nil: all), and their pending sign-ins.
func deleteUserSessions(ctx context.Context, tx *sql.Tx, id int64, keep []byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash != ?`, id, blob(keep)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE user_id = ?`, id)
	return err
}

// SetPassword replaces user id's password hash, records the change at at,
// and ends every session of theirs but the one with hash keep (nil: all)
// and their pending sign-ins. An unknown user is ENOTFOUND.
func (db *DB) SetPassword(ctx context.Context, id int64, hash []byte, at time.Time, keep []byte, ev *triage.AuditEvent) error {
	if len(hash) == 0 {
		return fmt.Errorf("db: set password: %w", triage.Errorf(triage.EINVALID, "empty password hash"))
	}
	err := db.withAudit(ctx, at, ev, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`,
			hash, formatTime(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ENOTFOUND, "user %d not found", id)
		}
		return deleteUserSessions(ctx, tx, id, keep)
	})
	if err != nil {
		return fmt.Errorf("db: set password: %w", err)
	}
	return nil
}

// Sessions returns user id's sessions that are live at now, newest first.
func (db *DB) Sessions(ctx context.Context, userID int64, now time.Time) ([]*triage.Session, error) {
	var out []*triage.Session
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
			WHERE user_id = ? AND expires_at > ? ORDER BY id DESC`, userID, formatTime(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s := &sessionRow{}
			if err := rows.Scan(s.scanDest()...); err != nil {
				return err
			}
			out = append(out, &s.Session)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: sessions: %w", err)
	}
	return out, nil
}

// TouchSession records that session id was used at now from addr.
func (db *DB) TouchSession(ctx context.Context, id int64, now time.Time, addr string) error {
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, last_addr = ? WHERE id = ?`,
			formatTime(now), cut(addr, triage.MaxAuditField), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: touch session: %w", err)
	}
	return nil
}

// RevokeSession deletes session sessionID of user userID. A session that
// is not theirs (or does not exist) is ENOTFOUND.
func (db *DB) RevokeSession(ctx context.Context, userID, sessionID int64, ev *triage.AuditEvent) error {
	err := db.withAudit(ctx, time.Time{}, ev, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, sessionID, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ENOTFOUND, "session not found")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: revoke session: %w", err)
	}
	return nil
}

// RevokeOtherSessions deletes every session of user userID but the one
// with hash keep, and their pending sign-ins.
func (db *DB) RevokeOtherSessions(ctx context.Context, userID int64, keep []byte, ev *triage.AuditEvent) error {
	err := db.withAudit(ctx, time.Time{}, ev, func(ctx context.Context, tx *sql.Tx) error {
		return deleteUserSessions(ctx, tx, userID, keep)
	})
	if err != nil {
		return fmt.Errorf("db: revoke other sessions: %w", err)
	}
	return nil
}

// TwoFactor returns user id's TOTP state; a user without one has a zero
// state (not an error). An unknown user is ENOTFOUND.
func (db *DB) TwoFactor(ctx context.Context, userID int64) (*triage.TwoFactor, error) {
	tf := &triage.TwoFactor{UserID: userID}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled_at, totp_last_step,
			(SELECT count(*) FROM recovery_codes WHERE user_id = users.id AND used_at IS NULL)
			FROM users WHERE id = ?`, userID).
			Scan(&tf.Sealed, timeScanner{&tf.EnabledAt}, &tf.LastStep, &tf.RecoveryLeft)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "user %d not found", userID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: two-factor: %w", err)
	}
	return tf, nil
}

// StartTwoFactor stores sealed as user id's TOTP secret, not yet enabled.
// It replaces an earlier unconfirmed one; with 2FA already enabled it is
// ECONFLICT.
func (db *DB) StartTwoFactor(ctx context.Context, userID int64, sealed []byte) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_last_step = 0
			WHERE id = ? AND totp_enabled_at IS NULL`, blob(sealed), userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := findUser(ctx, tx, userID); err != nil {
				return err
			}
			return triage.Errorf(triage.ECONFLICT, "two-factor sign-in is already on")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: start two-factor: %w", err)
	}
	return nil
}

// EnableTwoFactor turns on the secret StartTwoFactor stored, if it is
// still sealed (so that a second enrolment in another tab cannot swap
// it), records step as used, and replaces the user's recovery codes with
// codeHashes. ECONFLICT if it is already on or the secret changed.
func (db *DB) EnableTwoFactor(ctx context.Context, userID int64, sealed []byte, step int64, at time.Time, codeHashes [][]byte, ev *triage.AuditEvent) error {
	err := db.withAudit(ctx, at, ev, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_enabled_at = ?, totp_last_step = ?
			WHERE id = ? AND totp_enabled_at IS NULL AND totp_secret = ?`, formatTime(at), step, userID, blob(sealed))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ECONFLICT, "two-factor enrolment changed or is already done; start again")
		}
		return replaceRecoveryCodes(ctx, tx, userID, codeHashes)
	})
	if err != nil {
		return fmt.Errorf("db: enable two-factor: %w", err)
	}
	return nil
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, codeHashes [][]byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, blob(h)); err != nil {
			return err
		}
	}
	return nil
}

// DisableTwoFactor turns TOTP off for user id and deletes their recovery
// codes (also used by an admin's reset). Turning off what is off is fine;
// an unknown user is ENOTFOUND.
func (db *DB) DisableTwoFactor(ctx context.Context, userID int64, ev *triage.AuditEvent) error {
	err := db.withAudit(ctx, time.Time{}, ev, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := findUser(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = 0
			WHERE id = ?`, userID); err != nil {
			return err
		}
		return replaceRecoveryCodes(ctx, tx, userID, nil)
	})
	if err != nil {
		return fmt.Errorf("db: disable two-factor: %w", err)
	}
	return nil
}

// UseTOTPStep records that user id's code for time step was accepted. A
// step at or before the last accepted one is ECONFLICT: the code was used
// already (a replay), or an older one is being tried.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = ?
			WHERE id = ? AND totp_last_step < ? AND totp_enabled_at IS NOT NULL`, step, userID, step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ECONFLICT, "this code was already used")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: use totp step: %w", err)
	}
	return nil
}

// UseRecoveryCode marks user id's unused recovery code with hash used at
// at. No such unused code is ENOTFOUND.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) error {
	err := db.writeAt(ctx, at, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ?
			WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, formatTime(at), userID, blob(hash))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ENOTFOUND, "no such unused recovery code")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: use recovery code: %w", err)
	}
	return nil
}

// CreateLoginChallenge stores c. ECONFLICT if its token hash is taken.
func (db *DB) CreateLoginChallenge(ctx context.Context, c *triage.LoginChallenge) error {
	if len(c.TokenHash) == 0 {
		return fmt.Errorf("db: create login challenge: %w", triage.Errorf(triage.EINVALID, "no token hash"))
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO login_challenges
			(token_hash, user_id, created_at, expires_at, failures, remote_addr, user_agent)
			VALUES (?, ?, ?, ?, 0, ?, ?)`, c.TokenHash, c.UserID, formatTime(c.CreatedAt), formatTime(c.ExpiresAt),
			cut(c.RemoteAddr, triage.MaxAuditField), cut(c.UserAgent, triage.MaxAuditField))
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "login challenge exists")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("db: create login challenge: %w", err)
	}
	return nil
}

// LoginChallenge returns the challenge with hash unless it is missing or
// expired at now (both ENOTFOUND).
func (db *DB) LoginChallenge(ctx context.Context, hash []byte, now time.Time) (*triage.LoginChallenge, error) {
	c := &triage.LoginChallenge{}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT token_hash, user_id, created_at, expires_at, failures, remote_addr, user_agent
			FROM login_challenges WHERE token_hash = ? AND expires_at > ?`, blob(hash), formatTime(now)).
			Scan(&c.TokenHash, &c.UserID, timeScanner{&c.CreatedAt}, timeScanner{&c.ExpiresAt}, &c.Failures, &c.RemoteAddr, &c.UserAgent)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "sign-in expired")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: login challenge: %w", err)
	}
	return c, nil
}

// FailLoginChallenge counts a wrong code against the challenge with hash
// and deletes it once it has triage.MaxChallengeFailures. It returns the
// failures so far.
func (db *DB) FailLoginChallenge(ctx context.Context, hash []byte) (int, error) {
	var n int
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE login_challenges SET failures = failures + 1
			WHERE token_hash = ? RETURNING failures`, blob(hash)).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "sign-in expired")
		} else if err != nil {
			return err
		}
		if n >= triage.MaxChallengeFailures {
			_, err = tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE token_hash = ?`, blob(hash))
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: fail login challenge: %w", err)
	}
	return n, nil
}

// DeleteLoginChallenge deletes the challenge with hash; a missing one is
// not an error.
func (db *DB) DeleteLoginChallenge(ctx context.Context, hash []byte) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE token_hash = ?`, blob(hash))
		return err
	})
	if err != nil {
		return fmt.Errorf("db: delete login challenge: %w", err)
	}
	return nil
}

// Stats counts what /metrics exposes, at now, in one read transaction.
// AuditByAction holds a count for each of actions (zero included).
func (db *DB) Stats(ctx context.Context, now time.Time, actions []string) (*triage.Stats, error) {
	st := &triage.Stats{
		ReportsByStatus: map[triage.Status]int64{},
		UsersByRole:     map[triage.Role]int64{},
		AuditByAction:   map[string]int64{},
	}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT status, count(*) FROM reports GROUP BY status`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			var n int64
			if err := rows.Scan(&s, &n); err != nil {
				rows.Close()
				return err
			}
			st.ReportsByStatus[triage.Status(s)] = n
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT role, count(*) FROM users WHERE disabled_at IS NULL GROUP BY role`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r string
			var n int64
			if err := rows.Scan(&r, &n); err != nil {
				rows.Close()
				return err
			}
			st.UsersByRole[triage.Role(r)] = n
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// sqlite_sequence holds the highest id ever handed out: a counter
		// that never goes down, even if rows are deleted one day.
		err = tx.QueryRowContext(ctx, `SELECT
			(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'reports'),
			(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'raw_messages'),
			(SELECT count(*) FROM raw_messages WHERE processed_at IS NULL),
			(SELECT count(*) FROM users WHERE disabled_at IS NOT NULL),
			(SELECT count(*) FROM users WHERE disabled_at IS NULL AND totp_enabled_at IS NOT NULL),
			(SELECT count(*) FROM sessions WHERE expires_at > ?),
			(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'audit_log')`, formatTime(now)).
			Scan(&st.ReportsTotal, &st.MessagesTotal, &st.MessagesPending, &st.UsersDisabled, &st.UsersTwoFactor,
				&st.SessionsLive, &st.AuditEventsTotal)
		if err != nil {
			return err
		}
		for _, a := range actions {
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = ?`, a).Scan(&n); err != nil {
				return err
			}
			st.AuditByAction[a] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: stats: %w", err)
	}
	return st, nil
}
