package seed_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"biobank/internal/audit"
	"biobank/internal/db/dbtest"
	"biobank/internal/seed"
)

// TestDemo_LoadsAConsistentDataSet runs a small demo seed and checks what the data set
// promises: an intact audit chain, one position per stored sample, material held by a
// withdrawal, a SPREC code on every processed sample, and a summary that matches the
// database. A second run is refused and writes nothing.
func TestDemo_LoadsAConsistentDataSet(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	sum, err := seed.DemoWith(ctx, d, seed.Options{ParticipantsPerStudySite: 5})
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(ctx, d.Pool)
	if err != nil || !res.OK {
		t.Fatalf("audit chain after the seed: %+v %v", res, err)
	}
	var got struct {
		Sites, Users, Studies, Participants, Consents, Withdrawals, Visits, Samples, Stored, CheckedOut, Held, Printers, Templates, Shipments int
		Unplaced, Misplaced, WithoutSPREC, HoldsByWithdrawal                                                                                  int
	}
	err = d.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM sites), (SELECT count(*) FROM users), (SELECT count(*) FROM studies),
		(SELECT count(*) FROM participants), (SELECT count(*) FROM consents), (SELECT count(*) FROM consent_withdrawals),
		(SELECT count(*) FROM visits), (SELECT count(*) FROM samples), (SELECT count(*) FROM sample_positions),
		(SELECT count(*) FROM samples WHERE status = 'checked_out'), (SELECT count(*) FROM samples WHERE hold_kind = 'consent'),
		(SELECT count(*) FROM samples s WHERE s.status IN ('stored', 'checked_out') AND NOT EXISTS (SELECT 1 FROM sample_positions p WHERE p.sample_id = s.id)),
		(SELECT count(*) FROM sample_positions p JOIN samples s ON s.id = p.sample_id WHERE s.status NOT IN ('stored', 'checked_out')),
		(SELECT count(*) FROM samples WHERE processing <> '{}'::jsonb AND sprec = ''),
		(SELECT count(*) FROM audit_events WHERE action = 'sample.consent_hold'),
		(SELECT count(*) FROM printers), (SELECT count(*) FROM label_templates), (SELECT count(*) FROM shipments)`).Scan(
		&got.Sites, &got.Users, &got.Studies, &got.Participants, &got.Consents, &got.Withdrawals, &got.Visits, &got.Samples,
		&got.Stored, &got.CheckedOut, &got.Held, &got.Unplaced, &got.Misplaced, &got.WithoutSPREC, &got.HoldsByWithdrawal, &got.Printers, &got.Templates, &got.Shipments)
	if err != nil {
		t.Fatal(err)
	}
	want := seed.Summary{Sites: got.Sites, Users: got.Users, Studies: got.Studies, Participants: got.Participants,
		Consents: got.Consents, Withdrawals: got.Withdrawals, Visits: got.Visits, Samples: got.Samples, Held: got.Held,
		Stored: got.Stored, CheckedOut: got.CheckedOut, Printers: got.Printers, Templates: got.Templates, Shipments: got.Shipments}
	if sum != want {
		t.Errorf("printed summary %+v\ndatabase holds    %+v", sum, want)
	}
	if sum.Participants != 60 || sum.Samples < 1000 || sum.Stored == 0 || sum.CheckedOut == 0 {
		t.Errorf("a smaller data set than planned: %s", sum)
	}
	if got.Unplaced != 0 || got.Misplaced != 0 {
		t.Errorf("%d stored samples without a position, %d positions held by samples not in storage", got.Unplaced, got.Misplaced)
	}
	if got.Held == 0 || got.HoldsByWithdrawal == 0 {
		t.Errorf("no withdrawal put material on hold (%d held, %d hold events)", got.Held, got.HoldsByWithdrawal)
	}
	if got.WithoutSPREC != 0 {
		t.Errorf("%d processed samples have no SPREC code", got.WithoutSPREC)
	}
	var processed int
	if err := d.Pool.QueryRow(ctx, "SELECT count(*) FROM samples WHERE processing <> '{}'::jsonb").Scan(&processed); err != nil || processed == 0 {
		t.Errorf("no processed samples (%v)", err)
	}

	// Shipments between the demo sites in every status.
	var statuses []string
	rows, err := d.Pool.Query(ctx, "SELECT DISTINCT status FROM shipments ORDER BY status")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, s)
	}
	if got := strings.Join(statuses, ","); got != "cancelled,closed,dispatched,draft,partially_received,received" {
		t.Errorf("demo shipments in the statuses %s", got)
	}

	var events int64
	if err := d.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.DemoWith(ctx, d, seed.Options{ParticipantsPerStudySite: 1}); !errors.Is(err, seed.ErrNotEmpty) {
		t.Fatalf("second seed: %v, want ErrNotEmpty", err)
	}
	var after int64
	if err := d.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&after); err != nil || after != events {
		t.Errorf("a refused second seed wrote %d events", after-events)
	}
}
