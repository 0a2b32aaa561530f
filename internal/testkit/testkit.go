// Package testkit holds the assertions every area's tests share: the typed domain errors a
// refusal must be, and snapshots that prove a refused request left the database exactly as
// it was. It is imported by tests only.
package testkit

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/db"
)

// WantValidation fails the test unless err is a ValidationError for field, with a message.
func WantValidation(tb testing.TB, err error, field string) *apperr.ValidationError {
	tb.Helper()
	v, ok := apperr.AsValidation(err)
	if !ok {
		tb.Fatalf("got error %v (%T), want a validation error for %q", err, err, field)
	}
	if v.Field != field {
		tb.Fatalf("validation error names field %q (%s), want %q", v.Field, v.Message, field)
	}
	if v.Message == "" {
		tb.Fatalf("validation error for %q has no message", field)
	}
	return v
}

// WantConflict fails the test unless err is a ConflictError with code.
func WantConflict(tb testing.TB, err error, code string) *apperr.ConflictError {
	tb.Helper()
	c, ok := apperr.AsConflict(err)
	if !ok {
		tb.Fatalf("got error %v (%T), want a conflict %q", err, err, code)
	}
	if c.Code != code {
		tb.Fatalf("got conflict %q (%s), want %q", c.Code, c.Message, code)
	}
	return c
}

// WantForbidden fails the test unless err is a ForbiddenError.
func WantForbidden(tb testing.TB, err error) {
	tb.Helper()
	if _, ok := apperr.AsForbidden(err); !ok {
		tb.Fatalf("got error %v (%T), want forbidden", err, err)
	}
}

// WantNotFound fails the test unless err matches apperr.ErrNotFound.
func WantNotFound(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, apperr.ErrNotFound) {
		tb.Fatalf("got error %v (%T), want not found", err, err)
	}
}

// Snapshot is the content of some tables at one moment: per table, its row count and a
// digest of every row, so that an update is seen as well as an insert or a delete.
type Snapshot map[string]string

// Take fingerprints tables (every table of the schema but sessions when none are named).
func Take(tb testing.TB, d *db.DB, tables ...string) Snapshot {
	tb.Helper()
	if len(tables) == 0 {
		if err := d.Gorm.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'
			AND tablename NOT IN ('sessions', 'goose_db_version') ORDER BY tablename`).Scan(&tables).Error; err != nil {
			tb.Fatalf("testkit: list tables: %v", err)
		}
	}
	s := Snapshot{}
	for _, table := range tables {
		var v string
		err := d.Gorm.Raw(fmt.Sprintf(`SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')
			FROM %q t`, table)).Scan(&v).Error
		if err != nil {
			tb.Fatalf("testkit: fingerprint %s: %v", table, err)
		}
		s[table] = v
	}
	return s
}

// Unchanged takes a snapshot of tables now and returns a function that fails the test if
// any of them differs when it is called: `check := testkit.Unchanged(t, d); refuse(); check()`.
func Unchanged(tb testing.TB, d *db.DB, tables ...string) func() {
	tb.Helper()
	before := Take(tb, d, tables...)
	return func() {
		tb.Helper()
		names := make([]string, 0, len(before))
		for table := range before {
			names = append(names, table)
		}
		after := Take(tb, d, names...)
		for table, b := range before {
			if after[table] != b {
				tb.Errorf("a refused request changed table %s: before %s, after %s", table, b, after[table])
			}
		}
	}
}

// Clock is a clock a test moves forward instead of sleeping: the real time plus a lead
// that Advance adds to, so that it never runs behind times the database wrote. It is safe
// for concurrent use (a server's handlers read it while the test advances it).
type Clock struct {
	mu   sync.Mutex
	lead time.Duration
}

// NewClock returns a clock that reads the real time until it is advanced.
func NewClock() *Clock { return &Clock{} }

// Now is the clock's reading, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.lead)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lead += d
}
