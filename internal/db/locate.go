package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultClusterPort is the port of the private cluster `make run` starts under .data/
// when no other PostgreSQL server is available. It is not 5432 so that it never collides
// with a system server that starts later.
const DefaultClusterPort = 54329

// LocateOptions says where to look for a development or test database.
type LocateOptions struct {
	// URL, when set, is used as it is (DATABASE_URL or TEST_DATABASE_URL).
	URL string
	// Database is the name to create on a discovered server, e.g. "biobank".
	Database string
	// DataDir is where a private cluster lives when no server answers, e.g. ".data".
	DataDir string
	// Port is the private cluster's port; DefaultClusterPort when zero.
	Port int
}

// Locate finds a PostgreSQL database in the order the README documents: the given URL;
// else a server on localhost:5432 (creating the database if it is missing); else a private
// cluster under DataDir, initialised and started with the system's initdb and pg_ctl.
// It returns the URL of the database, which exists when Locate returns.
func Locate(ctx context.Context, opts LocateOptions) (string, error) {
	if opts.URL != "" {
		return opts.URL, nil
	}
	if server, ok := localServer(ctx); ok {
		return EnsureDatabase(ctx, server, opts.Database)
	}
	if opts.Port == 0 {
		opts.Port = DefaultClusterPort
	}
	server, err := StartCluster(ctx, opts.DataDir, opts.Port)
	if err != nil {
		return "", err
	}
	return EnsureDatabase(ctx, server, opts.Database)
}

// localServer tries the usual ways of reaching a server on localhost:5432 without a
// password and returns the URL of its maintenance database.
func localServer(ctx context.Context) (string, bool) {
	users := []string{}
	if u := os.Getenv("PGUSER"); u != "" {
		users = append(users, u)
	}
	users = append(users, "postgres")
	if u, err := user.Current(); err == nil {
		users = append(users, u.Username)
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		return "", false
	}
	_ = conn.Close()
	for _, name := range users {
		url := fmt.Sprintf("postgres://%s@127.0.0.1:5432/postgres?sslmode=disable", name)
		if pingURL(ctx, url) == nil {
			return url, true
		}
	}
	return "", false
}

func pingURL(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// EnsureDatabase creates database name on the server at serverURL if it does not exist and
// returns a URL that points at it.
func EnsureDatabase(ctx context.Context, serverURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", fmt.Errorf("db: connect to %s: %w", Redact(serverURL), err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("db: look for database %s: %w", name, err)
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return "", fmt.Errorf("db: create database %s: %w", name, err)
		}
		slog.Info("database created", "name", name)
	}
	return WithDatabase(serverURL, name)
}

// StartCluster makes sure a private PostgreSQL cluster lives in dir/pg and listens on
// 127.0.0.1:port, initialising and starting it when needed, and returns the URL of its
// maintenance database. It is idempotent: a running cluster is reused. PostgreSQL refuses
// to run as root, so when this process is root the cluster belongs to the unprivileged
// system user "postgres" (or "nobody" where that user does not exist).
func StartCluster(ctx context.Context, dir string, port int) (string, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return "", err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	cred, err := clusterCredential()
	if err != nil {
		return "", err
	}
	pgdata := filepath.Join(dir, "pg")
	logFile := filepath.Join(dir, "postgres.log")
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("db: create %s: %w", dir, err)
	}
	// Several processes may get here at once (go test runs one per package), and two
	// initdb or pg_ctl start on one directory fail: one at a time.
	unlock, err := lockFile(filepath.Join(dir, "cluster.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(pgdata, 0o700); err != nil {
			return "", fmt.Errorf("db: create %s: %w", pgdata, err)
		}
		if err := chownTo(cred, pgdata); err != nil {
			return "", err
		}
		slog.Info("initialising a private PostgreSQL cluster", "dir", pgdata)
		if out, err := runAs(ctx, cred, pgdata, filepath.Join(bin, "initdb"),
			"-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
			return "", fmt.Errorf("db: initdb: %w: %s", err, out)
		}
	}
	if pingURL(ctx, url) == nil {
		return url, nil
	}
	if f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		_ = f.Close()
	}
	if err := chownTo(cred, logFile); err != nil {
		return "", err
	}
	slog.Info("starting the private PostgreSQL cluster", "dir", pgdata, "port", port, "log", logFile)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, pgdata)
	if out, err := runAs(ctx, cred, pgdata, filepath.Join(bin, "pg_ctl"),
		"-D", pgdata, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return "", fmt.Errorf("db: pg_ctl start (see %s): %w: %s", logFile, err, out)
	}
	if err := pingURL(ctx, url); err != nil {
		return "", fmt.Errorf("db: private cluster started but does not answer: %w", err)
	}
	return url, nil
}

// StopCluster stops the private cluster in dir/pg, if it runs; it is not an error when
// there is no cluster there or it is already stopped.
func StopCluster(ctx context.Context, dir string) error {
	// Absolute, because runAs starts pg_ctl inside pgdata: a relative -D would be
	// resolved from there.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pgdata := filepath.Join(dir, "pg")
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	bin, err := postgresBinDir()
	if err != nil {
		return err
	}
	cred, err := clusterCredential()
	if err != nil {
		return err
	}
	pgCtl := filepath.Join(bin, "pg_ctl")
	// pg_ctl status exits with 3 when no server runs in pgdata.
	if _, err := runAs(ctx, cred, pgdata, pgCtl, "-D", pgdata, "status"); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return nil
		}
	}
	out, err := runAs(ctx, cred, pgdata, pgCtl, "-D", pgdata, "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("db: pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// ErrNoPostgres explains what to install when no PostgreSQL server binaries exist.
var ErrNoPostgres = errors.New("no PostgreSQL server found: nothing answers on localhost:5432, DATABASE_URL is not set, " +
	"and initdb/pg_ctl are not installed. Install the server with `apt-get install postgresql` " +
	"(Debian/Ubuntu package postgresql) or set DATABASE_URL")

// postgresBinDir finds the directory holding initdb and pg_ctl: on the PATH, else under
// Debian's /usr/lib/postgresql/<version>/bin (newest version first).
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// clusterCredential is nil when this process may run PostgreSQL itself, else the
// unprivileged user to run it as.
func clusterCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("db: running as root and neither the postgres nor the nobody user exists to own the private cluster; create one (useradd --system postgres)")
}

// lockFile takes an exclusive lock on path, waiting for it, and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("db: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("db: lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing the file releases the lock
}

func chownTo(cred *syscall.Credential, path string) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("db: hand %s to the cluster user: %w", path, err)
	}
	return nil
}

func runAs(ctx context.Context, cred *syscall.Credential, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
