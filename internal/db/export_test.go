package db

import (
	"context"
	"io/fs"
)

// MigrateFS applies the migrations in fsys instead of the embedded ones, so that a test
// can play a release that adds a migration.
func (d *DB) MigrateFS(ctx context.Context, fsys fs.FS) error {
	return migrate(ctx, d.SQL, fsys, 0)
}
