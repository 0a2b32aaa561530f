package storage_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/sample"
	"biobank/internal/storage"
)

func TestCheckOut_KeepsThePositionReservedAndCheckInCountsAThaw(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustTubes(t, 3)
	tube := tubes[0]
	w.mustPlace(t, "BOX1", "A1", tube.Accession)
	out, err := w.store.CheckOut(ctx, w.tech, tube.Accession, "ELISA run")
	if err != nil || out.Status != sample.CheckedOut || out.FreezeThawCount != 0 {
		t.Fatalf("check out: %+v %v", out, err)
	}
	if got := w.where(t, tube.Accession); got != "BOX1 A1" {
		t.Fatalf("a checked-out tube lost its position: %q", got)
	}
	g, err := w.store.Grid(ctx, w.tech, "BOX1")
	if err != nil {
		t.Fatal(err)
	}
	cell := g.Cells[0][0]
	if !cell.Occupied() || !cell.Reserved() || cell.Status != sample.CheckedOut || cell.Accession != tube.Accession || g.Free != 80 {
		t.Fatalf("grid shows A1 as %+v, %d free", cell, g.Free)
	}
	here := storage.Location{Site: "LUX", Freezer: "F1", Rack: "R1", Box: "BOX1", Position: "A1"}
	e := w.onlyEvent(t, "sample.check_out", tube.Accession)
	if e.Reason != "ELISA run" || e.Before["status"] != "stored" || e.After["status"] != "checked_out" ||
		location(t, e.Before, "location") != here || location(t, e.After, "location") != here {
		t.Fatalf("check-out audited as %+v", e)
	}

	// Nobody else gets the reserved position, by name or as the next free one.
	before := w.snapshot(t)
	_, err = w.store.Place(ctx, w.tech, "BOX1", "A1", tubes[1].Accession)
	wantConflict(t, err, "position_occupied")
	w.unchanged(t, before)
	if p := w.mustPlace(t, "BOX1", "", tubes[1].Accession); p.Position.String() != "A2" {
		t.Fatalf("next free is %s, want A2 (A1 is reserved)", p.Position)
	}
	before = w.snapshot(t)
	_, err = w.store.CheckOut(ctx, w.tech, tube.Accession, "")
	wantConflict(t, err, "wrong_status")
	_, err = w.store.CheckIn(ctx, w.tech, tubes[1].Accession)
	wantConflict(t, err, "wrong_status")
	_, err = w.store.CheckOut(ctx, w.tech, tubes[2].Accession, "") // received, never stored
	wantConflict(t, err, "wrong_status")
	_, err = w.store.CheckIn(ctx, w.tech2, tube.Accession)
	wantForbidden(t, err)
	_, err = w.store.CheckIn(ctx, w.nurse, tube.Accession)
	wantForbidden(t, err)
	w.unchanged(t, before)

	in, err := w.store.CheckIn(ctx, w.tech, tube.Accession)
	if err != nil || in.Status != sample.Stored || in.FreezeThawCount != 1 {
		t.Fatalf("check in: %+v %v", in, err)
	}
	if st, ft := w.status(t, tube.Accession); st != sample.Stored || ft != 1 || w.where(t, tube.Accession) != "BOX1 A1" {
		t.Fatalf("after check-in: %s, %d thaws, at %q", st, ft, w.where(t, tube.Accession))
	}
	e = w.onlyEvent(t, "sample.check_in", tube.Accession)
	if e.Before["freeze_thaw_count"] != 0.0 || e.After["freeze_thaw_count"] != 1.0 || e.After["status"] != "stored" ||
		location(t, e.After, "location") != here {
		t.Fatalf("check-in audited as %+v", e)
	}
	if _, err := w.store.CheckOut(ctx, w.tech, tube.Accession, ""); err != nil {
		t.Fatal(err)
	}
	if in, err := w.store.CheckIn(ctx, w.tech, tube.Accession); err != nil || in.FreezeThawCount != 2 {
		t.Fatalf("second thaw: %+v %v", in, err)
	}
}

func TestCheckOut_RefusesAHeldSampleThatMayStillMove(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tube := w.mustTubes(t, 1)[0]
	w.mustPlace(t, "BOX1", "A1", tube.Accession)
	if _, err := w.samples.Quarantine(ctx, w.manager, tube.Accession, "freezer alarm"); err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	_, err := w.store.CheckOut(ctx, w.tech, tube.Accession, "assay")
	wantConflict(t, err, "sample_on_hold")
	w.unchanged(t, before)
	w.mustPlace(t, "BOX1", "B1", tube.Accession)
}

func TestEnd_DestroyingAStoredSampleFreesItsPosition(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustTubes(t, 4)
	w.mustPlace(t, "BOX1", "C3", tubes[0].Accession)
	w.mustPlace(t, "BOX1", "C4", tubes[1].Accession)
	if _, err := w.store.CheckOut(ctx, w.tech, tubes[1].Accession, "assay"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tube     sample.Sample
		action   sample.Action
		event    string
		position string
	}{{tubes[0], sample.ActDestroy, "sample.destroy", "C3"}, {tubes[1], sample.ActLose, "sample.lose", "C4"}} {
		if _, err := w.samples.End(ctx, w.tech, tc.tube.Accession, tc.action, "dropped"); err != nil {
			t.Fatal(err)
		}
		if got := w.where(t, tc.tube.Accession); got != "" {
			t.Fatalf("%s kept its position %s", tc.event, got)
		}
		e := w.onlyEvent(t, tc.event, tc.tube.Accession)
		if got := location(t, e.After, "freed_position"); got != (storage.Location{Site: "LUX", Freezer: "F1", Rack: "R1", Box: "BOX1", Position: tc.position}) {
			t.Fatalf("%s audited freed position %+v", tc.event, got)
		}
	}
	// The freed positions take other tubes.
	w.mustPlace(t, "BOX1", "C3", tubes[2].Accession)
	w.mustPlace(t, "BOX1", "C4", tubes[3].Accession)
	// A sample that had no position records none.
	loose := w.mustTubes(t, 1)[0]
	if _, err := w.samples.End(ctx, w.tech, loose.Accession, sample.ActConsume, "used up"); err != nil {
		t.Fatal(err)
	}
	if e := w.onlyEvent(t, "sample.consume", loose.Accession); e.After["freed_position"] != nil {
		t.Fatalf("freed %v", e.After["freed_position"])
	}
}

// The position is freed in the destruction's own transaction: when freeing it fails, the
// sample is not destroyed either.
func TestEnd_FreesThePositionInTheSameTransaction(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tube := w.mustTubes(t, 1)[0]
	w.mustPlace(t, "BOX1", "C3", tube.Accession)
	if err := w.db.Gorm.Exec(`CREATE FUNCTION test_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'test: no deletes'; END $$`).Error; err != nil {
		t.Fatal(err)
	}
	if err := w.db.Gorm.Exec(`CREATE TRIGGER test_refuse_delete BEFORE DELETE ON sample_positions
		FOR EACH ROW EXECUTE FUNCTION test_refuse_delete()`).Error; err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	if _, err := w.samples.End(ctx, w.tech, tube.Accession, sample.ActDestroy, "dropped"); err == nil {
		t.Fatal("destroyed although its position could not be freed")
	}
	w.unchanged(t, before)
}

func TestAliquot_EmptiedParentFreesItsPosition(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustReceived(t, "1", "", "")
	w.mustPlace(t, "BOX1", "A1", tubes[0].Accession)
	w.mustPlace(t, "BOX1", "A2", tubes[1].Accession)
	half := decimal.RequireFromString("0.5")
	if _, err := w.samples.Aliquot(ctx, w.tech, tubes[1].Accession, sample.Split{Count: 1, Volume: half}); err != nil {
		t.Fatal(err)
	}
	if w.where(t, tubes[1].Accession) != "BOX1 A2" {
		t.Fatal("a parent with volume left lost its position")
	}
	kids, err := w.samples.Aliquot(ctx, w.tech, tubes[0].Accession, sample.Split{Count: 2, Volume: half})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := w.status(t, tubes[0].Accession); st != sample.Consumed || w.where(t, tubes[0].Accession) != "" {
		t.Fatalf("emptied parent is %s at %q", st, w.where(t, tubes[0].Accession))
	}
	e := w.onlyEvent(t, "sample.aliquot", tubes[0].Accession)
	if location(t, e.After, "freed_position").Position != "A1" {
		t.Fatalf("aliquot audited as %+v", e)
	}
	// Its aliquots can go where it was.
	w.mustPlace(t, "BOX1", "A1", kids[0].Accession)
}
