package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// configVars are every environment variable the command reads; tests clear them so that
// the developer's shell cannot change what a test sees.
var configVars = []string{
	"BIOBANK_ADDR", "BIOBANK_BASE_URL", "BIOBANK_SECURE_COOKIES",
	"BIOBANK_SESSION_IDLE_TIMEOUT", "BIOBANK_SESSION_LIFETIME", "BIOBANK_ACCESSION_PREFIX",
	"BIOBANK_REQUEST_TIMEOUT", "BIOBANK_DB_STATEMENT_TIMEOUT", "BIOBANK_DB_POOL_WAIT",
	"BIOBANK_INSTANCE", "BIOBANK_INSTANCE_KEY", "BIOBANK_KEY_FILE",
}

// clearConfig unsets (for the test) every BIOBANK_* variable.
func clearConfig(t *testing.T) {
	t.Helper()
	for _, v := range configVars {
		t.Setenv(v, "")
	}
	// The instance key goes to the test's own directory, not into the source tree.
	t.Setenv("BIOBANK_KEY_FILE", filepath.Join(t.TempDir(), "instance.key"))
}

// newDatabase gives the test a fresh, migrated database and points DATABASE_URL at it, as
// an operator would before running the command. It returns the database's URL.
func newDatabase(t *testing.T) string {
	t.Helper()
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	clearConfig(t)
	return url
}

// result is what one run of the command left behind.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// runCmd runs the command with args and stdin, as `biobank args...` in a shell would.
func runCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustRun runs the command and fails the test unless it exits 0.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := runCmd(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("biobank %s: want exit 0, got %s", strings.Join(args, " "), r)
	}
	return r
}

// wantExit fails the test unless the command exited with code and its stderr holds every
// one of the fragments.
func wantExit(t *testing.T, r result, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("want exit %d, got %s", code, r)
		return
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, r.stderr)
		}
	}
}

// openTestDB opens the database at url for the test's own checks.
func openTestDB(t *testing.T, url string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open %s: %v", db.Redact(url), err)
	}
	t.Cleanup(d.Close)
	return d
}

// rowCounts returns the number of rows in every table the commands write, so a test can
// show that a refused command wrote nothing.
func rowCounts(t *testing.T, url string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	counts := map[string]int64{}
	for _, table := range []string{"sites", "users", "api_tokens", "audit_events"} {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// wantCounts fails the test unless the tables hold exactly the rows in want.
func wantCounts(t *testing.T, url string, want map[string]int64) {
	t.Helper()
	got := rowCounts(t, url)
	for table, n := range want {
		if got[table] != n {
			t.Errorf("%s holds %d rows, want %d (all counts: %v)", table, got[table], n, got)
		}
	}
}

// exec runs SQL on the database at url as the database owner, bypassing the application.
func exec(t *testing.T, url string, statements ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// freePort returns a loopback address:port nobody listens on at the moment.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// testPassword is a password that meets the policy.
const testPassword = "correct horse battery staple\n"

// mustSiteAndUser creates the site LUX and the user username with role through the
// command line, as the first steps of a production install do.
func mustSiteAndUser(t *testing.T, username, role string) {
	t.Helper()
	mustRun(t, "", "site", "create", "--code", "LUX", "--name", "Luxembourg", "--country", "LU")
	mustRun(t, testPassword, "user", "create", "--username", username, "--role", role, "--site", "LUX", "--password-stdin")
}
