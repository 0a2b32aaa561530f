package db_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// TestStartCluster_FromNothing is the path `make run` takes on a machine with PostgreSQL
// installed but no server running: initialise a cluster in an empty directory, start it,
// create and migrate a database, find the running cluster again, and stop it.
func TestStartCluster_FromNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cluster := dbtest.NewCluster(t)
	dir, port := cluster.Dir, cluster.Port

	serverURL, err := db.StartCluster(ctx, dir, port)
	skipWithoutPostgres(t, err)
	if err != nil {
		t.Fatalf("start cluster in %s on port %d: %v", dir, port, err)
	}
	if !strings.Contains(serverURL, "127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("StartCluster URL = %s, want the server on 127.0.0.1:%d", serverURL, port)
	}
	pgdata := filepath.Join(dir, "pg")
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); err != nil {
		t.Errorf("no cluster initialised in %s: %v", pgdata, err)
	}
	pid := postmasterPID(t, pgdata)

	url, err := db.EnsureDatabase(ctx, serverURL, "biobank")
	if err != nil {
		t.Fatalf("create database: %v", err)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	assertMigratedOnce(t, d, embeddedVersions(t))
	var dataDir, listenPort string
	if err := d.Pool.QueryRow(ctx, "SELECT current_setting('data_directory'), current_setting('port')").Scan(&dataDir, &listenPort); err != nil {
		t.Fatal(err)
	}
	if dataDir != pgdata || listenPort != strconv.Itoa(port) {
		t.Errorf("connected to the server of %s on port %s, want %s on port %d", dataDir, listenPort, pgdata, port)
	}

	// A second start, as on the next `make run`, reuses the running cluster.
	again, err := db.StartCluster(ctx, dir, port)
	if err != nil {
		t.Fatalf("start cluster again: %v", err)
	}
	if again != serverURL {
		t.Errorf("second StartCluster URL = %s, want %s", again, serverURL)
	}
	if got := postmasterPID(t, pgdata); got != pid {
		t.Errorf("second StartCluster restarted the server: postmaster pid %d, was %d", got, pid)
	}
	if _, err := db.EnsureDatabase(ctx, again, "biobank"); err != nil {
		t.Errorf("EnsureDatabase on an existing database: %v", err)
	}

	d.Close()
	if err := db.StopCluster(ctx, dir); err != nil {
		t.Fatalf("stop cluster: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		conn.Close()
		t.Errorf("port %d still answers after StopCluster", port)
	}
	if err := db.StopCluster(ctx, dir); err != nil {
		t.Errorf("StopCluster on a stopped cluster: %v, want nil", err)
	}
}

// TestStartCluster_ConcurrentCallersShareOneCluster is `go test ./...` on a machine
// with no server running: every package's test binary starts the same cluster at once.
func TestStartCluster_ConcurrentCallersShareOneCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster := dbtest.NewCluster(t)
	dir, port := cluster.Dir, cluster.Port

	const callers = 4
	urls := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { urls[i], errs[i] = db.StartCluster(ctx, dir, port) })
	}
	wg.Wait()
	skipWithoutPostgres(t, errs[0])
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		} else if urls[i] != urls[0] {
			t.Errorf("caller %d got %s, caller 0 %s", i, urls[i], urls[0])
		}
	}
}

func TestStopCluster_NoClusterIsNotAnError(t *testing.T) {
	if err := db.StopCluster(context.Background(), t.TempDir()); err != nil {
		t.Errorf("StopCluster(empty dir) = %v, want nil", err)
	}
}

// skipWithoutPostgres skips the test when StartCluster failed only because this machine
// has no PostgreSQL server binaries: the one case in which it cannot run.
func skipWithoutPostgres(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, db.ErrNoPostgres) {
		tb.Skipf("no PostgreSQL server binaries (initdb, pg_ctl) on this machine: %v", err)
	}
}

// postmasterPID reads the process id of the server running in pgdata.
func postmasterPID(tb testing.TB, pgdata string) int {
	tb.Helper()
	pid, ok := dbtest.PostmasterPID(pgdata)
	if !ok {
		tb.Fatalf("no server running in %s", pgdata)
	}
	return pid
}
