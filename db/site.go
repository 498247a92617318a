package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The site's words and logo (triage.Site), in the settings table: "site"
// holds the texts as JSON, "logo" the image (base64), apart so that pages
// read the texts without the image.
const (
	settingSite = "site"
	settingLogo = "logo"
)

// siteJSON is triage.Site as the settings row holds it.
type siteJSON struct {
	Organisation string `json:"organisation"`
	ScopeIn      string `json:"scope_in"`
	ScopeOut     string `json:"scope_out"`
	SafeHarbour  string `json:"safe_harbour"`
	Languages    string `json:"languages"`
	LogoType     string `json:"logo_type"`
	LogoSHA256   string `json:"logo_sha256"`
}

// Site returns the site's words and logo description; the zero Site until
// an admin sets them.
func (db *DB) Site(ctx context.Context) (*triage.Site, error) {
	s := &triage.Site{}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var doc string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingSite).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		var j siteJSON
		if err := json.Unmarshal([]byte(doc), &j); err != nil {
			return fmt.Errorf("stored site settings: %w", err)
		}
		*s = triage.Site(j)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: site: %w", err)
	}
	return s, nil
}

// Logo returns the logo's bytes and type, or ENOTFOUND when there is none.
func (db *DB) Logo(ctx context.Context) ([]byte, string, error) {
	var data []byte
	var typ string
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var doc string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingLogo).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no logo")
		} else if err != nil {
			return err
		}
		var j struct {
			Type string `json:"type"`
			Data string `json:"data"`
		}
		if err := json.Unmarshal([]byte(doc), &j); err != nil {
			return fmt.Errorf("stored logo: %w", err)
		}
		typ = j.Type
		data, err = base64.StdEncoding.DecodeString(j.Data)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("db: logo: %w", err)
	}
	return data, typ, nil
}

// SetSite stores the site's words (validated again here) and, when logo
// is not nil, a new logo (empty: none), in one transaction with a
// settings.branding audit record naming what changed. A bad text or image
// is EINVALID.
func (db *DB) SetSite(ctx context.Context, s *triage.Site, logo []byte, by triage.Actor, now time.Time) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("db: set site: %w", err)
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var updatedBy any
		if by.UserID != 0 {
			updatedBy = by.UserID
		}
		put := func(key, value string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
				key, value, formatTime(now), updatedBy)
			return err
		}
		detail := map[string]any{"organisation": s.Organisation}
		switch {
		case logo == nil:
			// Keep the logo there is: read its description back.
			cur, err := findSite(ctx, tx)
			if err != nil {
				return err
			}
			s.LogoType, s.LogoSHA256 = cur.LogoType, cur.LogoSHA256
		case len(logo) == 0:
			if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, settingLogo); err != nil {
				return err
			}
			s.LogoType, s.LogoSHA256 = "", ""
			detail["logo"] = "removed"
		default:
			typ, err := triage.LogoType(logo)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(logo)
			s.LogoType, s.LogoSHA256 = typ, hex.EncodeToString(sum[:])
			b, err := json.Marshal(map[string]string{"type": typ, "data": base64.StdEncoding.EncodeToString(logo)})
			if err != nil {
				return err
			}
			if err := put(settingLogo, string(b)); err != nil {
				return err
			}
			detail["logo"] = s.LogoSHA256
		}
		b, err := json.Marshal(siteJSON(*s))
		if err != nil {
			return err
		}
		if err := put(settingSite, string(b)); err != nil {
			return err
		}
		d, _ := json.Marshal(detail)
		return db.addAudit(ctx, tx, &triage.AuditEvent{At: now, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditBrandingChange,
			Target: "settings:" + settingSite, Detail: string(d), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent})
	})
	if err != nil {
		return fmt.Errorf("db: set site: %w", err)
	}
	return nil
}

func findSite(ctx context.Context, tx *sql.Tx) (*triage.Site, error) {
	var doc string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingSite).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return &triage.Site{}, nil
	} else if err != nil {
		return nil, err
	}
	var j siteJSON
	if err := json.Unmarshal([]byte(doc), &j); err != nil {
		return nil, fmt.Errorf("stored site settings: %w", err)
	}
	s := triage.Site(j)
	return &s, nil
}
