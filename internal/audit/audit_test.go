package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"biobank/internal/audit"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// payload is a test's audit payload: any JSON object.
type payload map[string]any

func (payload) AuditPayload() {}

// mustAppend records e in a transaction of its own and returns the sequence number it got
// (the tests that use it append one at a time).
func mustAppend(tb testing.TB, d *db.DB, e audit.Entry) int64 {
	tb.Helper()
	err := d.Tx(context.Background(), func(tx *db.Tx) error {
		tx.Record(e)
		return nil
	})
	if err != nil {
		tb.Fatalf("append: %v", err)
	}
	var seq int64
	if err := d.Pool.QueryRow(context.Background(), "SELECT max(seq) FROM audit_events").Scan(&seq); err != nil {
		tb.Fatal(err)
	}
	return seq
}

func entry(i int) audit.Entry {
	id := int64(i)
	return audit.Entry{
		ActorID: &id, Actor: fmt.Sprintf("user%d", i), Site: "LUX", Action: "test.append",
		EntityType: "thing", EntityID: fmt.Sprint(i), Reason: "because",
		Before: payload{"volume": "1.50", "n": i}, After: payload{"volume": "1.00", "unicode": "µL −80 °C"},
	}
}

func mustVerify(tb testing.TB, d *db.DB) audit.VerifyResult {
	tb.Helper()
	res, err := audit.Verify(context.Background(), d.Pool)
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return res
}

func TestAppend_ChainsEventsAndVerifies(t *testing.T) {
	d := dbtest.New(t)
	if res := mustVerify(t, d); !res.OK || res.Events != 0 {
		t.Fatalf("empty trail: got %+v, want ok with 0 events", res)
	}
	for i := 1; i <= 5; i++ {
		if seq := mustAppend(t, d, entry(i)); seq != int64(i) {
			t.Fatalf("append %d got seq %d", i, seq)
		}
	}
	res := mustVerify(t, d)
	if !res.OK || res.Events != 5 {
		t.Fatalf("got %+v, want ok with 5 events", res)
	}
	events, err := audit.ForEntity(context.Background(), d.Gorm, "thing", "3")
	if err != nil || len(events) != 1 {
		t.Fatalf("ForEntity: %v %d", err, len(events))
	}
	ev := events[0]
	if ev.PrevHash == audit.GenesisHash || ev.Hash != audit.Hash(ev) || ev.Actor != "user3" || !strings.Contains(string(ev.After), "µL") {
		t.Fatalf("event 3 not as written: %+v", ev)
	}
}

func TestAppend_RolledBackTransactionLeavesNoEvent(t *testing.T) {
	d := dbtest.New(t)
	mustAppend(t, d, entry(1))
	err := d.Tx(context.Background(), func(tx *db.Tx) error {
		tx.Record(entry(2))
		return fmt.Errorf("the change failed")
	})
	if err == nil {
		t.Fatal("want the transaction's error")
	}
	mustAppend(t, d, entry(3))
	res := mustVerify(t, d)
	if !res.OK || res.Events != 2 {
		t.Fatalf("got %+v, want an intact chain of 2", res)
	}
}

func TestAppend_ConcurrentWritersKeepOneChain(t *testing.T) {
	d := dbtest.New(t)
	const writers, each = 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- d.Tx(context.Background(), func(tx *db.Tx) error {
					tx.Record(entry(w*each + i))
					return nil
				})
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent append: %v", err)
		}
	}
	res := mustVerify(t, d)
	if !res.OK || res.Events != writers*each {
		t.Fatalf("got %+v, want an intact chain of %d", res, writers*each)
	}
}

func TestAuditEvents_RefuseUpdateDeleteTruncate(t *testing.T) {
	d := dbtest.New(t)
	mustAppend(t, d, entry(1))
	for _, stmt := range []string{
		"UPDATE audit_events SET reason = 'changed' WHERE seq = 1",
		"DELETE FROM audit_events WHERE seq = 1",
		"TRUNCATE audit_events",
	} {
		_, err := d.Pool.Exec(context.Background(), stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want refusal", stmt, err)
		}
	}
	if res := mustVerify(t, d); !res.OK || res.Events != 1 {
		t.Fatalf("after refused changes: %+v", res)
	}
}

// tamper runs stmt with the immutability trigger disabled, as a database owner could.
func tamper(tb testing.TB, d *db.DB, stmt string) {
	tb.Helper()
	ctx := context.Background()
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, s := range []string{"ALTER TABLE audit_events DISABLE TRIGGER audit_events_immutable", stmt,
		"ALTER TABLE audit_events ENABLE TRIGGER audit_events_immutable"} {
		if _, err := tx.Exec(ctx, s); err != nil {
			tb.Fatalf("tamper %q: %v", s, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}

func TestVerify_DetectsTampering(t *testing.T) {
	cases := []struct {
		name     string
		stmt     string
		firstBad int64
	}{
		{"altered reason", "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3", 3},
		{"altered data after", `UPDATE audit_events SET after = '{"volume": "9.00"}' WHERE seq = 2`, 2},
		{"altered actor", "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 4", 4},
		{"altered time", "UPDATE audit_events SET at = at - interval '1 day' WHERE seq = 1", 1},
		{"rehashed after edit", "UPDATE audit_events SET reason = 'x' WHERE seq = 2; UPDATE audit_events SET hash = audit_event_hash(audit_events) WHERE seq = 2", 3},
		{"removed event", "DELETE FROM audit_events WHERE seq = 3", 3},
		{"removed last event", "DELETE FROM audit_events WHERE seq = 5", 5},
		{"renumbered after removal", "DELETE FROM audit_events WHERE seq = 2; UPDATE audit_events SET seq = seq - 1 WHERE seq > 2", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := dbtest.New(t)
			for i := 1; i <= 5; i++ {
				mustAppend(t, d, entry(i))
			}
			tamper(t, d, tc.stmt)
			res := mustVerify(t, d)
			if res.OK || res.FirstBad != tc.firstBad || res.Problem == "" {
				t.Fatalf("got %+v, want first bad event %d", res, tc.firstBad)
			}
		})
	}
}
