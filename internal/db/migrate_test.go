package db_test

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// TestMigrate_ConcurrentInstances starts five instances against one empty database at
// the same moment, as a first deployment behind a load balancer does: each migration must
// be applied exactly once while the other instances wait and then find nothing to do.
func TestMigrate_ConcurrentInstances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	handles := openInstances(t, mustEmptyDatabase(t, dbtest.ServerURL(t), "biobank_migrate_test_"), 5)

	for i, err := range all(handles, func(d *db.DB) error { return d.Migrate(ctx) }) {
		if err != nil {
			t.Errorf("instance %d: migrate: %v", i, err)
		}
	}
	rows := assertMigratedOnce(t, handles[0], embeddedVersions(t))

	// The next start-up finds every migration applied and changes nothing.
	if err := handles[0].Migrate(ctx); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if again := assertMigratedOnce(t, handles[0], embeddedVersions(t)); again != rows {
		t.Errorf("second Migrate changed goose_db_version from %d to %d rows", rows, again)
	}
}

// TestMigrate_ConcurrentUpgradeAppliesNewMigrationOnce is the rolling upgrade: the
// schema is at release 1 and five instances of release 2, which adds a slow migration,
// start together. Without the advisory lock every instance sees the migration pending
// and all but one fail on "relation already exists".
func TestMigrate_ConcurrentUpgradeAppliesNewMigrationOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	handles := openInstances(t, mustEmptyDatabase(t, dbtest.ServerURL(t), "biobank_upgrade_test_"), 5)

	release1 := fstest.MapFS{
		"00001_first.sql": {Data: []byte("-- +goose Up\nCREATE TABLE first (id bigint PRIMARY KEY);\n")},
	}
	if err := handles[0].MigrateFS(ctx, release1); err != nil {
		t.Fatalf("migrate release 1: %v", err)
	}
	assertMigratedOnce(t, handles[0], []int64{1})

	release2 := fstest.MapFS{
		"00001_first.sql":  release1["00001_first.sql"],
		"00002_second.sql": {Data: []byte("-- +goose Up\nSELECT pg_sleep(0.5);\nCREATE TABLE second (id bigint PRIMARY KEY);\n")},
	}
	for i, err := range all(handles, func(d *db.DB) error { return d.MigrateFS(ctx, release2) }) {
		if err != nil {
			t.Errorf("instance %d: migrate release 2: %v", i, err)
		}
	}
	assertMigratedOnce(t, handles[0], []int64{1, 2})
}

// openInstances opens n independent handles on the database at url, as n application
// instances would, closed when the test ends.
func openInstances(tb testing.TB, url string, n int) []*db.DB {
	tb.Helper()
	handles := make([]*db.DB, n)
	for i := range handles {
		d, err := db.Open(context.Background(), url)
		if err != nil {
			tb.Fatalf("open instance %d: %v", i, err)
		}
		tb.Cleanup(d.Close)
		handles[i] = d
	}
	return handles
}

// all runs fn on every handle at the same moment and returns the errors, in order.
func all(handles []*db.DB, fn func(*db.DB) error) []error {
	start := make(chan struct{})
	errs := make([]error, len(handles))
	done := make(chan struct{})
	for i, d := range handles {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			errs[i] = fn(d)
		}()
	}
	close(start)
	for range handles {
		<-done
	}
	return errs
}
