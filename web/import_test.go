package web_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"biobank/web"
)

// importFile is a small legacy collection of the participant: a blood tube and a plasma
// aliquot of it placed in a box.
func importFile(pseudonym, prefix string) string {
	return "pseudonym,study,visit,specimen_type,container,volume,unit,collected_at,tube_barcode,parent,box,position\n" +
		pseudonym + ",IBD,BASELINE,whole_blood,PED,9,mL,2019-03-14 09:30," + prefix + "-1,,,\n" +
		pseudonym + ",IBD,BASELINE,plasma,CRY,0.5,mL,2019-03-14 09:30," + prefix + "-2," + prefix + "-1,BOX-IMP,B2\n"
}

type importJob struct {
	Job        int64
	Status     string
	Rows, Done int
	Errors     []struct {
		Line           int
		Field, Message string
	}
}

// TestImport_API: a dry run lists the problems and writes nothing; a file with problems
// is refused (422, listed); a clean one starts a job (202) that ends done, its tubes found
// by their barcodes with their lineage and position; a finished job cannot be cancelled.
func TestImport_API(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	manager := a.usedToken(t, "manager")
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-IMP", f, "", 9, 9)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	bad := strings.Replace(importFile(pseudonym, "OLD"), ",IBD,BASELINE,plasma", ",IBD,M99,plasma", 1)
	before := a.state(t)
	var rep importJob
	a.api(t, "POST", "/api/v1/import/samples?dry_run=true", manager, bad).wantStatus(t, http.StatusOK).decode(t, &rep)
	if rep.Rows != 2 || len(rep.Errors) != 1 || rep.Errors[0].Line != 3 || rep.Errors[0].Field != "visit" {
		t.Errorf("dry run %+v", rep)
	}
	r := a.api(t, "POST", "/api/v1/import/samples", manager, bad).wantStatus(t, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), `"import_has_errors"`) || !strings.Contains(string(r.Body), `"line":3`) {
		t.Errorf("refusal %s", r.Body)
	}
	a.assertUnchanged(t, before)

	var j importJob
	a.api(t, "POST", "/api/v1/import/samples?file_name=legacy.csv", manager, importFile(pseudonym, "OLD")).wantStatus(t, http.StatusAccepted).decode(t, &j)
	deadline := time.Now().Add(20 * time.Second)
	for j.Status == "running" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		a.api(t, "GET", "/api/v1/import/jobs/"+itoa(j.Job), manager, nil).wantStatus(t, http.StatusOK).decode(t, &j)
	}
	if j.Status != "done" || j.Done != 2 {
		t.Fatalf("job %+v", j)
	}
	var smp struct {
		ID, Status, Parent string
		Location           *struct{ Box, Position string }
	}
	raw := a.api(t, "GET", "/api/v1/samples/OLD-2", a.usedToken(t, "technician"), nil).wantStatus(t, http.StatusOK).Body
	if err := json.Unmarshal(raw, &smp); err != nil || smp.Status != "stored" || smp.Parent == "" || smp.Location == nil || smp.Location.Position != "B2" {
		t.Errorf("imported aliquot %s", raw)
	}
	a.api(t, "POST", "/api/v1/import/jobs/"+itoa(j.Job)+"/cancel", manager, "{}").wantError(t, http.StatusConflict, "not_running", "job")
	a.api(t, "GET", "/api/v1/import/jobs/999999", manager, nil).wantStatus(t, http.StatusNotFound)
	a.api(t, "POST", "/api/v1/import/samples?dry_run=true", a.usedToken(t, "technician"), bad).wantStatus(t, http.StatusForbidden)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestImport_Pages: the manager checks a file on the page (the problems listed with their
// lines), imports the fixed file and follows the job's page to done.
func TestImport_Pages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-IMP", f, "", 9, 9)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	m := a.signedIn(t, "manager")
	bad := strings.Replace(importFile(pseudonym, "PG"), ",mL,2019-03-14 09:30,PG-1", ",mg,2019-03-14 09:30,PG-1", 1)
	p := m.uploadWith(t, "/import", "/import", "file", "legacy.csv", bad, map[string][]string{"action": {"check"}}).wantStatus(t, http.StatusOK)
	if n := p.testid("import-problem").Length(); n != 1 || !strings.Contains(p.testid("import-problem").Text(), "measured in mL") {
		t.Errorf("report: %d problems: %s", n, p.testid("import-report").Text())
	}
	m.uploadWith(t, "/import", "/import", "file", "legacy.csv", bad, map[string][]string{"action": {"import"}}).wantStatus(t, http.StatusUnprocessableEntity)
	r := m.uploadWith(t, "/import", "/import", "file", "legacy.csv", importFile(pseudonym, "PG"), map[string][]string{"action": {"import"}}).
		wantStatus(t, http.StatusSeeOther)
	job := r.Header.Get("Location")
	deadline := time.Now().Add(20 * time.Second)
	for {
		p = m.get(t, job).wantStatus(t, http.StatusOK)
		if st := p.wantTestID(t, "import-status").Text(); st != "running" || time.Now().After(deadline) {
			break
		}
		if p.Header.Get("Refresh") == "" {
			t.Error("a running import's page does not refresh itself")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.wantTestID(t, "import-done")
	if !strings.Contains(p.wantTestID(t, "import-progress").Text(), "2 of 2 rows") {
		t.Errorf("progress %q", p.testid("import-progress").Text())
	}
}
