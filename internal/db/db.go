// Package db opens the PostgreSQL pool, runs the embedded migrations and provides the
// transaction helper every domain service uses.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

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
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 10
	}
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
	sqlDB := stdlib.OpenDBFromPool(pool)
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
	return &DB{Pool: pool, SQL: sqlDB, Gorm: gdb}, nil
}

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
	return migrate(ctx, d.SQL, migrations.FS, 0)
}

// MigrateTo applies the pending migrations up to and including version (for tests that
// need the schema as it was, such as the audit trail's continuity across a migration).
func (d *DB) MigrateTo(ctx context.Context, version int64) error {
	return migrate(ctx, d.SQL, migrations.FS, version)
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
