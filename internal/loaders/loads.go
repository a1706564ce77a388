package loaders

import (
	"context"
	"database/sql"
	"fmt"
)

// LoadRecord is one load recorded in dschema_loads (recordLoad writes
// them), as dschema loads lists it.
type LoadRecord struct {
	LoadID   int64  `json:"load_id"`
	Kind     string `json:"kind"`
	Variant  string `json:"variant"`
	State    string `json:"state"`      // "current", or "replaced" when a later load of its source replaced it
	Started  string `json:"started_at"` // in UTC, as 2006-01-02 15:04:05
	SHA256   string `json:"sha256"`
	Rows     int64  `json:"rows_written"` // over every table
	Replaces *int64 `json:"replaced_load_id"`
	Source   string `json:"source"`
}

// ListLoads returns the loads recorded in db, by load_id; an empty slice,
// not nil, when there are none.
func ListLoads(ctx context.Context, db *sql.DB) ([]LoadRecord, error) {
	rows, err := db.QueryContext(ctx, `SELECT load_id, kind, coalesce(variant, ''), source, coalesce(sha256, ''),
		coalesce((SELECT sum(v) FROM (SELECT unnest(map_values(rows_written)) AS v)), 0),
		strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'), replaced_load_id,
		EXISTS (SELECT 1 FROM dschema_loads n WHERE n.replaced_load_id = l.load_id)
		FROM dschema_loads l ORDER BY load_id`)
	if err != nil {
		return nil, fmt.Errorf("read dschema_loads: %w", err)
	}
	defer rows.Close()
	list := []LoadRecord{}
	for rows.Next() {
		var r LoadRecord
		var replaced sql.NullInt64
		var superseded bool
		if err := rows.Scan(&r.LoadID, &r.Kind, &r.Variant, &r.Source, &r.SHA256, &r.Rows, &r.Started, &replaced, &superseded); err != nil {
			return nil, fmt.Errorf("read dschema_loads: %w", err)
		}
		r.State = "current"
		if superseded {
			r.State = "replaced"
		}
		if replaced.Valid {
			r.Replaces = &replaced.Int64
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dschema_loads: %w", err)
	}
	return list, nil
}
