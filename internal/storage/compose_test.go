package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/db"
	"biobank/internal/storage"
	"biobank/internal/testkit"
)

// TestCompose_OneTransactionAcrossAreas places, moves and checks out samples (storage) and
// puts another on hold (samples) in one transaction through the areas' transaction-level
// functions: the events are appended in one flush at commit, and when the last step fails
// everything is rolled back together.
func TestCompose_OneTransactionAcrossAreas(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BXA", "F1", "R1", 9, 9)
	w.mustBox(t, "BXB", "F1", "R1", 9, 9)
	s := w.mustAliquots(t, 4)

	steps := func(tx *db.Tx) error {
		if _, err := w.store.PlaceTx(tx, w.tech, "BXA", "A1", s[0].Accession); err != nil {
			return err
		}
		if _, err := w.store.PlaceTx(tx, w.tech, "BXA", "", s[1].Accession); err != nil {
			return err
		}
		if _, err := w.store.PlaceTx(tx, w.tech, "BXB", "C3", s[0].Accession); err != nil { // a move
			return err
		}
		if _, err := w.store.CheckOutTx(tx, w.tech, s[1].Accession, "ELISA"); err != nil {
			return err
		}
		_, err := w.samples.QuarantineTx(tx, w.manager, s[2].Accession, "haemolysed")
		return err
	}

	// The last step fails: nothing of the earlier ones stays.
	before := w.snapshot(t)
	boom := errors.New("the shipment was refused")
	err := w.db.Tx(ctx, func(tx *db.Tx) error {
		if err := steps(tx); err != nil {
			return err
		}
		if tx.Recorded() != 5 {
			t.Errorf("%d events recorded before the failing step, want 5", tx.Recorded())
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("composed transaction: %v, want the last step's error", err)
	}
	w.unchanged(t, before)

	// The same steps succeed together, with one flush: consecutive events, one time.
	err = w.db.Tx(ctx, func(tx *db.Tx) error { return steps(tx) })
	if err != nil {
		t.Fatal(err)
	}
	if got := w.where(t, s[0].Accession); got != "BXB C3" {
		t.Errorf("%s is at %q, want BXB C3", s[0].Accession, got)
	}
	if st, _ := w.status(t, s[1].Accession); st != "checked_out" {
		t.Errorf("%s is %s, want checked_out", s[1].Accession, st)
	}
	var held bool
	if err := w.db.Gorm.Raw("SELECT hold FROM samples WHERE accession = ?", s[2].Accession).Scan(&held).Error; err != nil || !held {
		t.Errorf("%s hold = %v (%v), want on hold", s[2].Accession, held, err)
	}
	var batch struct {
		N, Times, Span int64
	}
	if err := w.db.Gorm.Raw(`SELECT count(*) AS n, count(DISTINCT at) AS times, max(seq) - min(seq) + 1 AS span FROM audit_events
		WHERE seq > (SELECT max(seq) - 5 FROM audit_events)`).Scan(&batch).Error; err != nil {
		t.Fatal(err)
	}
	if batch.N != 5 || batch.Times != 1 || batch.Span != 5 {
		t.Errorf("the last 5 events: %+v, want 5 consecutive events of one flush (one time)", batch)
	}
	var actions []string
	if err := w.db.Gorm.Raw("SELECT action FROM audit_events ORDER BY seq DESC LIMIT 5").Scan(&actions).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{"sample.quarantine", "sample.check_out", "sample.move", "sample.place", "sample.place"}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("events, newest first: %v, want %v", actions, want)
		}
	}
}

// TestFill_PlacesABatchOrNothing fills a box with a batch in order, one event per sample;
// a batch with one sample already in a position is refused whole, naming it.
func TestFill_PlacesABatchOrNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BXF", "F1", "R1", 2, 2)
	s := w.mustAliquots(t, 5)
	w.mustPlace(t, "BXF", "A1", s[0].Accession)

	before := w.snapshot(t)
	_, err := w.store.Fill(ctx, w.tech, "BXF", []string{s[1].Accession, s[0].Accession})
	wantConflict(t, err, "already_placed")
	w.unchanged(t, before)
	_, err = w.store.Fill(ctx, w.tech, "BXF", []string{s[1].Accession, s[2].Accession, s[3].Accession, s[4].Accession})
	wantConflict(t, err, "box_full")
	w.unchanged(t, before)

	placed, err := w.store.Fill(ctx, w.tech, "BXF", []string{s[1].Accession, s[2].Accession, s[3].Accession})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"BXF A2", "BXF B1", "BXF B2"} {
		if got := w.where(t, s[i+1].Accession); got != want || placed[i].To.Box != "BXF" {
			t.Errorf("%s is at %q, want %s", s[i+1].Accession, got, want)
		}
		if st, _ := w.status(t, s[i+1].Accession); st != "stored" {
			t.Errorf("%s is %s, want stored", s[i+1].Accession, st)
		}
		w.onlyEvent(t, "sample.place", s[i+1].Accession)
	}
	if _, err := w.store.Fill(ctx, w.tech, "BXF", make([]string, storage.MaxFill+1)); err == nil {
		t.Error("a batch over the limit was accepted")
	}
}

// TestCreateFreezer_SetPointFollowsTheType: without a set-point a freezer gets its type's
// usual one; a set-point its type cannot hold is refused and nothing is written.
func TestCreateFreezer_SetPointFollowsTheType(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	for typ, want := range map[string]string{"-80": "-80", "-20": "-20", "ln2": "-196", "4": "4", "rt": "20"} {
		f, err := w.store.CreateFreezer(ctx, w.admin, storage.FreezerInput{Name: "Default " + typ, Type: typ, Site: "LUX"})
		if err != nil {
			t.Fatalf("%s without a set-point: %v", typ, err)
		}
		if f.Temperature.String() != want {
			t.Errorf("%s freezer set to %s °C, want %s", typ, f.Temperature, want)
		}
	}
	before := w.snapshot(t)
	check := testkit.Unchanged(t, w.db, "freezers")
	for _, bad := range []struct{ typ, temp string }{{"-80", "40"}, {"-80", "0"}, {"-20", "-80"}, {"ln2", "-80"}, {"4", "-20"}, {"rt", "4"}} {
		_, err := w.store.CreateFreezer(ctx, w.admin, storage.FreezerInput{Name: "Bad " + bad.typ, Type: bad.typ, Site: "LUX",
			Temperature: ptr(decimal.RequireFromString(bad.temp))})
		wantValidation(t, err, "temperature")
	}
	check()
	w.unchanged(t, before)
}
