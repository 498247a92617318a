package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// Bounds on researcher keys.
const (
	// maxResearcherKeyBytes bounds one stored public key; the lookups cap
	// a whole answer at 256 KiB.
	maxResearcherKeyBytes = 1 << 20
	// maxKeysPerAddress bounds the keys stored for one address (and what
	// one lookup lists). Anyone can send mail as any address with keys
	// attached: AddResearcherKeys makes room by dropping the weakest key,
	// so a flood of them cannot grow the list or push out a key that a
	// stronger source vouches for.
	maxKeysPerAddress = 100
	// maxKeyIDLookup bounds one ResearcherKeysByKeyID call.
	maxKeyIDLookup = 64
	// maxKeyIDsPerKey bounds the key IDs (primary and subkeys) indexed for
	// one key, so one crafted key with thousands of subkeys cannot fill
	// researcher_key_ids. Subkeys past it are not indexed: a signature by
	// one of them does not find the key by ID, so intake (which looks
	// signers up by key ID only) reports it unknown_key; the key itself is
	// stored whole, and an address lookup still finds it.
	maxKeyIDsPerKey = 100
)

// AddResearcherKeys stores keys (one transaction for all). A key already
// held for the same address (same fingerprint) keeps one row: its Source
// becomes the strongest of the two (triage.KeySource.Rank), Sources the
// union, FirstSeen the earlier and LastSeen the later; the key material,
// user ID, expiry and key IDs are replaced by the new copy when its source
// ranks at least as high as the stored one (so a weaker source cannot
// overwrite what a stronger one said). A zero LastSeen is set to db.Now(),
// a zero FirstSeen to LastSeen. An address holds at most
// maxKeysPerAddress keys: a new key beyond them replaces the weakest held
// one (lowest source rank, then least recently seen) if it beats it, and
// is not stored (its ID stays 0) otherwise. Of each key's KeyIDs only the
// first maxKeyIDsPerKey distinct ones are indexed (KeyIDs is cut to
// them). On success each stored key's
// ID is set. It returns EINVALID for a key without an address,
// fingerprint, known source or key material.
func (db *DB) AddResearcherKeys(ctx context.Context, keys []triage.ResearcherKey) error {
	now := db.now()
	for i := range keys {
		if err := normalizeResearcherKey(&keys[i], now); err != nil {
			return fmt.Errorf("db: add researcher keys: %w", err)
		}
	}
	ids := make([]int64, len(keys))
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		return addResearcherKeysTx(ctx, tx, keys, ids)
	})
	db.keyIDs.forget()
	if err != nil {
		return fmt.Errorf("db: add researcher keys: %w", err)
	}
	for i, id := range ids {
		keys[i].ID = id
	}
	return nil
}

// addResearcherKeysTx stores keys (normalized) in tx, their row ids
// into ids.
func addResearcherKeysTx(ctx context.Context, tx *sql.Tx, keys []triage.ResearcherKey, ids []int64) (err error) {
	for i := range keys {
		if ids[i], err = upsertResearcherKey(ctx, tx, &keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// normalizeResearcherKey checks k and puts it in stored form.
func normalizeResearcherKey(k *triage.ResearcherKey, now time.Time) error {
	k.Email = strings.ToLower(strings.TrimSpace(k.Email))
	k.Fingerprint = strings.ToUpper(strings.TrimSpace(k.Fingerprint))
	switch {
	case !strings.Contains(k.Email, "@"):
		return triage.Errorf(triage.EINVALID, "researcher key without an address")
	case !isHex(k.Fingerprint) || len(k.Fingerprint) < 32:
		return triage.Errorf(triage.EINVALID, "researcher key fingerprint %q is not hex", k.Fingerprint)
	case !k.Source.Valid():
		return triage.Errorf(triage.EINVALID, "unknown key source %q", k.Source)
	case len(k.Public) == 0:
		return triage.Errorf(triage.EINVALID, "researcher key %s has no key material", k.Fingerprint)
	case len(k.Public) > maxResearcherKeyBytes:
		return triage.Errorf(triage.EINVALID, "researcher key %s is larger than %d bytes", k.Fingerprint, maxResearcherKeyBytes)
	}
	ids := make([]string, 0, min(len(k.KeyIDs), maxKeyIDsPerKey))
	for _, id := range k.KeyIDs {
		if len(ids) == maxKeyIDsPerKey {
			break // the rest is neither checked nor indexed
		}
		id = strings.ToUpper(strings.TrimSpace(id))
		if len(id) != 16 || !isHex(id) {
			return triage.Errorf(triage.EINVALID, "key ID %q is not 16 hex digits", id)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	k.KeyIDs = ids
	if k.LastSeen.IsZero() {
		k.LastSeen = now
	}
	if k.FirstSeen.IsZero() || k.FirstSeen.After(k.LastSeen) {
		k.FirstSeen = k.LastSeen
	}
	return nil
}

// upsertResearcherKey inserts k or merges it into the stored row, and
// returns the row's id. k has been normalized.
func upsertResearcherKey(ctx context.Context, tx *sql.Tx, k *triage.ResearcherKey) (int64, error) {
	var (
		id          int64
		source      string
		sourcesJSON string
		old         triage.ResearcherKey
	)
	err := tx.QueryRowContext(ctx, `SELECT id, source, sources, first_seen, last_seen
		FROM researcher_keys WHERE email = ? AND fingerprint = ?`, k.Email, k.Fingerprint).
		Scan(&id, &source, &sourcesJSON, timeScanner{&old.FirstSeen}, timeScanner{&old.LastSeen})
	if errors.Is(err, sql.ErrNoRows) {
		if ok, err := makeRoom(ctx, tx, k); err != nil || !ok {
			return 0, err
		}
		sources, err := json.Marshal([]triage.KeySource{k.Source})
		if err != nil {
			return 0, err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO researcher_keys
			(email, fingerprint, user_id, source, sources, public, expires_at, first_seen, last_seen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.Email, k.Fingerprint, k.UserID, string(k.Source), string(sources), k.Public,
			nullTime(k.ExpiresAt), formatTime(k.FirstSeen), formatTime(k.LastSeen))
		if err != nil {
			return 0, err
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, err
		}
		return id, insertKeyIDs(ctx, tx, id, k.KeyIDs)
	} else if err != nil {
		return 0, err
	}

	old.Source = triage.KeySource(source)
	if err := json.Unmarshal([]byte(sourcesJSON), &old.Sources); err != nil {
		return 0, fmt.Errorf("researcher key %d: sources: %w", id, err)
	}
	sources := mergeSources(old.Sources, k.Source)
	sj, err := json.Marshal(sources)
	if err != nil {
		return 0, err
	}
	first, last := old.FirstSeen, old.LastSeen
	if k.FirstSeen.Before(first) {
		first = k.FirstSeen
	}
	if k.LastSeen.After(last) {
		last = k.LastSeen
	}
	if k.Source.Rank() < old.Source.Rank() {
		// A weaker source only adds a sighting.
		_, err = tx.ExecContext(ctx, `UPDATE researcher_keys SET sources = ?, first_seen = ?, last_seen = ?
			WHERE id = ?`, string(sj), formatTime(first), formatTime(last), id)
		return id, err
	}
	if _, err = tx.ExecContext(ctx, `UPDATE researcher_keys SET user_id = ?, source = ?, sources = ?, public = ?,
		expires_at = ?, first_seen = ?, last_seen = ? WHERE id = ?`,
		k.UserID, string(k.Source), string(sj), k.Public, nullTime(k.ExpiresAt),
		formatTime(first), formatTime(last), id); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM researcher_key_ids WHERE researcher_key_id = ?`, id); err != nil {
		return 0, err
	}
	return id, insertKeyIDs(ctx, tx, id, k.KeyIDs)
}

// makeRoom lets k, a key not yet held for its address, be stored: when
// the address holds maxKeysPerAddress keys already, it deletes the weakest
// of them (lowest source rank, then least recently seen) if k beats it. It
// reports whether k may be stored.
func makeRoom(ctx context.Context, tx *sql.Tx, k *triage.ResearcherKey) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM researcher_keys WHERE email = ?`, k.Email).Scan(&n); err != nil {
		return false, err
	}
	if n < maxKeysPerAddress {
		return true, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, source, last_seen FROM researcher_keys
		WHERE email = ? ORDER BY last_seen, id`, k.Email)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var (
		weakest     int64
		weakestRank int
		weakestSeen time.Time
	)
	for rows.Next() {
		var (
			id     int64
			source string
			seen   time.Time
		)
		if err := rows.Scan(&id, &source, timeScanner{&seen}); err != nil {
			return false, err
		}
		// Oldest first, so the first of the lowest rank is the weakest.
		if r := triage.KeySource(source).Rank(); weakest == 0 || r < weakestRank {
			weakest, weakestRank, weakestSeen = id, r, seen
		}
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	rows.Close()
	if r := k.Source.Rank(); r < weakestRank || r == weakestRank && !k.LastSeen.After(weakestSeen) {
		return false, nil
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM researcher_keys WHERE id = ?`, weakest)
	return err == nil, err
}

// mergeSources adds s to sources, strongest first, without duplicates.
func mergeSources(sources []triage.KeySource, s triage.KeySource) []triage.KeySource {
	out := slices.Clone(sources)
	if !slices.Contains(out, s) {
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b triage.KeySource) int { return b.Rank() - a.Rank() })
	return out
}

func insertKeyIDs(ctx context.Context, tx *sql.Tx, id int64, keyIDs []string) error {
	for _, kid := range keyIDs {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO researcher_key_ids (key_id, researcher_key_id)
			VALUES (?, ?)`, kid, id); err != nil {
			return err
		}
	}
	return nil
}

// researcherKeyColumns are the columns scanResearcherKey reads.
const researcherKeyColumns = `k.id, k.email, k.fingerprint, k.user_id, k.source, k.sources, k.public,
	k.expires_at, k.first_seen, k.last_seen,
	(SELECT COALESCE(group_concat(key_id, ','), '') FROM researcher_key_ids WHERE researcher_key_id = k.id)`

func scanResearcherKey(row interface{ Scan(...any) error }) (triage.ResearcherKey, error) {
	var (
		k                     triage.ResearcherKey
		source, sources, kids string
	)
	if err := row.Scan(&k.ID, &k.Email, &k.Fingerprint, &k.UserID, &source, &sources, &k.Public,
		timeScanner{&k.ExpiresAt}, timeScanner{&k.FirstSeen}, timeScanner{&k.LastSeen}, &kids); err != nil {
		return k, err
	}
	k.Source = triage.KeySource(source)
	if err := json.Unmarshal([]byte(sources), &k.Sources); err != nil {
		return k, fmt.Errorf("researcher key %d: sources: %w", k.ID, err)
	}
	if kids != "" {
		k.KeyIDs = strings.Split(kids, ",")
		slices.Sort(k.KeyIDs)
	}
	return k, nil
}

// ResearcherKeys returns the keys held for address email (compared
// lower-cased), best first: strongest source, then newest last_seen (the
// order of triage.BestResearcherKey, expired keys included). It returns an
// empty list, not an error, when there are none.
func (db *DB) ResearcherKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var keys []triage.ResearcherKey
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		keys, err = findResearcherKeys(ctx, tx, `SELECT `+researcherKeyColumns+` FROM researcher_keys k
			WHERE k.email = ? ORDER BY k.last_seen DESC, k.id DESC LIMIT ?`, email, maxKeysPerAddress)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: researcher keys: %w", err)
	}
	sortResearcherKeys(keys)
	return keys, nil
}

// ResearcherKeysByKeyID returns the stored keys having a primary key or
// subkey with one of keyIDs (16 hex digits; others are ignored), whatever
// address they are stored for, best first. At most 64 IDs are looked up.
func (db *DB) ResearcherKeysByKeyID(ctx context.Context, keyIDs []string) ([]triage.ResearcherKey, error) {
	var args []any
	for _, id := range keyIDs {
		id = strings.ToUpper(strings.TrimSpace(id))
		if len(id) == 16 && isHex(id) && len(args) < maxKeyIDLookup {
			args = append(args, id)
		}
	}
	if len(args) == 0 {
		return nil, nil
	}
	cacheKey := fmt.Sprint(args...)
	if keys, ok := db.keyIDs.get(cacheKey); ok {
		return keys, nil
	}
	gen := db.keyIDs.generation()
	q := `SELECT ` + researcherKeyColumns + ` FROM researcher_keys k WHERE k.id IN
		(SELECT researcher_key_id FROM researcher_key_ids WHERE key_id IN (?` + strings.Repeat(", ?", len(args)-1) + `))
		ORDER BY k.last_seen DESC, k.id DESC LIMIT ?`
	args = append(args, maxKeysPerAddress)
	var keys []triage.ResearcherKey
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		keys, err = findResearcherKeys(ctx, tx, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: researcher keys by key ID: %w", err)
	}
	sortResearcherKeys(keys)
	db.keyIDs.put(cacheKey, keys, gen)
	return keys, nil
}

// keyIDCache keeps ResearcherKeysByKeyID's answers until the researcher
// keys change: intake asks for the same signer's key for every message
// of a burst. Every write to the researcher keys in this process forgets
// them all (after its transaction), and an answer read while a write
// went on is not kept. It holds at most maxKeyIDCache answers.
type keyIDCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string][]triage.ResearcherKey
}

const maxKeyIDCache = 4096

func (c *keyIDCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns a copy of the answer for key, if kept.
func (c *keyIDCache) get(key string) ([]triage.ResearcherKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys, ok := c.m[key]
	return slices.Clone(keys), ok
}

// put keeps keys as the answer for key, read at generation gen.
func (c *keyIDCache) put(key string, keys []triage.ResearcherKey, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // the keys changed while they were read
	}
	if c.m == nil || len(c.m) >= maxKeyIDCache {
		c.m = map[string][]triage.ResearcherKey{}
	}
	c.m[key] = slices.Clone(keys)
}

// forget drops every answer kept.
func (c *keyIDCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

func findResearcherKeys(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]triage.ResearcherKey, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []triage.ResearcherKey
	for rows.Next() {
		k, err := scanResearcherKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// sortResearcherKeys orders keys strongest source first, keeping the
// query's newest-first order within a source.
func sortResearcherKeys(keys []triage.ResearcherKey) {
	slices.SortStableFunc(keys, func(a, b triage.ResearcherKey) int { return b.Source.Rank() - a.Source.Rank() })
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}
