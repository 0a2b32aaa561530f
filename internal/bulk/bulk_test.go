package bulk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db/dbtest"
	"biobank/internal/participant"
	"biobank/internal/storage"
	"biobank/internal/study"
)

// world is a site with a manager, a study with a visit, participants and a 9×9 box.
type world struct {
	a       *app.App
	manager auth.Actor
	people  []string
}

func newWorld(tb testing.TB, participants int) world {
	tb.Helper()
	ctx := context.Background()
	d := dbtest.New(tb)
	a := app.New(d, app.Config{})
	if _, err := a.Auth.CreateSite(ctx, auth.CommandLine, auth.SiteInput{Code: "LUX", Name: "Luxembourg", Country: "LU", Reason: "test"}); err != nil {
		tb.Fatal(err)
	}
	var w world
	w.a = a
	var nurse auth.Actor
	for _, r := range []auth.Role{auth.RoleManager, auth.RoleNurse} {
		u, err := a.Auth.CreateUser(ctx, auth.CommandLine, auth.NewUser{Username: string(r), Role: string(r), Site: "LUX", Password: "long enough password", Reason: "test"})
		if err != nil {
			tb.Fatal(err)
		}
		if r == auth.RoleManager {
			w.manager = u.Actor()
		} else {
			nurse = u.Actor()
		}
	}
	admin := auth.Actor{Username: "test-admin", Role: auth.RoleAdmin}
	if _, err := a.Studies.Create(ctx, admin, study.Input{Code: "IBD", Name: "IBD cohort"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := a.Studies.AddVisit(ctx, admin, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 30, Reason: "test"}); err != nil {
		tb.Fatal(err)
	}
	for range participants {
		p, err := a.Participants.Enrol(ctx, nurse, participant.EnrolInput{Study: "IBD"})
		if err != nil {
			tb.Fatal(err)
		}
		w.people = append(w.people, p.Pseudonym)
	}
	temp := decimal.NewFromInt(-80)
	f, err := a.Storage.CreateFreezer(ctx, w.manager, storage.FreezerInput{Name: "F1", Type: "-80", Temperature: &temp})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := a.Storage.CreateBox(ctx, w.manager, storage.BoxInput{Barcode: "LEGACY-01", Freezer: fmt.Sprint(f.ID), Rows: 9, Cols: 9}); err != nil {
		tb.Fatal(err)
	}
	return w
}

const header = "pseudonym,study,visit,specimen_type,container,volume,unit,collected_at,tube_barcode,parent,box,position,sprec\n"

// TestDryRun_ReportsOneOfEachErrorWithItsLine: a file with one of each kind of problem
// gets every one reported at its line, and nothing is written.
func TestDryRun_ReportsOneOfEachErrorWithItsLine(t *testing.T) {
	w := newWorld(t, 1)
	p := w.people[0]
	ok := func(tube, parent, box, pos string) string {
		return fmt.Sprintf("%s,IBD,BASELINE,whole_blood,PED,9,mL,2019-03-14 09:30,%s,%s,%s,%s,\n", p, tube, parent, box, pos)
	}
	file := header +
		ok("LEG-0001", "", "LEGACY-01", "A1") + // 2: fine
		"NOBODY99,IBD,BASELINE,whole_blood,PED,9,mL,2019-03-14 09:30,LEG-0002,,,,\n" + // 3: unknown pseudonym
		p + ",XYZ,BASELINE,whole_blood,PED,9,mL,2019-03-14 09:30,LEG-0003,,,,\n" + // 4: unknown study
		p + ",IBD,M99,whole_blood,PED,9,mL,2019-03-14 09:30,LEG-0004,,,,\n" + // 5: unknown visit
		p + ",IBD,BASELINE,ectoplasm,PED,9,mL,2019-03-14 09:30,LEG-0005,,,,\n" + // 6: unknown type
		p + ",IBD,BASELINE,whole_blood,JAR,9,mL,2019-03-14 09:30,LEG-0006,,,,\n" + // 7: unknown container
		ok("LEG-0001", "", "", "") + // 8: duplicate tube barcode
		ok("LEG-0008", "LEG-0009", "", "") + // 9: parent later in the file
		ok("LEG-0009", "", "", "") + // 10: fine
		p + ",IBD,BASELINE,stool,STL,9,mL,2019-03-14 09:30,LEG-0010,,,,\n" + // 11: unit the type does not take
		ok("LEG-0011", "", "LEGACY-01", "A1") + // 12: position given to line 2
		ok("LEG-0012", "", "LEGACY-01", "K1") + // 13: outside the box
		p + ",IBD,BASELINE,whole_blood,PED,lots,mL,2019-03-14 09:30,LEG-0013,,,,\n" + // 14: volume not a number
		p + ",IBD,BASELINE,whole_blood,PED,9,mL,yesterday,LEG-0014,,,,\n" // 15: bad time
	before := count(t, w)
	rep, err := w.a.Import.DryRun(context.Background(), w.manager, []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{3: "pseudonym", 4: "study", 5: "visit", 6: "specimen_type", 7: "container", 8: "tube_barcode", 9: "parent",
		11: "unit", 12: "position", 13: "position", 14: "volume", 15: "collected_at"}
	got := map[int]string{}
	for _, e := range rep.Errors {
		got[e.Line] = e.Field
		if e.Message == "" {
			t.Errorf("line %d: no message", e.Line)
		}
	}
	for line, field := range want {
		if got[line] != field {
			t.Errorf("line %d: reported %q, want %q (%+v)", line, got[line], field, rep.Errors)
		}
	}
	if got[2] != "" || got[10] != "" {
		t.Errorf("good lines reported: %+v", rep.Errors)
	}
	if rep.Rows != 14 {
		t.Errorf("rows %d, want 14", rep.Rows)
	}
	if after := count(t, w); after != before {
		t.Errorf("a dry run wrote: %v → %v", before, after)
	}
	if _, err := w.a.Import.Start(context.Background(), w.manager, "legacy.csv", []byte(file)); err == nil {
		t.Error("a file with problems started importing")
	}
	for name, bad := range map[string]string{
		"wrong header": "pseudonym,study,colour\nX,Y,Z\n",
		"latin-1":      header + p + ",IBD,BASELINE,whole_blood,PED,9,mL,2019-03-14 09:30,LEG-\xe9,,,,\n",
		"empty":        "",
	} {
		rep, err := w.a.Import.DryRun(context.Background(), w.manager, []byte(bad))
		if err != nil || len(rep.Errors) == 0 {
			t.Errorf("%s: %+v %v", name, rep, err)
		}
	}
}

func count(tb testing.TB, w world) [3]int64 {
	tb.Helper()
	var c [3]int64
	if err := w.a.DB.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM samples), (SELECT count(*) FROM visits),
		(SELECT count(*) FROM audit_events)`).Scan(&c[0], &c[1], &c[2]); err != nil {
		tb.Fatal(err)
	}
	return c
}

// legacyFile is a clean file of n rows over the world's participants: every third row an
// aliquot of the row before, the first 81 placed in the box.
func legacyFile(w world, n int) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i := 1; i <= n; i++ {
		p := w.people[i%len(w.people)]
		parent, typ, vol := "", "whole_blood", "9"
		if i%3 == 0 {
			parent, typ, vol = fmt.Sprintf("LEG-%07d", i-1), "plasma", "0.5"
			p = w.people[(i-1)%len(w.people)]
		}
		box, pos := "", ""
		if i <= 81 {
			box, pos = "LEGACY-01", storage.Position{Row: (i-1)/9 + 1, Col: (i-1)%9 + 1}.String()
		}
		fmt.Fprintf(&b, "%s,IBD,BASELINE,%s,PED,%s,mL,2019-03-14 09:30,LEG-%07d,%s,%s,%s,\n", p, typ, vol, i, parent, box, pos)
	}
	return []byte(b.String())
}

// TestImport_WritesEveryRowAuditedInOneJob: a clean file imports whole — samples with
// their lineage and positions, visits opened, one audit event per sample — and the chain
// stays intact.
func TestImport_WritesEveryRowAuditedInOneJob(t *testing.T) {
	w := newWorld(t, 5)
	ctx := context.Background()
	j, err := w.a.Import.Start(ctx, w.manager, "legacy.csv", legacyFile(w, 300))
	if err != nil {
		t.Fatal(err)
	}
	j, err = w.a.Import.Wait(ctx, j.ID)
	if err != nil || j.Status != "done" || j.Done != 300 {
		t.Fatalf("job %+v %v", j, err)
	}
	var samples, placed, children, events int64
	if err := w.a.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM samples), (SELECT count(*) FROM sample_positions),
		(SELECT count(*) FROM samples WHERE parent_id IS NOT NULL), (SELECT count(*) FROM audit_events WHERE action = 'sample.import_legacy')`).
		Scan(&samples, &placed, &children, &events); err != nil {
		t.Fatal(err)
	}
	if samples != 300 || placed != 81 || children != 100 || events != 300 {
		t.Errorf("%d samples, %d placed, %d with a parent, %d events", samples, placed, children, events)
	}
	if res, err := audit.Verify(ctx, w.a.DB.Pool); err != nil || !res.OK {
		t.Errorf("audit chain: %+v %v", res, err)
	}
	got, err := w.a.Import.Job(ctx, w.manager, j.ID)
	if err != nil || got.Status != "done" {
		t.Errorf("job afterwards %+v %v", got, err)
	}
	// The same file again: every tube barcode exists now.
	rep, err := w.a.Import.DryRun(ctx, w.manager, legacyFile(w, 300))
	if err != nil || len(rep.Errors) < 300 {
		t.Errorf("a second import of the same file: %d problems, %v", len(rep.Errors), err)
	}
}

// BenchmarkImport100k imports a clean file of 100,000 rows (every third an aliquot of the
// row before, 81 placed in a box) over 200 participants: dry run and real run, one job.
func BenchmarkImport100k(b *testing.B) {
	const rows = 100_000
	for range b.N {
		b.StopTimer()
		w := newWorld(b, 200)
		file := legacyFile(w, rows)
		ctx := context.Background()
		b.StartTimer()
		j, err := w.a.Import.Start(ctx, w.manager, "legacy.csv", file)
		if err != nil {
			b.Fatal(err)
		}
		if j, err = w.a.Import.Wait(ctx, j.ID); err != nil || j.Status != "done" {
			b.Fatalf("%+v %v", j, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestImport_CancelLeavesNothing: an import cancelled while it runs rolls back whole —
// no sample, visit or sample event of it stays — and its job says cancelled.
func TestImport_CancelLeavesNothing(t *testing.T) {
	w := newWorld(t, 20)
	ctx := context.Background()
	before := count(t, w)
	j, err := w.a.Import.Start(ctx, w.manager, "big.csv", legacyFile(w, 30_000))
	if err != nil {
		t.Fatal(err)
	}
	afterStart := count(t, w)
	if _, err := w.a.Import.Cancel(ctx, w.manager, j.ID); err != nil {
		t.Fatal(err)
	}
	j, err = w.a.Import.Wait(ctx, j.ID)
	if err != nil || j.Status != "cancelled" || j.Done != 0 {
		t.Fatalf("after cancel: %+v %v", j, err)
	}
	after := count(t, w)
	// The job's own start and end are audited; nothing else may be added.
	if after[0] != before[0] || after[1] != before[1] || after[2] != afterStart[2]+1 {
		t.Errorf("a cancelled import left samples, visits or events: %v → %v → %v", before, afterStart, after)
	}
	if _, err := w.a.Import.Cancel(ctx, w.manager, j.ID); err == nil {
		t.Error("a cancelled import was cancelled again")
	}
}

// TestRecoverInterrupted_MarksRunningJobsFailed: a job row left running by a server that
// stopped is marked failed at the next start, with the reason, audited.
func TestRecoverInterrupted_MarksRunningJobsFailed(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	if _, err := w.a.DB.Pool.Exec(ctx, "INSERT INTO import_jobs (file_name, rows) VALUES ('crashed.csv', 1000)"); err != nil {
		t.Fatal(err)
	}
	n, err := w.a.Import.RecoverInterrupted(ctx)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	var status, reason string
	if err := w.a.DB.Pool.QueryRow(ctx, "SELECT status, error FROM import_jobs").Scan(&status, &reason); err != nil || status != "failed" || !strings.Contains(reason, "interrupted") {
		t.Errorf("job %s %q %v", status, reason, err)
	}
	if n, err := w.a.Import.RecoverInterrupted(ctx); err != nil || n != 0 {
		t.Errorf("a second recovery found %d, %v", n, err)
	}
}
