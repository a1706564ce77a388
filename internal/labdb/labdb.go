// Package labdb opens the lab's database files against the migrations
// embedded in this binary: it creates a new one at the newest version (from
// the verified disk cache when it can), and opens one for goose. It is kept
// out of internal/project, which go generate runs: the generator must not
// embed the migrations it writes.
package labdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/migrations"
)

// UpNewDB creates the database at path at the newest version of the
// embedded migrations when no file is there yet (project.MigratedFile: a verified
// cached copy when there is one) and says on out what it did. It returns
// the version reached, 0 when path already exists and nothing was done.
func UpNewDB(ctx context.Context, path string, out io.Writer) (int64, error) {
	if err := dbfile.Named(path); err != nil {
		return 0, err
	}
	if path == ":memory:" {
		return 0, nil
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err := migrate.VerifySum(migrations.FS, "migrations"); err != nil {
		return 0, err
	}
	files, err := migrate.ReadFiles(migrations.FS)
	if err != nil || len(files) == 0 {
		return 0, err
	}
	newest := files[len(files)-1].Version
	start := time.Now()
	rs, cached, err := project.MigratedFile(ctx, files, path)
	PrintResults(out, rs)
	if err != nil || !cached {
		return newest, err
	}
	// The copy says when the cached database was migrated: record now.
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return newest, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE `+migrate.TableName+` SET tstamp = current_timestamp`); err != nil {
		return newest, err
	}
	for _, f := range files {
		fmt.Fprintf(out, "applied %s (from the cached, verified database of this migration set)\n", f.Name)
	}
	fmt.Fprintf(out, "created %s in %s\n", path, time.Since(start).Round(time.Millisecond))
	return newest, nil
}

// OpenMigrator opens the database at path with the embedded migrations;
// with create it makes the file when there is none. The caller closes the
// database.
func OpenMigrator(ctx context.Context, path string, create bool) (*sql.DB, *migrate.Migrator, error) {
	open := dbfile.OpenExisting
	if create {
		if err := dbfile.Named(path); err != nil {
			return nil, nil, err
		}
		open = dbfile.Open
	}
	db, err := open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	m, err := migrate.New(db, path, migrations.FS, "migrations")
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, m, nil
}

// PrintResults writes one line per applied or reverted migration, with its duration.
func PrintResults(w io.Writer, rs []migrate.Result) {
	for _, r := range rs {
		dir := "applied"
		if !r.Up {
			dir = "reverted"
		}
		fmt.Fprintf(w, "%s %s (%s)\n", dir, r.File, r.Duration.Round(1e6))
	}
}
