package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// TrackingIDs returns the tracking ids of the reports ids, by report ID,
// in one query and without loading any content: what a page needs to
// link other reports (duplicates, originals). IDs with no report are
// left out of the map.
func (db *DB) TrackingIDs(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// One JSON array parameter rather than one placeholder per ID: no
	// limit on how many, and the statement text stays the same.
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("db: tracking ids: %w", err)
	}
	err = db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, tracking_id FROM reports
			WHERE id IN (SELECT value FROM json_each(?))`, string(list))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id  int64
				tid string
			)
			if err := rows.Scan(&id, &tid); err != nil {
				return err
			}
			out[id] = tid
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: tracking ids: %w", err)
	}
	return out, nil
}
