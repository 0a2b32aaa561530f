package db_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"biobank/internal/db"
	"biobank/migrations"
)

// uniqueName returns a database name no other test run uses.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// mustEmptyDatabase creates an empty database with a unique name on the server at
// serverURL, drops it when the test ends (unless KEEPDB=1) and returns its URL.
func mustEmptyDatabase(tb testing.TB, serverURL, prefix string) string {
	tb.Helper()
	ctx := context.Background()
	name := uniqueName(prefix)
	url, err := db.EnsureDatabase(ctx, serverURL, name)
	if err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() { dropDatabase(tb, serverURL, name) })
	return url
}

// dropDatabase drops name, closing any connection still using it.
func dropDatabase(tb testing.TB, serverURL, name string) {
	tb.Helper()
	if os.Getenv("KEEPDB") == "1" {
		tb.Logf("KEEPDB=1, keeping database %s", name)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		tb.Errorf("drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		tb.Errorf("drop database %s: %v", name, err)
	}
}

// embeddedVersions lists the versions of the embedded migration files, ascending.
func embeddedVersions(tb testing.TB) []int64 {
	tb.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		tb.Fatal(err)
	}
	var versions []int64
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			tb.Fatalf("migration %s: no numeric version prefix", name)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		tb.Fatal("no migrations embedded")
	}
	slices.Sort(versions)
	return versions
}

// assertMigratedOnce checks goose's version table: every migration in want recorded
// exactly once, as applied, besides goose's own version 0 row. It returns the number of
// rows so a caller can check that a later run added none.
func assertMigratedOnce(tb testing.TB, d *db.DB, want []int64) int {
	tb.Helper()
	ctx := context.Background()
	rows, err := d.Pool.Query(ctx,
		"SELECT version_id, count(*), bool_and(is_applied) FROM goose_db_version GROUP BY version_id ORDER BY version_id")
	if err != nil {
		tb.Fatalf("read goose_db_version: %v", err)
	}
	defer rows.Close()
	var got []int64
	total := 0
	for rows.Next() {
		var version, count int64
		var applied bool
		if err := rows.Scan(&version, &count, &applied); err != nil {
			tb.Fatal(err)
		}
		if count != 1 {
			tb.Errorf("migration %d recorded %d times, want once", version, count)
		}
		if !applied {
			tb.Errorf("migration %d recorded as not applied", version)
		}
		got = append(got, version)
		total += int(count)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	want = append([]int64{0}, want...)
	if !slices.Equal(got, want) {
		tb.Errorf("goose_db_version holds versions %v, want %v", got, want)
	}
	return total
}
