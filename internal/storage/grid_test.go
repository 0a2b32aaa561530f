package storage_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"biobank/internal/auth"
	"biobank/internal/sample"
	"biobank/internal/storage"
)

// countQueries counts the statements sent through the world's gorm handle from now on.
func countQueries(tb testing.TB, w world) *atomic.Int64 {
	tb.Helper()
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := w.db.Gorm.Callback()
	for _, err := range []error{
		cb.Query().Before("gorm:query").Register("test:count_query", count),
		cb.Row().Before("gorm:row").Register("test:count_row", count),
		cb.Raw().Before("gorm:raw").Register("test:count_raw", count),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return &n
}

// fillByImport puts tubes into a box row by row in one rack import.
func (w world) fillByImport(tb testing.TB, box string, cols int, tubes []sample.Sample) {
	tb.Helper()
	var b strings.Builder
	for i, smp := range tubes {
		fmt.Fprintf(&b, "%s,%s,%s\n", box, storage.Position{Row: i/cols + 1, Col: i%cols + 1}, smp.Accession)
	}
	f, err := storage.ParseRackFile([]byte(b.String()), storage.RackOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if n, err := w.store.ImportRack(context.Background(), w.tech, f); err != nil || n != len(tubes) {
		tb.Fatalf("import into %s: %d %v", box, n, err)
	}
}

func TestGrid_TwelveByTwelveBoxInAConstantNumberOfQueries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BIG", "F1", "R1", 12, 12)
	w.mustBox(t, "TINY", "F1", "R1", 2, 2)
	tubes := w.mustAliquots(t, 144)
	w.fillByImport(t, "BIG", 12, tubes)
	if _, err := w.store.CheckOut(ctx, w.tech, tubes[13].Accession, ""); err != nil {
		t.Fatal(err)
	}

	queries := countQueries(t, w)
	g, err := w.store.Grid(ctx, w.tech, " BIG ")
	if err != nil {
		t.Fatal(err)
	}
	big := queries.Swap(0)
	if _, err := w.store.Grid(ctx, w.tech, "TINY"); err != nil {
		t.Fatal(err)
	}
	tiny := queries.Load()
	if big != tiny || big > 5 {
		t.Fatalf("a 12×12 box took %d queries, a 2×2 box %d: want the same few, none per position", big, tiny)
	}

	if g.Box.Barcode != "BIG" || g.Box.Freezer.Name != "F1" || g.Box.Rack == nil || g.Box.Rack.Name != "R1" || g.Free != 0 || len(g.Cells) != 12 {
		t.Fatalf("grid %+v free %d", g.Box, g.Free)
	}
	for r, row := range g.Cells {
		if len(row) != 12 {
			t.Fatalf("row %d has %d cells", r+1, len(row))
		}
		for c, cell := range row {
			want := tubes[r*12+c]
			if cell.Position != (storage.Position{Row: r + 1, Col: c + 1}) || cell.Accession != want.Accession ||
				cell.SpecimenType != "plasma" || cell.Hold || !cell.Occupied() {
				t.Fatalf("cell %d,%d is %+v, want %s", r+1, c+1, cell, want.Accession)
			}
			if wantStatus := map[bool]sample.Status{true: sample.CheckedOut, false: sample.Stored}[r*12+c == 13]; cell.Status != wantStatus || cell.Reserved() != (r*12+c == 13) {
				t.Fatalf("cell %s is %s", cell.Position, cell.Status)
			}
		}
	}
	// The box is full: the next free position is none.
	extra := w.mustAliquots(t, 1)[0]
	_, err = w.store.Place(ctx, w.tech, "BIG", "", extra.Accession)
	wantConflict(t, err, "box_full")

	// An emptier box: free counts, empty cells.
	w.mustPlace(t, "TINY", "B1", extra.Accession)
	small, err := w.store.Grid(ctx, w.tech, "TINY")
	if err != nil || small.Free != 3 || small.Cells[1][0].Accession != extra.Accession || small.Cells[0][0].Occupied() || small.Cells[0][0].Position.String() != "A1" {
		t.Fatalf("tiny grid %+v %v", small, err)
	}
	_, err = w.store.Grid(ctx, w.tech2, "BIG")
	wantForbidden(t, err)
	_, err = w.store.Grid(ctx, w.tech, "NOPE")
	wantNotFound(t, err)
}

func TestOccupancyAndFreeSpace_CountPositionsPerBox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOXP", "F1", "R1", 5, 5)
	w.mustBox(t, "BOXW", "F1", "", 5, 5)
	w.mustBox(t, "BOXE", "F2", "", 3, 3)
	w.mustBox(t, "PBOX", w.freezerID(t, "PAR", "P1"), "", 9, 9)
	plasma := w.mustAliquots(t, 20)
	w.fillByImport(t, "BOXP", 5, plasma)
	blood := w.mustTubes(t, 2)
	w.mustPlace(t, "BOXW", "", blood[0].Accession)
	w.mustPlace(t, "BOXW", "", blood[1].Accession)
	if _, err := w.store.CheckOut(ctx, w.tech, blood[1].Accession, ""); err != nil {
		t.Fatal(err)
	}
	paris := w.mustTubes(t, 1)[0]
	w.setSQL(t, paris.Accession, "site_id = (SELECT id FROM sites WHERE code = 'PAR')")
	if _, err := w.store.Place(ctx, w.tech2, "PBOX", "", paris.Accession); err != nil {
		t.Fatal(err)
	}

	summary := func(uses []storage.BoxUse) string {
		var parts []string
		for _, u := range uses {
			parts = append(parts, fmt.Sprintf("%s/%s/%s/%s %d/%d %d%%", u.Site, u.Freezer, u.Rack, u.Box, u.Used, u.Size, u.Percent()))
		}
		return strings.Join(parts, ", ")
	}
	lux := "LUX/F1//BOXW 2/25 8%, LUX/F1/R1/BOXP 20/25 80%, LUX/F2//BOXE 0/9 0%"
	for _, tc := range []struct {
		who  string
		uses func() ([]storage.BoxUse, error)
		want string
	}{
		{"technician", func() ([]storage.BoxUse, error) { return w.store.Occupancy(ctx, w.tech) }, lux},
		{"manager", func() ([]storage.BoxUse, error) { return w.store.Occupancy(ctx, w.manager) }, lux + ", PAR/P1//PBOX 1/81 1%"},
		{"Paris technician", func() ([]storage.BoxUse, error) { return w.store.Occupancy(ctx, w.tech2) }, "PAR/P1//PBOX 1/81 1%"},
	} {
		uses, err := tc.uses()
		if err != nil || summary(uses) != tc.want {
			t.Errorf("%s sees %s (%v), want %s", tc.who, summary(uses), err, tc.want)
		}
	}
	if (storage.BoxUse{}).Percent() != 0 {
		t.Error("percent of a box without positions")
	}

	boxes := func(fs []storage.FreeBox) string {
		var parts []string
		for _, f := range fs {
			parts = append(parts, fmt.Sprintf("%s:%d", f.Barcode, f.Free))
		}
		return strings.Join(parts, " ")
	}
	for _, tc := range []struct {
		n                          int
		freezerType, specimen, who string
		want                       string
	}{
		{5, "", "", "tech", "BOXP:5 BOXW:23 BOXE:9"}, // fullest first; empty boxes open last
		{0, "", "", "tech", "BOXP:5 BOXW:23 BOXE:9"},
		{6, "", "", "tech", "BOXW:23 BOXE:9"},
		{10, "", "", "tech", "BOXW:23"},
		{24, "", "", "tech", ""},
		{1, "-20", "", "tech", "BOXE:9"},
		{1, "-80", "", "tech", "BOXP:5 BOXW:23"},
		{1, "ln2", "", "tech", ""},
		{1, "", "whole_blood", "tech", "BOXW:23 BOXP:5 BOXE:9"},
		{1, "", "plasma", "tech", "BOXP:5 BOXW:23 BOXE:9"},
		{1, "", "", "tech2", "PBOX:80"},
	} {
		actor := map[string]auth.Actor{"tech": w.tech, "tech2": w.tech2}[tc.who]
		got, err := w.store.FreeSpace(ctx, actor, tc.n, tc.freezerType, tc.specimen)
		if err != nil || boxes(got) != tc.want {
			t.Errorf("free space for %d %q %q (%s): %q %v, want %q", tc.n, tc.freezerType, tc.specimen, tc.who, boxes(got), err, tc.want)
		}
	}
}

func TestCheckedOutList_SaysWhoAndSinceWhen(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	w.mustBox(t, "PBOX", w.freezerID(t, "PAR", "P1"), "", 9, 9)
	tubes := w.mustTubes(t, 4)
	for i, tube := range tubes[:3] {
		w.mustPlace(t, "BOX1", fmt.Sprintf("B%d", i+1), tube.Accession)
	}
	paris := tubes[3]
	w.setSQL(t, paris.Accession, "site_id = (SELECT id FROM sites WHERE code = 'PAR')")
	if _, err := w.store.Place(ctx, w.tech2, "PBOX", "A1", paris.Accession); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	for _, c := range []struct {
		code, reason string
	}{{tubes[1].Accession, "qPCR"}, {tubes[0].Accession, ""}} {
		if _, err := w.store.CheckOut(ctx, w.tech, c.code, c.reason); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.store.CheckOut(ctx, w.tech2, paris.Accession, "sequencing"); err != nil {
		t.Fatal(err)
	}
	list, err := w.store.CheckedOutList(ctx, w.tech)
	if err != nil || len(list) != 2 {
		t.Fatalf("technician's list %+v %v", list, err)
	}
	first, second := list[0], list[1]
	if first.Accession != tubes[1].Accession || first.By != "tech1" || first.Reason != "qPCR" || first.Box != "BOX1" || first.Position != "B2" ||
		first.SpecimenType != "whole_blood" || first.Since.Before(start) || first.Since.After(time.Now().Add(time.Minute)) {
		t.Fatalf("first %+v", first)
	}
	if second.Accession != tubes[0].Accession || second.Position != "B1" || second.Since.Before(first.Since) {
		t.Fatalf("second %+v", second)
	}
	all, err := w.store.CheckedOutList(ctx, w.manager)
	if err != nil || len(all) != 3 || all[2].Accession != paris.Accession || all[2].By != "tech2" || all[2].Box != "PBOX" {
		t.Fatalf("manager's list %+v %v", all, err)
	}
	if _, err := w.store.CheckIn(ctx, w.tech, tubes[1].Accession); err != nil {
		t.Fatal(err)
	}
	// Checked out again later: the list gives the latest check-out.
	if _, err := w.store.CheckOut(ctx, w.manager, tubes[1].Accession, "repeat"); err != nil {
		t.Fatal(err)
	}
	list, err = w.store.CheckedOutList(ctx, w.tech)
	if err != nil || len(list) != 2 || list[0].Accession != tubes[0].Accession || list[1].By != "manager1" || list[1].Reason != "repeat" {
		t.Fatalf("after check-in and out again %+v %v", list, err)
	}
}
