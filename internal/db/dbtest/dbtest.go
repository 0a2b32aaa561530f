// Package dbtest gives each test its own real PostgreSQL database with every migration
// applied (goatcounter's gctest.DB). The server is found as for development: the
// TEST_DATABASE_URL server, else localhost:5432, else the private cluster under .data/.
// Databases are dropped when the test ends unless KEEPDB=1.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"biobank/internal/db"
	"biobank/migrations"
)

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error
)

// ServerURL returns the URL of the maintenance database of the server tests use.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	serverOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			serverURL = u
			return
		}
		serverURL, serverErr = db.Locate(ctx, db.LocateOptions{Database: "postgres", DataDir: filepath.Join(RepoRoot(), ".data")})
	})
	if serverErr != nil {
		tb.Fatalf("dbtest: no PostgreSQL server for tests: %v", serverErr)
	}
	return serverURL
}

// RepoRoot is the directory holding go.mod.
func RepoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// NewURL creates a fresh, fully migrated database and returns its URL. The database is
// dropped when the test ends (kept, and its name logged, with KEEPDB=1).
func NewURL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL(tb)
	return create(tb, server, templateDatabase(tb, server))
}

// NewEmpty returns an open handle on a fresh database without any migration applied, for
// tests of the migrations themselves; it is dropped when the test ends.
func NewEmpty(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), create(tb, ServerURL(tb), "template0"))
	if err != nil {
		tb.Fatalf("dbtest: open: %v", err)
	}
	tb.Cleanup(d.Close)
	return d
}

// create makes a database from template and returns its URL; it is dropped when the test
// ends.
func create(tb testing.TB, server, template string) string {
	tb.Helper()
	ctx := context.Background()
	name := "biobank_test_" + randomSuffix()

	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	createSQL := func(template string) string {
		return fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize())
	}
	_, err = conn.Exec(ctx, createSQL(template))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" && strings.HasPrefix(template, "biobank_template_") {
		// Another checkout's test run on the same server swept the template away: make it
		// again and go on.
		_, err = conn.Exec(ctx, createSQL(templateDatabase(tb, server)))
	}
	if err != nil {
		tb.Fatalf("dbtest: create database %s: %v", name, err)
	}
	url, err := db.WithDatabase(server, name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if os.Getenv("KEEPDB") == "1" {
			tb.Logf("dbtest: KEEPDB=1, keeping database %s", name)
			return
		}
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return url
}

// New returns an open handle on a fresh, fully migrated database, closed and dropped when
// the test ends.
func New(tb testing.TB) *db.DB {
	tb.Helper()
	url := NewURL(tb)
	d, err := db.Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("dbtest: open: %v", err)
	}
	tb.Cleanup(d.Close)
	return d
}

var templateMu sync.Mutex

// templateDatabase returns the name of a migrated template database for the current set
// of migrations, creating it once (under an advisory lock, as several test binaries run
// at the same time). Copying a template is much faster than migrating every database.
func templateDatabase(tb testing.TB, server string) string {
	tb.Helper()
	templateMu.Lock()
	defer templateMu.Unlock()
	ctx := context.Background()
	name := "biobank_template_" + migrationsHash(tb)

	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727272)"); err != nil {
		tb.Fatalf("dbtest: lock: %v", err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(727272)") //nolint:errcheck

	var ready bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	if err == nil && ready {
		return name
	}
	if err == nil {
		// A half-made template from an interrupted run.
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Fatalf("dbtest: drop stale template: %v", err)
		}
	}
	dropStaleTemplates(ctx, conn, name)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("dbtest: create template: %v", err)
	}
	url, err := db.WithDatabase(server, name)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		tb.Fatalf("dbtest: open template: %v", err)
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		tb.Fatalf("dbtest: migrate template: %v", err)
	}
	d.Close()
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH is_template true"); err != nil {
		tb.Fatalf("dbtest: mark template: %v", err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS 'created %d'", pgx.Identifier{name}.Sanitize(), time.Now().Unix())); err != nil {
		tb.Fatalf("dbtest: date template: %v", err)
	}
	return name
}

func migrationsHash(tb testing.TB) string {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		tb.Fatalf("dbtest: hash migrations: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dropStaleTemplates removes templates of older migration sets, so they do not pile up on a
// developer's server. It is best effort: a template still in use elsewhere stays.
func dropStaleTemplates(ctx context.Context, conn *pgx.Conn, keep string) {
	// Only templates made more than a day ago (their comment says when): another checkout
	// of another version may be running its tests on the same server right now.
	rows, err := conn.Query(ctx, `SELECT d.datname FROM pg_database d
		WHERE d.datname LIKE 'biobank_template_%' AND d.datname <> $1
		AND COALESCE(substring(shobj_description(d.oid, 'pg_database') FROM '^created ([0-9]+)$')::bigint, 0) < extract(epoch FROM now()) - 86400`, keep)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			stale = append(stale, n)
		}
	}
	rows.Close()
	for _, n := range stale {
		_, _ = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{n}.Sanitize()+" WITH is_template false")
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize())
	}
}
