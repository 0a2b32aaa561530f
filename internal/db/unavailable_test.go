package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("load sample: something else"), false},
		{fmt.Errorf("list: %w", context.DeadlineExceeded), true},
		{&pgconn.PgError{Code: "57014"}, true}, // statement_timeout
		{&pgconn.PgError{Code: "57P01"}, true}, // terminating connection due to administrator command
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{&pgconn.PgError{Code: "53300"}, true}, // too many connections
		{fmt.Errorf("x: %w", &pgconn.PgError{Code: "23505"}), false},
		{&pgconn.PgError{Code: "40P01"}, false}, // a deadlock is retried, not an outage
	} {
		if got := db.Unavailable(tc.err); got != tc.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A statement that runs past the statement timeout is cancelled by the server, and the
// error says the database is unavailable (the web layer's 503).
func TestOpenWith_StatementTimeout(t *testing.T) {
	d := openLimited(t, db.Limits{StatementTimeout: 200 * time.Millisecond, PoolWait: time.Second})
	_, err := d.Pool.Exec(context.Background(), "SELECT pg_sleep(2)")
	if err == nil || !db.Unavailable(err) {
		t.Fatalf("pg_sleep(2) under a 200ms statement timeout: %v, want a cancelled statement", err)
	}
	var setting string
	if err := d.Pool.QueryRow(context.Background(), "SHOW statement_timeout").Scan(&setting); err != nil || setting != "200ms" {
		t.Errorf("statement_timeout = %q, %v", setting, err)
	}
	// Migrations are not bound by it.
	if err := d.Migrate(context.Background()); err != nil {
		t.Errorf("migrate with limits: %v", err)
	}
}

// With every pooled connection taken, a statement through gorm gives up after the pool
// wait instead of queueing without end.
func TestOpenWith_PoolWait(t *testing.T) {
	d := openLimited(t, db.Limits{StatementTimeout: 5 * time.Second, PoolWait: 300 * time.Millisecond})
	ctx := context.Background()
	var held []*pgxpool.Conn
	for range d.Pool.Config().MaxConns {
		c, err := d.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	var one int
	err := d.Gorm.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
	if err == nil || !db.Unavailable(err) {
		t.Errorf("a query with the pool exhausted: %v, want an unavailable error", err)
	}
	for _, c := range held {
		c.Release()
	}
	if err := d.Gorm.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
		t.Errorf("after the connections came back: %d, %v", one, err)
	}
}

func openLimited(tb testing.TB, limits db.Limits) *db.DB {
	tb.Helper()
	d, err := db.OpenWith(context.Background(), dbtest.NewURL(tb), limits)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	return d
}
