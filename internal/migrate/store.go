package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pressly/goose/v3/database"
)

// TableName is dschema's migration bookkeeping table.
const TableName = "dschema_migrations"

// Store is goose's database.Store for DuckDB (goose dropped its own DuckDB
// dialect in v3.19.2). Besides what goose needs, it records each applied
// migration's file name, sha256 and the tool version, in the same transaction
// as the migration itself.
type Store struct {
	files       map[int64]File
	toolVersion string
}

var _ database.Store = (*Store)(nil)

// NewStore returns a store that knows files (to record their checksums).
func NewStore(files []File, toolVersion string) *Store {
	m := make(map[int64]File, len(files))
	for _, f := range files {
		m[f.Version] = f
	}
	return &Store{files: m, toolVersion: toolVersion}
}

// Tablename implements database.Store.
func (s *Store) Tablename() string { return TableName }

// CreateVersionTable implements database.Store.
func (s *Store) CreateVersionTable(ctx context.Context, db database.DBTxConn) error {
	for _, q := range []string{
		`CREATE SEQUENCE IF NOT EXISTS dschema_migrations_id_seq START 1`,
		`CREATE TABLE dschema_migrations (
			id BIGINT PRIMARY KEY DEFAULT nextval('dschema_migrations_id_seq'),
			version_id BIGINT NOT NULL,
			is_applied BOOLEAN NOT NULL,
			tstamp TIMESTAMP DEFAULT current_timestamp,
			file_name VARCHAR,
			checksum VARCHAR,
			tool_version VARCHAR
		)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create %s: %w", TableName, err)
		}
	}
	return nil
}

// Insert implements database.Store.
func (s *Store) Insert(ctx context.Context, db database.DBTxConn, req database.InsertRequest) error {
	var name, sum any
	if f, ok := s.files[req.Version]; ok {
		name, sum = f.Name, f.Checksum()
	}
	_, err := db.ExecContext(ctx, `INSERT INTO dschema_migrations (version_id, is_applied, file_name, checksum, tool_version) VALUES (?, true, ?, ?, ?)`,
		req.Version, name, sum, s.toolVersion)
	if err != nil {
		return fmt.Errorf("record migration %d: %w", req.Version, err)
	}
	return nil
}

// Delete implements database.Store.
func (s *Store) Delete(ctx context.Context, db database.DBTxConn, version int64) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM dschema_migrations WHERE version_id = ?`, version); err != nil {
		return fmt.Errorf("forget migration %d: %w", version, err)
	}
	return nil
}

// GetMigration implements database.Store.
func (s *Store) GetMigration(ctx context.Context, db database.DBTxConn, version int64) (*database.GetMigrationResult, error) {
	var r database.GetMigrationResult
	err := db.QueryRowContext(ctx, `SELECT tstamp, is_applied FROM dschema_migrations WHERE version_id = ? ORDER BY id DESC LIMIT 1`, version).
		Scan(&r.Timestamp, &r.IsApplied)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %d", database.ErrVersionNotFound, version)
	}
	if err != nil {
		return nil, fmt.Errorf("get migration %d: %w", version, err)
	}
	return &r, nil
}

// GetLatestVersion implements database.Store.
func (s *Store) GetLatestVersion(ctx context.Context, db database.DBTxConn) (int64, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM dschema_migrations`).Scan(&v); err != nil {
		return -1, fmt.Errorf("get latest version: %w", err)
	}
	if !v.Valid {
		return -1, fmt.Errorf("latest %w", database.ErrVersionNotFound)
	}
	return v.Int64, nil
}

// ListMigrations implements database.Store.
func (s *Store) ListMigrations(ctx context.Context, db database.DBTxConn) ([]*database.ListMigrationsResult, error) {
	rows, err := db.QueryContext(ctx, `SELECT version_id, is_applied FROM dschema_migrations ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var out []*database.ListMigrationsResult
	for rows.Next() {
		var r database.ListMigrationsResult
		if err := rows.Scan(&r.Version, &r.IsApplied); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// Applied is one applied migration as recorded in the database.
type Applied struct {
	Version     int64
	FileName    string
	Checksum    string
	ToolVersion string
	AppliedAt   time.Time
}

// ListApplied reads the applied migrations (version 0 excluded), oldest first.
// A database without the table has none.
func ListApplied(ctx context.Context, db *sql.DB) ([]Applied, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'dschema_migrations' AND schema_name = 'main' AND database_name = current_database()`).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT version_id, coalesce(file_name, ''), coalesce(checksum, ''), coalesce(tool_version, ''), tstamp
		FROM dschema_migrations WHERE version_id > 0 AND is_applied ORDER BY version_id`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TableName, err)
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var a Applied
		if err := rows.Scan(&a.Version, &a.FileName, &a.Checksum, &a.ToolVersion, &a.AppliedAt); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
