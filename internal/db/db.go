// Package db opens the PostgreSQL pool, runs the embedded migrations and provides the
// transaction helper every domain service uses.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"biobank/migrations"
)

// migrationLockID is the PostgreSQL advisory lock key under which migrations run, so that
// several instances starting together apply them exactly once.
const migrationLockID = 0x6269_6f62_616e_6b // "biobank"

// DB bundles the one pgx pool with the two views of it the application needs: gorm for
// domain services and database/sql for goose.
type DB struct {
	Pool *pgxpool.Pool
	SQL  *sql.DB
	Gorm *gorm.DB
	// limits are those OpenWith was given.
	limits Limits
}

// Limits bound how long the application waits on the database, so that a database that
// is down, frozen or overloaded is answered quickly (the web layer says 503) instead of
// holding every request. The zero value sets no limit (command-line tools, tests).
type Limits struct {
	// StatementTimeout is PostgreSQL's statement_timeout on every connection: a statement
	// running longer is cancelled by the server (SQLSTATE 57014). Migrations run on a
	// connection of their own without it.
	StatementTimeout time.Duration
	// PoolWait bounds the wait for a connection from the pool, and the time to open a new
	// one, so a request queued behind a stuck pool or a server that accepts no
	// connections gives up.
	PoolWait time.Duration
}

// DefaultLimits are the web server's limits unless configured otherwise.
var DefaultLimits = Limits{StatementTimeout: 5 * time.Second, PoolWait: 3 * time.Second}

// Open connects to the database at url, without limits, and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Limits{})
}

// OpenWith connects to the database at url with the given limits and checks that it
// answers.
func OpenWith(ctx context.Context, url string, limits Limits) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 10
	}
	if limits.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(limits.StatementTimeout.Milliseconds(), 10)
		// A transaction left open by a stuck caller releases its locks after a while.
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt((4 * limits.StatementTimeout).Milliseconds(), 10)
	}
	if limits.PoolWait > 0 && (cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > limits.PoolWait) {
		cfg.ConnConfig.ConnectTimeout = limits.PoolWait
	}
	cfg.ConnConfig.Tracer = queryCounter{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: connect to %s: %w", Redact(url), err)
	}
	var connector driver.Connector = stdlib.GetPoolConnector(pool)
	if limits.PoolWait > 0 {
		connector = boundedConnector{Connector: connector, wait: limits.PoolWait}
	}
	sqlDB := sql.OpenDB(connector)
	// Every statement borrows a connection from the pgx pool, which does the pooling (as
	// stdlib.OpenDBFromPool sets it).
	sqlDB.SetMaxIdleConns(0)
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: open gorm: %w", err)
	}
	if err := watchWrites(gdb); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{Pool: pool, SQL: sqlDB, Gorm: gdb, limits: limits}, nil
}

// boundedConnector gives up waiting for a pool connection after wait (database/sql asks
// the connector for a connection each time it needs one).
type boundedConnector struct {
	driver.Connector
	wait time.Duration
}

func (c boundedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.wait)
	defer cancel()
	return c.Connector.Connect(ctx)
}

// Limits reports the limits the database was opened with.
func (d *DB) Limits() Limits { return d.limits }

// Close releases every connection.
func (d *DB) Close() {
	_ = d.SQL.Close()
	d.Pool.Close()
}

// Ping reports whether the database answers within the context's deadline.
func (d *DB) Ping(ctx context.Context) error {
	return d.Pool.Ping(ctx)
}

// Migrate applies every pending migration under a session-level advisory lock.
func (d *DB) Migrate(ctx context.Context) error {
	return d.MigrateTo(ctx, 0)
}

// MigrateTo applies the pending migrations up to and including version (for tests that
// need the schema as it was, such as the audit trail's continuity across a migration).
func (d *DB) MigrateTo(ctx context.Context, version int64) error {
	if d.limits.StatementTimeout == 0 {
		return migrate(ctx, d.SQL, migrations.FS, version)
	}
	// A migration may rewrite a large table: it runs on connections of its own, without
	// the statement timeout meant for requests.
	cc := d.Pool.Config().ConnConfig.Copy()
	delete(cc.RuntimeParams, "statement_timeout")
	delete(cc.RuntimeParams, "idle_in_transaction_session_timeout")
	sqlDB := stdlib.OpenDB(*cc)
	defer sqlDB.Close()
	return migrate(ctx, sqlDB, migrations.FS, version)
}

// migrate applies pending migrations of fsys, all of them when upTo is 0.
func migrate(ctx context.Context, sqlDB *sql.DB, fsys fs.FS, upTo int64) error {
	// goose retries a held lock every 5s by default, so the fifth of five instances
	// starting together during an upgrade would wait 20s; retry every second instead,
	// still giving up after goose's 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("db: migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	var results []*goose.MigrationResult
	if upTo > 0 {
		results, err = provider.UpTo(ctx, upTo)
	} else {
		results, err = provider.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	for _, r := range results {
		slog.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// ErrNoRows reports whether err means a lookup found nothing.
func ErrNoRows(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows)
}

// IsUniqueViolation reports whether err is a duplicate-key error from the database.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(err.Error(), "SQLSTATE 23505")
}

// Unavailable reports whether err means the database could not be reached or did not
// answer in time: refused or broken connections, a pool wait or deadline that ran out,
// a statement cancelled by statement_timeout, a server shutting down or out of
// connection slots. Callers answer these with "try again later", not as a bug.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57014",                // query_canceled: statement_timeout
			strings.HasPrefix(pgErr.Code, "57P"), // admin/crash shutdown, cannot connect now
			pgErr.Code == "53300":                // too_many_connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool") ||
		strings.Contains(err.Error(), "database is closed")
}
