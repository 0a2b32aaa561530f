package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"biobank/internal/audit"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// lastRowTriggerVersion is the last migration whose audit trail was chained by the per-row
// trigger; 00006 replaced it with audit_append.
const lastRowTriggerVersion = 5

// TestAuditAppend_ContinuesTheChainWrittenBeforeTheMigration writes events the old way
// (a plain INSERT chained by the row trigger of migration 00001), migrates, appends with
// the new path, and verifies the whole chain in Go: the encoding is the same byte for byte.
func TestAuditAppend_ContinuesTheChainWrittenBeforeTheMigration(t *testing.T) {
	d := dbtest.NewEmpty(t)
	ctx := context.Background()
	if err := d.MigrateTo(ctx, lastRowTriggerVersion); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		_, err := d.Pool.Exec(ctx, `INSERT INTO audit_events
			(seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
			VALUES (0, now(), $1, $2, 'LUX', 'test.append', 'thing', $3, 'old path', $4::jsonb, NULL, '', '')`,
			i, fmt.Sprintf("user%d", i), fmt.Sprint(i), fmt.Sprintf(`{"n": %d, "unit": "µL"}`, i))
		if err != nil {
			t.Fatalf("old-path insert %d: %v", i, err)
		}
	}
	if res := mustVerify(t, d); !res.OK || res.Events != 3 {
		t.Fatalf("before the migration: %+v", res)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 4; i <= 6; i++ {
		mustAppend(t, d, entry(i))
	}
	err := d.Tx(ctx, func(tx *db.Tx) error {
		for i := 7; i <= 9; i++ {
			tx.Record(entry(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := mustVerify(t, d)
	if !res.OK || res.Events != 9 {
		t.Fatalf("after the migration: %+v, want an intact chain of 9", res)
	}
	var prev4, hash3 string
	if err := d.Pool.QueryRow(ctx, "SELECT (SELECT prev_hash FROM audit_events WHERE seq = 4), (SELECT hash FROM audit_events WHERE seq = 3)").Scan(&prev4, &hash3); err != nil {
		t.Fatal(err)
	}
	if prev4 != hash3 {
		t.Errorf("the first new event links to %s, want the last old event's hash %s", prev4, hash3)
	}
	// The database's own hash of a new event is the one it stored.
	var same bool
	if err := d.Pool.QueryRow(ctx, "SELECT bool_and(hash = audit_event_hash(audit_events)) FROM audit_events").Scan(&same); err != nil || !same {
		t.Errorf("audit_event_hash disagrees with audit_append's hashes (%v)", err)
	}
}

// TestAuditEvents_RefuseAPlainInsert: nothing reaches the trail except through audit_append.
func TestAuditEvents_RefuseAPlainInsert(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	mustAppend(t, d, entry(1))
	_, err := d.Pool.Exec(ctx, `INSERT INTO audit_events
		(seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
		VALUES (2, now(), NULL, 'intruder', '', 'test.append', 'thing', '2', '', NULL, NULL, 'x', 'y')`)
	if err == nil || !strings.Contains(err.Error(), "only through audit_append") {
		t.Fatalf("plain INSERT: got %v, want a refusal", err)
	}
	// Nor inside a transaction that has just appended through the function.
	err = d.Tx(ctx, func(tx *db.Tx) error {
		tx.Record(entry(2))
		return tx.Exec(`INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, prev_hash, hash)
			VALUES (99, now(), 'intruder', 'test.append', 'thing', '99', 'x', 'y')`).Error
	})
	if err == nil {
		t.Fatal("a plain INSERT in a transaction that records events was accepted")
	}
	if res := mustVerify(t, d); !res.OK || res.Events != 1 {
		t.Fatalf("after the refusals: %+v, want the one event", res)
	}
}

// TestAuditAppend_OneBatchIsOneStretchOfTheChain appends a large batch in one transaction.
func TestAuditAppend_OneBatchIsOneStretchOfTheChain(t *testing.T) {
	d := dbtest.New(t)
	mustAppend(t, d, entry(0))
	err := d.Tx(context.Background(), func(tx *db.Tx) error {
		for i := 1; i <= 2000; i++ {
			tx.Record(entry(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := mustVerify(t, d); !res.OK || res.Events != 2001 {
		t.Fatalf("got %+v, want an intact chain of 2001", res)
	}
}

// TestTx_FaultsWriteNothing: a callback error, a panic, a failed flush and a context
// cancelled before commit each leave neither domain rows nor events.
func TestTx_FaultsWriteNothing(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	mustAppend(t, d, entry(0))
	write := func(tx *db.Tx, site string) error {
		return tx.Exec("INSERT INTO sites (code, name, country) VALUES (?, 'probe', 'LU')", site).Error
	}
	cases := []struct {
		name string
		run  func() error
	}{
		{"callback error", func() error {
			return d.Tx(ctx, func(tx *db.Tx) error {
				if err := write(tx, "ERR"); err != nil {
					return err
				}
				tx.Record(entry(1))
				return errors.New("the change failed")
			})
		}},
		{"panic", func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panicked: %v", r)
				}
			}()
			return d.Tx(ctx, func(tx *db.Tx) error {
				if err := write(tx, "PANIC"); err != nil {
					return err
				}
				tx.Record(entry(2))
				panic("bug in a service")
			})
		}},
		{"failed flush", func() error {
			return d.Tx(ctx, func(tx *db.Tx) error {
				if err := write(tx, "FLUSH"); err != nil {
					return err
				}
				tx.Record(audit.Entry{Action: "test.append", EntityType: "thing"}) // no entity id
				return nil
			})
		}},
		{"context cancelled before commit", func() error {
			cctx, cancel := context.WithCancel(ctx)
			return d.Tx(cctx, func(tx *db.Tx) error {
				if err := write(tx, "CANCEL"); err != nil {
					return err
				}
				tx.Record(entry(3))
				cancel()
				return nil
			})
		}},
		{"unaudited write", func() error {
			return d.Tx(ctx, func(tx *db.Tx) error { return write(tx, "SILENT") })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); err == nil {
				t.Fatal("the transaction succeeded")
			}
			var sites, events int
			if err := d.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM audit_events)").Scan(&sites, &events); err != nil {
				t.Fatal(err)
			}
			if sites != 0 || events != 1 {
				t.Errorf("%d sites and %d events after the fault, want 0 and 1", sites, events)
			}
		})
	}
	if res := mustVerify(t, d); !res.OK {
		t.Fatalf("chain after the faults: %+v", res)
	}
}

// TestTx_RefusesAnUnauditedWrite: a transaction that changes rows without recording an
// event is refused, unless it says why; reads and row locks alone are not changes.
func TestTx_RefusesAnUnauditedWrite(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for _, stmt := range []string{
		"INSERT INTO sites (code, name, country) VALUES ('LUX', 'x', 'LU')",
		"WITH s AS (SELECT 1) INSERT INTO sites (code, name, country) VALUES ('LUX', 'x', 'LU')",
	} {
		err := d.Tx(ctx, func(tx *db.Tx) error { return tx.Exec(stmt).Error })
		if !errors.Is(err, db.ErrUnaudited) {
			t.Errorf("%s: got %v, want ErrUnaudited", stmt, err)
		}
	}
	err := d.Tx(ctx, func(tx *db.Tx) error {
		tx.Unaudited("test fixture: a site the test needs, not a change of record")
		return tx.Exec("INSERT INTO sites (code, name, country) VALUES ('LUX', 'x', 'LU')").Error
	})
	if err != nil {
		t.Fatalf("a declared unaudited write: %v", err)
	}
	err = d.Tx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.Raw("SELECT count(*) FROM sites").Scan(&n).Error; err != nil {
			return err
		}
		return tx.Exec("SELECT id FROM sites FOR UPDATE").Error
	})
	if err != nil {
		t.Errorf("a read and a row lock were taken for a change: %v", err)
	}
	err = d.Tx(ctx, func(tx *db.Tx) error {
		return tx.Exec("UPDATE sites SET name = 'y' WHERE code = 'NONE'").Error // no row matches
	})
	if err != nil {
		t.Errorf("an update of no rows was taken for a change: %v", err)
	}
}

// TestAuditAppend_KeepsTextExactly: quotes, backslashes, JSON escapes and non-ASCII text
// reach the trail unchanged and the chain verifies.
func TestAuditAppend_KeepsTextExactly(t *testing.T) {
	d := dbtest.New(t)
	tricky := `it's a "quoted" \ back\\slash \n not a newline; '); DROP TABLE audit_events; -- µL −80 °C 🧪`
	e := entry(1)
	e.Reason = tricky
	e.Before = payload{"note": tricky, "esc": "tab\there"}
	mustAppend(t, d, e)
	var reason, note, esc string
	err := d.Pool.QueryRow(context.Background(), "SELECT reason, before->>'note', before->>'esc' FROM audit_events WHERE seq = 1").Scan(&reason, &note, &esc)
	if err != nil {
		t.Fatal(err)
	}
	if reason != tricky || note != tricky || esc != "tab\there" {
		t.Errorf("stored %q / %q / %q, want the text as recorded", reason, note, esc)
	}
	if res := mustVerify(t, d); !res.OK || res.Events != 1 {
		t.Fatalf("chain: %+v", res)
	}
}

// TestTx_OnDiskWhenItReturns: the commit that holds the chain's lock does not wait for the
// disk, so the helper confirms durability after releasing it; when DB.Tx returns, the WAL
// is flushed past everything the transaction wrote. (Without the confirmation the flush
// position would trail behind until PostgreSQL's WAL writer runs, up to 200 ms later.)
func TestTx_OnDiskWhenItReturns(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for i := range 20 {
		var written string
		err := d.Tx(ctx, func(tx *db.Tx) error {
			if err := tx.Exec("INSERT INTO sites (code, name, country) VALUES (?, 'durability probe', 'LU')", fmt.Sprintf("D%02d", i)).Error; err != nil {
				return err
			}
			tx.Record(entry(i))
			return tx.Raw("SELECT pg_current_wal_insert_lsn()::text").Scan(&written).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		var flushed bool
		if err := d.Pool.QueryRow(ctx, "SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn", written).Scan(&flushed); err != nil {
			t.Fatal(err)
		}
		if !flushed {
			t.Fatalf("transaction %d returned before the WAL was flushed past its writes (%s)", i, written)
		}
	}
}
