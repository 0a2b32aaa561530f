package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"biobank/internal/sample"
	"biobank/internal/storage"
)

func mustRackFile(tb testing.TB, lines ...string) storage.RackFile {
	tb.Helper()
	f, err := storage.ParseRackFile([]byte(strings.Join(lines, "\n")+"\n"), storage.RackOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// outcomes summarises a preview as "position outcome" per well.
func outcomes(p storage.Preview) string {
	var parts []string
	for _, w := range p.Wells {
		parts = append(parts, w.Position+" "+w.Outcome)
	}
	return strings.Join(parts, ", ")
}

func TestPreviewRack_SaysWhatEachWellWouldDo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "RACK1", "F1", "R1", 4, 6)
	w.mustBox(t, "BOX2", "F2", "", 9, 9)
	tubes := w.mustReceived(t, "2", "TMATCH01", "TMOVED01", "TALREADY", "TOWNER01", "TOTHER01", "TDEAD001", "TOUT0001",
		"TTRAVEL1", "TPARIS01", "TLIMSONLY", "TBIGBOX1", "THELD001")
	byTube := map[string]sample.Sample{}
	for _, tube := range tubes {
		byTube[*tube.TubeBarcode] = tube
	}
	w.mustPlace(t, "BOX2", "A1", "TMOVED01")
	w.mustPlace(t, "RACK1", "B1", "TALREADY")
	w.mustPlace(t, "RACK1", "C1", "TOWNER01")
	w.mustPlace(t, "RACK1", "D6", "TLIMSONLY")
	w.mustPlace(t, "BOX2", "A2", "TOUT0001")
	if _, err := w.store.CheckOut(ctx, w.tech, "TOUT0001", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.samples.End(ctx, w.tech, "TDEAD001", sample.ActDestroy, "cracked"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.samples.Quarantine(ctx, w.manager, "THELD001", "check"); err != nil {
		t.Fatal(err)
	}
	w.setSQL(t, byTube["TTRAVEL1"].Accession, "status = 'in_transit'")
	w.setSQL(t, byTube["TPARIS01"].Accession, "site_id = (SELECT id FROM sites WHERE code = 'PAR')")
	f := mustRackFile(t,
		"Rack,Position,Tube",
		"RACK1,A01,TMATCH01",
		"RACK1,A02,TMOVED01",
		"RACK1,B01,TALREADY",
		"RACK1,A03,",
		"RACK1,A04,NO READ",
		"RACK1,A05,TNOBODY1",
		"RACK1,C01,TOTHER01",
		"RACK1,A06,TDEAD001",
		"RACK1,B02,TOUT0001",
		"RACK1,B03,TTRAVEL1",
		"RACK1,B04,TPARIS01",
		"RACK1,D06,",
		"RACK1,E01,TBIGBOX1",
		"RACK1,B05,"+strings.ToLower(byTube["THELD001"].Accession),
	)
	before := w.snapshot(t)
	p, err := w.store.PreviewRack(ctx, w.tech, f)
	if err != nil {
		t.Fatal(err)
	}
	w.unchanged(t, before)
	want := "A1 matched, A2 moved, B1 already, A3 empty, A4 no_read, A5 unknown, C1 conflict, A6 unknown, B2 conflict, B3 conflict, " +
		"B4 conflict, D6 conflict, E1 conflict, B5 matched"
	if got := outcomes(p); got != want || p.Clean || p.Box.Barcode != "RACK1" {
		t.Fatalf("preview\n got %s\nwant %s (clean %v)", got, want, p.Clean)
	}
	for _, c := range []struct {
		i         int
		accession string
		says      string
	}{
		{0, byTube["TMATCH01"].Accession, ""},
		{1, byTube["TMOVED01"].Accession, "moves here"},
		{4, "", "could not read"},
		{5, "", "no live sample"},
		{6, byTube["TOTHER01"].Accession, byTube["TOWNER01"].Accession},
		{8, byTube["TOUT0001"].Accession, "checked out"},
		{9, byTube["TTRAVEL1"].Accession, "in transit"},
		{10, byTube["TPARIS01"].Accession, "another site"},
		{11, "", byTube["TLIMSONLY"].Accession},
		{12, "", "box size"},
		{13, byTube["THELD001"].Accession, ""},
	} {
		wc := p.Wells[c.i]
		if (c.accession != "" && wc.Accession != c.accession) || !strings.Contains(wc.Message, c.says) || wc.Line != c.i+2 {
			t.Errorf("well %d: %+v, want accession %s and a message saying %q", c.i, wc, c.accession, c.says)
		}
	}

	// An unclean preview imports nothing.
	_, err = w.store.ImportRack(ctx, w.tech, f)
	wantConflict(t, err, "rack_not_clean")
	w.unchanged(t, before)

	_, err = w.store.PreviewRack(ctx, w.tech, mustRackFile(t, "NO-SUCH-RACK,A1,TMATCH01"))
	wantValidation(t, err, "file")
	_, err = w.store.PreviewRack(ctx, w.tech2, f)
	wantForbidden(t, err)
	_, err = w.store.PreviewRack(ctx, w.nurse, f)
	wantForbidden(t, err)
	_, err = w.store.ImportRack(ctx, w.tech2, f)
	wantForbidden(t, err)
	w.unchanged(t, before)
}

func TestImportRack_PlacesACleanFileInOneGo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "RACK1", "F1", "R1", 8, 12)
	w.mustBox(t, "BOX2", "F2", "", 9, 9)
	tubes := w.mustReceived(t, "2", "TUBE0001", "TUBE0002", "TUBE0003", "TUBE0004", "")
	w.mustPlace(t, "BOX2", "E5", "TUBE0002")
	w.mustPlace(t, "RACK1", "H12", "TUBE0003")
	f := mustRackFile(t,
		"RACK1;A01;TUBE0001",
		"RACK1;A02;TUBE0002",
		"RACK1;H12;TUBE0003",
		"RACK1;A03;NOSCAN",
		"RACK1;A04;",
		"RACK1;B01;"+tubes[4].Accession,
	)
	// NOSCAN is a well to look at: fix the file first.
	_, err := w.store.ImportRack(ctx, w.tech, f)
	wantConflict(t, err, "rack_not_clean")
	f.Wells = append(f.Wells[:3], f.Wells[4:]...)

	p, err := w.store.PreviewRack(ctx, w.tech, f)
	if err != nil || !p.Clean || outcomes(p) != "A1 matched, A2 moved, H12 already, A4 empty, B1 matched" {
		t.Fatalf("preview %s clean %v %v", outcomes(p), p.Clean, err)
	}
	n, err := w.store.ImportRack(ctx, w.tech, f)
	if err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	for code, at := range map[string]string{"TUBE0001": "RACK1 A1", "TUBE0002": "RACK1 A2", "TUBE0003": "RACK1 H12", tubes[4].Accession: "RACK1 B1"} {
		smp := tubes[0]
		for _, tube := range tubes {
			if (tube.TubeBarcode != nil && *tube.TubeBarcode == code) || tube.Accession == code {
				smp = tube
			}
		}
		if got := w.where(t, smp.Accession); got != at {
			t.Errorf("%s is at %q, want %s", code, got, at)
		}
		if st, _ := w.status(t, smp.Accession); st != sample.Stored {
			t.Errorf("%s is %s", code, st)
		}
	}
	if w.occupant(t, "BOX2", "E5") != "" {
		t.Fatal("the moved tube's old position was not freed")
	}
	w.onlyEvent(t, "sample.place", tubes[0].Accession)
	w.onlyEvent(t, "sample.place", tubes[4].Accession)
	mv := w.onlyEvent(t, "sample.move", tubes[1].Accession)
	if location(t, mv.Before, "location").Box != "BOX2" || location(t, mv.After, "location") != (storage.Location{Site: "LUX", Freezer: "F1", Rack: "R1", Box: "RACK1", Position: "A2"}) {
		t.Fatalf("move audited as %+v", mv)
	}
	if len(w.events(t, "sample.move", tubes[2].Accession)) != 0 {
		t.Fatal("a tube already in place was moved")
	}

	// The same file again: everything is already there.
	p, err = w.store.PreviewRack(ctx, w.tech, f)
	if err != nil || !p.Clean || outcomes(p) != "A1 already, A2 already, H12 already, A4 empty, B1 already" {
		t.Fatalf("second preview %s %v", outcomes(p), err)
	}
	before := w.snapshot(t)
	if n, err := w.store.ImportRack(ctx, w.tech, f); err != nil || n != 0 {
		t.Fatalf("second import %d %v", n, err)
	}
	w.unchanged(t, before)
}

func TestImportRack_AllOrNothingWhenATubeBecomesUnstorable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "RACK1", "F1", "R1", 8, 12)
	w.mustReceived(t, "2", "TUBE0001", "TUBE0002", "TUBE0003")
	f := mustRackFile(t, "RACK1,A1,TUBE0001", "RACK1,A2,TUBE0002", "RACK1,A3,TUBE0003")
	p, err := w.store.PreviewRack(ctx, w.tech, f)
	if err != nil || !p.Clean {
		t.Fatalf("preview %s %v", outcomes(p), err)
	}
	// Between the preview and the confirmation someone destroys a tube.
	if _, err := w.samples.End(ctx, w.tech, "TUBE0003", sample.ActDestroy, "cracked"); err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	_, err = w.store.ImportRack(ctx, w.tech, f)
	wantConflict(t, err, "rack_not_clean")
	w.unchanged(t, before)
	for _, code := range []string{"TUBE0001", "TUBE0002"} {
		if st, _ := w.status(t, codeAccession(t, w, code)); st != sample.Received {
			t.Fatalf("%s is %s", code, st)
		}
	}
}

// A failure while placing the last well — here a trigger refusing its row — undoes the
// wells placed before it: the import is one transaction.
func TestImportRack_FailureOnTheLastWellUndoesTheOthers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "RACK1", "F1", "R1", 8, 12)
	w.mustBox(t, "BOX2", "F2", "", 9, 9)
	tubes := w.mustReceived(t, "2", "TUBE0001", "TUBE0002", "TUBE0003", "TUBE0004")
	w.mustPlace(t, "BOX2", "A1", "TUBE0002")
	if err := w.db.Gorm.Exec(fmt.Sprintf(`CREATE FUNCTION test_refuse_tube() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.sample_id = %d THEN RAISE EXCEPTION 'test: refused'; END IF; RETURN NEW; END $$`, tubes[3].ID)).Error; err != nil {
		t.Fatal(err)
	}
	if err := w.db.Gorm.Exec(`CREATE TRIGGER test_refuse_tube BEFORE INSERT ON sample_positions
		FOR EACH ROW EXECUTE FUNCTION test_refuse_tube()`).Error; err != nil {
		t.Fatal(err)
	}
	f := mustRackFile(t, "RACK1,A1,TUBE0001", "RACK1,A2,TUBE0002", "RACK1,A3,TUBE0003", "RACK1,A4,TUBE0004")
	if p, err := w.store.PreviewRack(ctx, w.tech, f); err != nil || !p.Clean {
		t.Fatalf("preview %s %v", outcomes(p), err)
	}
	before := w.snapshot(t)
	if n, err := w.store.ImportRack(ctx, w.tech, f); err == nil {
		t.Fatalf("imported %d wells although the last could not be placed", n)
	}
	w.unchanged(t, before)
	if w.where(t, tubes[1].Accession) != "BOX2 A1" {
		t.Fatal("the tube that was to move lost its position")
	}
}

func codeAccession(tb testing.TB, w world, tube string) string {
	tb.Helper()
	var acc string
	if err := w.db.Gorm.Raw("SELECT accession FROM samples WHERE tube_barcode = ? ORDER BY id DESC LIMIT 1", tube).Scan(&acc).Error; err != nil || acc == "" {
		tb.Fatalf("tube %s: %v", tube, err)
	}
	return acc
}
