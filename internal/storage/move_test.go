package storage_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"biobank/internal/storage"
)

// boxEvents are the audit events of action on a box.
func (w world) boxEvents(tb testing.TB, action, box string) int64 {
	tb.Helper()
	var n int64
	if err := w.db.Gorm.Raw("SELECT count(*) FROM audit_events WHERE entity_type = 'box' AND entity_id = ? AND action = ?", box, action).Scan(&n).Error; err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestMoveBox_AuditsAMoveForEverySampleInside(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	w.mustRack(t, "F2", "R2")
	tubes := w.mustTubes(t, 3)
	positions := []string{"A1", "C5", "I9"}
	for i, tube := range tubes {
		w.mustPlace(t, "BOX1", positions[i], tube.Accession)
	}
	if _, err := w.store.CheckOut(ctx, w.tech, tubes[1].Accession, ""); err != nil {
		t.Fatal(err)
	}

	before := w.snapshot(t)
	for _, tc := range []struct {
		name, freezer, rack, reason string
		check                       func(error)
	}{
		{"by a technician", "F2", "", "F1 alarm", func(err error) { wantForbidden(t, err) }},
		{"without a reason", "F2", "", " ", func(err error) { wantValidation(t, err, "reason") }},
		{"to another site", w.freezerID(t, "PAR", "P1"), "", "F1 alarm", func(err error) { wantValidation(t, err, "freezer") }},
		{"to no freezer", "F9", "", "F1 alarm", func(err error) { wantValidation(t, err, "freezer") }},
		{"to a rack the freezer lacks", "F2", "R1", "F1 alarm", func(err error) { wantValidation(t, err, "rack") }},
		{"to where it is", "F1", "R1", "F1 alarm", func(err error) { wantValidation(t, err, "freezer") }},
	} {
		actor := w.manager
		if tc.name == "by a technician" {
			actor = w.tech
		}
		_, err := w.store.MoveBox(ctx, actor, "BOX1", tc.freezer, tc.rack, tc.reason)
		if err == nil {
			t.Fatalf("%s: moved", tc.name)
		}
		tc.check(err)
	}
	_, err := w.store.MoveBox(ctx, w.manager, "NO-BOX", "F2", "", "F1 alarm")
	wantNotFound(t, err)
	w.unchanged(t, before)

	b, err := w.store.MoveBox(ctx, w.manager, "BOX1", "F2", "R2", "F1 alarm")
	if err != nil {
		t.Fatal(err)
	}
	if b.Freezer.Name != "F2" || b.Rack == nil || b.Rack.Name != "R2" {
		t.Fatalf("box now in %+v %+v", b.Freezer, b.Rack)
	}
	for i, tube := range tubes {
		e := w.onlyEvent(t, "sample.move", tube.Accession)
		from := storage.Location{Site: "LUX", Freezer: "F1", Rack: "R1", Box: "BOX1", Position: positions[i]}
		to := storage.Location{Site: "LUX", Freezer: "F2", Rack: "R2", Box: "BOX1", Position: positions[i]}
		if e.Reason != "F1 alarm" || e.Actor != "manager1" || location(t, e.Before, "location") != from || location(t, e.After, "location") != to {
			t.Fatalf("move of %s audited as %+v", tube.Accession, e)
		}
		loc, err := w.store.Location(ctx, tube.ID)
		if err != nil || loc == nil || *loc != to {
			t.Fatalf("location of %s: %+v %v", tube.Accession, loc, err)
		}
		if w.where(t, tube.Accession) != "BOX1 "+positions[i] {
			t.Fatalf("%s changed position in its box", tube.Accession)
		}
	}
	if st, _ := w.status(t, tubes[1].Accession); st != "checked_out" {
		t.Fatalf("the checked-out tube is %s", st)
	}
	if w.boxEvents(t, "storage.move_box", "BOX1") != 1 {
		t.Fatal("no box move event")
	}
	// Out of the rack, back to the first freezer.
	if b, err := w.store.MoveBox(ctx, w.manager, "BOX1", "F1", "", "repaired"); err != nil || b.Freezer.Name != "F1" || b.Rack != nil {
		t.Fatalf("move back: %+v %v", b, err)
	}
	if n := len(w.events(t, "sample.move", tubes[0].Accession)); n != 2 {
		t.Fatalf("%d moves of %s", n, tubes[0].Accession)
	}
}

func TestMoveRack_MovesAllItsBoxes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	w.mustBox(t, "BOX2", "F1", "R1", 5, 5)
	w.mustBox(t, "BOX3", "F1", "", 5, 5)
	w.mustRack(t, "F1", "R7")
	tubes := w.mustTubes(t, 4)
	for i, box := range []string{"BOX1", "BOX1", "BOX2", "BOX3"} {
		w.mustPlace(t, box, "", tubes[i].Accession)
	}
	w.mustRack(t, w.freezerID(t, "PAR", "P1"), "R1")
	w.mustFreezer(t, "F3", "-80", "LUX")
	w.mustRack(t, "F3", "R1")

	before := w.snapshot(t)
	for _, tc := range []struct {
		name    string
		rack    int64
		freezer string
		reason  string
		check   func(error)
	}{
		{"to its own freezer", w.rackR1.ID, "F1", "F1 alarm", func(err error) { wantValidation(t, err, "freezer") }},
		{"to another site", w.rackR1.ID, w.freezerID(t, "PAR", "P1"), "F1 alarm", func(err error) { wantValidation(t, err, "freezer") }},
		{"without a reason", w.rackR1.ID, "F2", "", func(err error) { wantValidation(t, err, "reason") }},
		{"an unknown rack", w.rackR1.ID + 1000, "F2", "F1 alarm", func(err error) { wantNotFound(t, err) }},
		{"next to a rack of the same name", w.rackR1.ID, "F3", "F1 alarm", func(err error) { wantConflict(t, err, "duplicate_rack") }},
	} {
		err := w.store.MoveRack(ctx, w.manager, tc.rack, tc.freezer, tc.reason)
		if err == nil {
			t.Fatalf("%s: moved", tc.name)
		}
		tc.check(err)
	}
	wantForbidden(t, w.store.MoveRack(ctx, w.tech, w.rackR1.ID, "F2", "F1 alarm"))
	w.unchanged(t, before)

	if err := w.store.MoveRack(ctx, w.manager, w.rackR1.ID, "F2", "F1 alarm"); err != nil {
		t.Fatal(err)
	}
	for _, box := range []string{"BOX1", "BOX2"} {
		b, err := w.store.FindBox(ctx, w.tech, box)
		if err != nil || b.Freezer.Name != "F2" || b.Rack == nil || b.Rack.ID != w.rackR1.ID || b.Rack.FreezerID != b.FreezerID {
			t.Fatalf("%s: %+v %+v %v", box, b.Freezer, b.Rack, err)
		}
		if w.boxEvents(t, "storage.move_box", box) != 1 {
			t.Fatalf("no move event for %s", box)
		}
	}
	if b, err := w.store.FindBox(ctx, w.tech, "BOX3"); err != nil || b.Freezer.Name != "F1" || w.boxEvents(t, "storage.move_box", "BOX3") != 0 {
		t.Fatalf("a box outside the rack moved: %+v %v", b.Freezer, err)
	}
	for i, tube := range tubes[:3] {
		e := w.onlyEvent(t, "sample.move", tube.Accession)
		from, to := location(t, e.Before, "location"), location(t, e.After, "location")
		if from.Freezer != "F1" || from.Rack != "R1" || to.Freezer != "F2" || to.Rack != "R1" || to.Box != from.Box || to.Position != from.Position ||
			e.Reason != "F1 alarm" {
			t.Fatalf("move %d audited as %+v", i, e)
		}
	}
	if len(w.events(t, "sample.move", tubes[3].Accession)) != 0 {
		t.Fatal("a sample outside the rack was audited as moved")
	}
	// The moved rack is found under its new freezer.
	f2, _ := strconv.ParseInt(w.freezerID(t, "LUX", "F2"), 10, 64)
	racks, err := w.store.Racks(ctx, f2)
	if err != nil || len(racks) != 1 || racks[0].Name != "R1" {
		t.Fatalf("racks of F2: %+v %v", racks, err)
	}
	if loc, err := w.store.Location(ctx, tubes[0].ID); err != nil || !strings.HasPrefix(loc.String(), "F2 › R1 › BOX1 ›") {
		t.Fatalf("location %v %v", loc, err)
	}
}
