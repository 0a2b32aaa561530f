package storage_test

import (
	"context"
	"strings"
	"testing"

	"biobank/internal/sample"
	"biobank/internal/storage"
)

func TestPlace_AtANamedPositionStoresTheSampleAndAuditsIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tube := w.mustTubes(t, 1)[0]
	p, err := w.store.Place(ctx, w.tech, " BOX1 ", "c07", " "+strings.ToLower(tube.Accession)+" ")
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Location{Site: "LUX", Freezer: "F1", Rack: "R1", Box: "BOX1", Position: "C7"}
	if p.Position != (storage.Position{Row: 3, Col: 7}) || p.To != want || p.From != nil || p.Sample.Status != sample.Stored ||
		p.Sample.Accession != tube.Accession {
		t.Fatalf("placed %+v", p)
	}
	if got := w.where(t, tube.Accession); got != "BOX1 C7" {
		t.Fatalf("stored at %q", got)
	}
	if st, _ := w.status(t, tube.Accession); st != sample.Stored {
		t.Fatalf("status %s", st)
	}
	e := w.onlyEvent(t, "sample.place", tube.Accession)
	if e.Actor != "tech1" || e.Before["status"] != "received" || e.Before["location"] != nil || e.After["status"] != "stored" {
		t.Fatalf("audit %+v", e)
	}
	if got := location(t, e.After, "location"); got != want {
		t.Fatalf("audited location %+v, want %+v", got, want)
	}
	loc, err := w.store.Location(ctx, tube.ID)
	if err != nil || loc == nil || *loc != want || loc.String() != "F1 › R1 › BOX1 › C7" {
		t.Fatalf("location %+v %v", loc, err)
	}
	// Placing it where it already is changes nothing.
	before := w.snapshot(t)
	_, err = w.store.Place(ctx, w.tech, "BOX1", "C7", tube.Accession)
	wantConflict(t, err, "already_there")
	w.unchanged(t, before)
}

func TestPlace_NextFreePositionRowByRow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustBox(t, "BOX3", "F2", "", 3, 3)
	tubes := w.mustTubes(t, 10)
	w.mustPlace(t, "BOX3", "B1", tubes[0].Accession)
	var got []string
	for _, tube := range tubes[1:9] {
		p := w.mustPlace(t, "BOX3", "", tube.Accession)
		got = append(got, p.Position.String())
		if p.To.Position != p.Position.String() || p.To.Rack != "" || p.To.Freezer != "F2" {
			t.Fatalf("placed %+v", p)
		}
	}
	if strings.Join(got, " ") != "A1 A2 A3 B2 B3 C1 C2 C3" {
		t.Fatalf("next free positions %v", got)
	}
	before := w.snapshot(t)
	_, err := w.store.Place(context.Background(), w.tech, "BOX3", "", tubes[9].Accession)
	c := wantConflict(t, err, "box_full")
	if !strings.Contains(c.Message, "BOX3") {
		t.Errorf("message %q", c.Message)
	}
	w.unchanged(t, before)
}

func TestPlace_IntoAnOccupiedPositionNamesTheOccupant(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustTubes(t, 2)
	w.mustPlace(t, "BOX1", "A1", tubes[0].Accession)
	before := w.snapshot(t)
	_, err := w.store.Place(context.Background(), w.tech, "BOX1", "A01", tubes[1].Accession)
	c := wantConflict(t, err, "position_occupied")
	if c.Field != "position" || !strings.Contains(c.Message, tubes[0].Accession) || !strings.Contains(c.Message, "A1") {
		t.Fatalf("conflict %+v does not name the occupant %s", c, tubes[0].Accession)
	}
	w.unchanged(t, before)
	if st, _ := w.status(t, tubes[1].Accession); st != sample.Received {
		t.Fatalf("the refused tube is %s", st)
	}
}

func TestPlace_RefusesPositionsOutsideTheGridAndUnknownBoxesOrTubes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX8", "F1", "", 8, 12)
	tube := w.mustTubes(t, 1)[0]
	before := w.snapshot(t)
	for _, position := range []string{"I1", "A13", "Z30", "A0", "12", "AA1"} {
		_, err := w.store.Place(ctx, w.tech, "BOX8", position, tube.Accession)
		v := wantValidation(t, err, "position")
		if position == "I1" && !strings.Contains(v.Message, "A1 to H12") {
			t.Errorf("message %q does not say the box's range", v.Message)
		}
	}
	_, err := w.store.Place(ctx, w.tech, "NO-SUCH-BOX", "A1", tube.Accession)
	wantNotFound(t, err)
	_, err = w.store.Place(ctx, w.tech, "BOX8", "A1", "NO-SUCH-TUBE")
	wantNotFound(t, err)
	_, err = w.store.Place(ctx, w.tech, "BOX8", "A1", "")
	wantValidation(t, err, "sample")
	w.unchanged(t, before)
}

func TestPlace_RefusesSamplesThatCannotBeStored(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustTubes(t, 4)
	destroyed, out, travelling := tubes[0], tubes[1], tubes[2]
	if _, err := w.samples.End(ctx, w.tech, destroyed.Accession, sample.ActDestroy, "tube cracked"); err != nil {
		t.Fatal(err)
	}
	w.mustPlace(t, "BOX1", "A1", out.Accession)
	if _, err := w.store.CheckOut(ctx, w.tech, out.Accession, "assay"); err != nil {
		t.Fatal(err)
	}
	w.setSQL(t, travelling.Accession, "status = 'in_transit'")
	collected, err := w.samples.Collect(ctx, w.nurse, sample.Collection{Participant: w.pseudonym, Study: "IBD", Visit: "BASELINE",
		Tubes: []sample.Tube{{SpecimenType: "whole_blood", Container: "PED", Volume: tubes[3].Volume, Unit: "mL"}}})
	if err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	for _, tc := range []struct {
		name, code, says string
	}{{"destroyed", destroyed.Accession, "destroyed"}, {"checked out", out.Accession, "checked out"},
		{"in transit", travelling.Accession, "in transit"}, {"not yet received", collected[0].Accession, "collected"}} {
		for _, position := range []string{"B2", ""} {
			_, err := w.store.Place(ctx, w.tech, "BOX1", position, tc.code)
			c := wantConflict(t, err, "wrong_status")
			if !strings.Contains(c.Message, tc.says) {
				t.Errorf("%s: message %q does not say the status", tc.name, c.Message)
			}
		}
	}
	w.unchanged(t, before)
	if got := w.where(t, out.Accession); got != "BOX1 A1" {
		t.Fatalf("the checked-out tube lost its reserved position: %q", got)
	}
}

func TestPlace_HeldSampleCanBeMovedAndPlaced(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustTubes(t, 2)
	w.mustPlace(t, "BOX1", "A1", tubes[0].Accession)
	for _, tube := range tubes {
		if _, err := w.samples.Quarantine(ctx, w.manager, tube.Accession, "haemolysed"); err != nil {
			t.Fatal(err)
		}
	}
	moved := w.mustPlace(t, "BOX1", "B2", tubes[0].Accession)
	placed := w.mustPlace(t, "BOX1", "", tubes[1].Accession)
	if !moved.Sample.Hold || moved.Sample.Status != sample.Stored || moved.From == nil || moved.From.Position != "A1" {
		t.Fatalf("moved %+v", moved)
	}
	if !placed.Sample.Hold || placed.Sample.Status != sample.Stored || placed.Position.String() != "A1" {
		t.Fatalf("placed %+v", placed)
	}
	if w.where(t, tubes[0].Accession) != "BOX1 B2" || w.where(t, tubes[1].Accession) != "BOX1 A1" {
		t.Fatal("held samples not where they were put")
	}
}

func TestPlace_MovesASampleThatIsElsewhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	w.mustBox(t, "BOX2", "F2", "", 5, 5)
	tube := w.mustTubes(t, 1)[0]
	w.mustPlace(t, "BOX1", "A1", tube.Accession)
	p := w.mustPlace(t, "BOX2", "E5", tube.Accession)
	from := storage.Location{Site: "LUX", Freezer: "F1", Rack: "R1", Box: "BOX1", Position: "A1"}
	to := storage.Location{Site: "LUX", Freezer: "F2", Box: "BOX2", Position: "E5"}
	if p.From == nil || *p.From != from || p.To != to || p.Sample.Status != sample.Stored {
		t.Fatalf("moved %+v", p)
	}
	if w.occupant(t, "BOX1", "A1") != "" || w.where(t, tube.Accession) != "BOX2 E5" {
		t.Fatal("the old position was not freed")
	}
	e := w.onlyEvent(t, "sample.move", tube.Accession)
	if location(t, e.Before, "location") != from || location(t, e.After, "location") != to || e.Before["status"] != "stored" {
		t.Fatalf("move audited as %+v", e)
	}
	if n := len(w.events(t, "sample.place", tube.Accession)); n != 1 {
		t.Fatalf("%d place events, want 1 (the move is a move)", n)
	}
	// Within one box too; and the freed position takes another tube.
	w.mustPlace(t, "BOX2", "A1", tube.Accession)
	if w.occupant(t, "BOX2", "E5") != "" || len(w.events(t, "sample.move", tube.Accession)) != 2 {
		t.Fatal("a move within the box")
	}
	other := w.mustTubes(t, 1)[0]
	w.mustPlace(t, "BOX1", "A1", other.Accession)
}

func TestPlace_RefusesAnotherSitesSampleOrBox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	w.mustBox(t, "PBOX", w.freezerID(t, "PAR", "P1"), "", 9, 9)
	tubes := w.mustTubes(t, 2)
	mine, theirs := tubes[0], tubes[1]
	// A sample in PAR's custody (shipped there: shipments come later).
	w.setSQL(t, theirs.Accession, "site_id = (SELECT id FROM sites WHERE code = 'PAR')")
	before := w.snapshot(t)

	_, err := w.store.Place(ctx, w.manager, "BOX1", "A1", theirs.Accession)
	c := wantConflict(t, err, "wrong_site")
	if !strings.Contains(c.Message, theirs.Accession) {
		t.Errorf("message %q", c.Message)
	}
	_, err = w.store.Place(ctx, w.manager, "PBOX", "A1", mine.Accession)
	wantConflict(t, err, "wrong_site")
	_, err = w.store.Place(ctx, w.tech, "BOX1", "A1", theirs.Accession)
	wantForbidden(t, err)
	_, err = w.store.Place(ctx, w.tech2, "BOX1", "A1", mine.Accession)
	wantForbidden(t, err)
	_, err = w.store.Place(ctx, w.tech2, "BOX1", "A1", theirs.Accession)
	wantForbidden(t, err)
	_, err = w.store.Place(ctx, w.tech, "PBOX", "A1", mine.Accession)
	wantForbidden(t, err)
	_, err = w.store.Place(ctx, w.nurse, "BOX1", "A1", mine.Accession)
	wantForbidden(t, err)
	w.unchanged(t, before)

	// PAR's technician stores PAR's sample in PAR's box.
	if _, err := w.store.Place(ctx, w.tech2, "PBOX", "A1", theirs.Accession); err != nil {
		t.Fatal(err)
	}
}

func TestRemove_TakesTheSampleOutKeepingItsStatus(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tube := w.mustTubes(t, 1)[0]
	w.mustPlace(t, "BOX1", "D4", tube.Accession)
	before := w.snapshot(t)
	_, err := w.store.Remove(ctx, w.tech, "BOX1", "D5")
	wantNotFound(t, err)
	_, err = w.store.Remove(ctx, w.tech2, "BOX1", "D4")
	wantForbidden(t, err)
	_, err = w.store.Remove(ctx, w.tech, "BOX1", "A0")
	wantValidation(t, err, "position")
	w.unchanged(t, before)

	smp, err := w.store.Remove(ctx, w.tech, "BOX1", "d04")
	if err != nil || smp.Accession != tube.Accession || smp.Status != sample.Stored {
		t.Fatalf("remove: %+v %v", smp, err)
	}
	if w.where(t, tube.Accession) != "" {
		t.Fatal("still in the box")
	}
	e := w.onlyEvent(t, "sample.remove_from_position", tube.Accession)
	if location(t, e.Before, "location").Position != "D4" || e.After["location"] != nil || e.After["status"] != "stored" {
		t.Fatalf("audit %+v", e)
	}
	// Without a position it can be placed again.
	w.mustPlace(t, "BOX1", "", tube.Accession)
}
