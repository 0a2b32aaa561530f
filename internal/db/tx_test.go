package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// txProbe is a row the transaction tests write, in a table of their own so the tests do
// not depend on the schema.
type txProbe struct {
	ID   int64
	Note string
}

func newProbeTable(tb testing.TB) *db.DB {
	tb.Helper()
	d := dbtest.New(tb)
	if err := d.Gorm.Exec("CREATE TABLE tx_probes (id bigserial PRIMARY KEY, note text NOT NULL)").Error; err != nil {
		tb.Fatalf("create tx_probes: %v", err)
	}
	return d
}

func countProbes(tb testing.TB, d *db.DB) int64 {
	tb.Helper()
	var n int64
	if err := d.Gorm.Model(&txProbe{}).Count(&n).Error; err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestTx_RollsBackOnError(t *testing.T) {
	d := newProbeTable(t)
	boom := errors.New("boom")
	err := d.Tx(context.Background(), func(tx *db.Tx) error {
		tx.Unaudited("probe rows of the transaction tests")
		if err := tx.Create(&txProbe{Note: "first"}).Error; err != nil {
			return err
		}
		if err := tx.Create(&txProbe{Note: "second"}).Error; err != nil {
			return err
		}
		return fmt.Errorf("service: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Errorf("Tx = %v, want the function's error", err)
	}
	if n := countProbes(t, d); n != 0 {
		t.Errorf("%d rows left after a failed transaction, want 0", n)
	}
}

func TestTx_RollsBackOnPanic(t *testing.T) {
	d := newProbeTable(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Tx swallowed the panic")
			}
		}()
		_ = d.Tx(context.Background(), func(tx *db.Tx) error {
			tx.Unaudited("probe rows of the transaction tests")
			if err := tx.Create(&txProbe{Note: "half done"}).Error; err != nil {
				return err
			}
			panic("bug in a service")
		})
	}()
	if n := countProbes(t, d); n != 0 {
		t.Errorf("%d rows left after a panicking transaction, want 0", n)
	}
}

func TestTx_CommitsOnNil(t *testing.T) {
	d := newProbeTable(t)
	err := d.Tx(context.Background(), func(tx *db.Tx) error {
		tx.Unaudited("probe rows of the transaction tests")
		if err := tx.Create(&txProbe{Note: "first"}).Error; err != nil {
			return err
		}
		return tx.Create(&txProbe{Note: "second"}).Error
	})
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
	// Read outside the transaction: only committed rows are visible here.
	var notes []string
	if err := d.Gorm.Model(&txProbe{}).Order("id").Pluck("note", &notes).Error; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(notes) != "[first second]" {
		t.Errorf("rows after commit = %v, want [first second]", notes)
	}
}

func TestTx_UsesTheContext(t *testing.T) {
	d := newProbeTable(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := d.Tx(ctx, func(tx *db.Tx) error {
		tx.Unaudited("probe rows of the transaction tests")
		return tx.Create(&txProbe{Note: "too late"}).Error
	})
	if err == nil {
		t.Error("Tx with a cancelled context succeeded")
	}
	if n := countProbes(t, d); n != 0 {
		t.Errorf("%d rows written under a cancelled context, want 0", n)
	}
}

func TestErrNoRows(t *testing.T) {
	d := newProbeTable(t)
	var p txProbe
	notFound := d.Gorm.First(&p, 42).Error
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"gorm record not found", notFound, true},
		{"wrapped sql.ErrNoRows", fmt.Errorf("sample: find: %w", sql.ErrNoRows), true},
		{"other error", errors.New("connection refused"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := db.ErrNoRows(tt.err); got != tt.want {
				t.Errorf("ErrNoRows(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestIsUniqueViolation(t *testing.T) {
	d := newProbeTable(t)
	ctx := context.Background()
	if err := d.Gorm.Create(&txProbe{ID: 1, Note: "first"}).Error; err != nil {
		t.Fatal(err)
	}
	_, pgxErr := d.Pool.Exec(ctx, "INSERT INTO tx_probes (id, note) VALUES (1, 'again')")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"through gorm", d.Gorm.Create(&txProbe{ID: 1, Note: "again"}).Error, true},
		{"through pgx, wrapped", fmt.Errorf("sample: create: %w", pgxErr), true},
		{"not null violation", d.Gorm.Exec("INSERT INTO tx_probes (id) VALUES (2)").Error, false},
		{"other error", errors.New("connection refused"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil && tt.name != "nil" {
				t.Fatal("the statement succeeded: no error to classify")
			}
			if got := db.IsUniqueViolation(tt.err); got != tt.want {
				t.Errorf("IsUniqueViolation(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestTx_RetriesADeadlock: two transactions lock two rows in opposite orders; PostgreSQL
// breaks the deadlock by failing one, which the helper runs again, so both succeed. (The
// retry is a safety net; the application's own transactions keep one lock order.)
func TestTx_RetriesADeadlock(t *testing.T) {
	d := newProbeTable(t)
	ctx := context.Background()
	if err := d.Gorm.Exec("INSERT INTO tx_probes (id, note) VALUES (1, 'a'), (2, 'b')").Error; err != nil {
		t.Fatal(err)
	}
	var aLocked, bLocked sync.WaitGroup
	aLocked.Add(1)
	bLocked.Add(1)
	cross := func(first, second int64, mine, theirs *sync.WaitGroup) func() error {
		attempts := 0
		return func() error {
			return d.Tx(ctx, func(tx *db.Tx) error {
				tx.Unaudited("probe rows of the transaction tests")
				attempts++
				if err := tx.Exec("UPDATE tx_probes SET note = note || '+' WHERE id = ?", first).Error; err != nil {
					return err
				}
				if attempts == 1 {
					mine.Done()
					theirs.Wait()
				}
				return tx.Exec("UPDATE tx_probes SET note = note || '+' WHERE id = ?", second).Error
			})
		}
	}
	one, two := cross(1, 2, &aLocked, &bLocked), cross(2, 1, &bLocked, &aLocked)
	errs := make(chan error, 2)
	go func() { errs <- one() }()
	go func() { errs <- two() }()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("a transaction failed despite the retry: %v", err)
		}
	}
	var notes []string
	if err := d.Gorm.Model(&txProbe{}).Order("id").Pluck("note", &notes).Error; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(notes) != "[a++ b++]" {
		t.Errorf("notes %v, want each row updated once by each transaction", notes)
	}
}
