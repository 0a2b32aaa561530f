package web_test

import (
	"encoding/csv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"biobank/web"
)

// TestCustody_ExportHoldsEveryEventOfTheSampleAndItsAncestorsInOrder: the CSV export of
// an aliquot's chain of custody has one row per audit event of the aliquot and of the
// tube it was made from, in the trail's order, each with its sentence; the page and the
// printed PDF say the same sentences.
func TestCustody_ExportHoldsEveryEventOfTheSampleAndItsAncestorsInOrder(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-CUST", f, "", 9, 9)
	child := a.mustStored(t, "BOX-CUST", 1)[0]
	parent := a.mustSample(t, child).Parent.Accession
	// The trail's events of both samples, in sequence order: "seq sample action".
	all := append(a.events(t, "sample", parent), a.events(t, "sample", child)...)
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	var want []string
	for _, e := range all {
		want = append(want, strconv.FormatInt(e.Seq, 10)+" "+e.EntityID+" "+e.Action)
	}

	tech := a.signedIn(t, "technician")
	resp := tech.get(t, "/samples/"+child+"/custody?format=csv").wantStatus(t, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, resp.Body)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "at_utc,sample,ancestor,what,actor,site,reason,carried_from,action,audit_seq" {
		t.Fatalf("header %v", rows)
	}
	var got, sentences []string
	for _, r := range rows[1:] {
		got = append(got, r[9]+" "+r[1]+" "+r[8])
		sentences = append(sentences, r[3])
		if (r[1] == parent) != (r[2] == "true") {
			t.Errorf("row %v: ancestor is %s", r, r[2])
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the export's events:\n%s\nwant, from the trail:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range []string{"collected (whole_blood, 9 mL) at visit BASELINE of IBD", "received at the laboratory", "split into",
		"made from " + parent, "placed in BOX-CUST A1"} {
		if !strings.Contains(strings.Join(sentences, "\n"), s) {
			t.Errorf("no step says %q: %q", s, sentences)
		}
	}

	page := tech.get(t, "/samples/"+child+"/custody").wantStatus(t, http.StatusOK)
	if n := page.testid("custody-row").Length(); n != len(want) {
		t.Errorf("the page shows %d steps, want %d", n, len(want))
	}
	tech.get(t, "/samples/"+child+"/custody?format=xml").wantStatus(t, http.StatusUnprocessableEntity)

	pdf := tech.get(t, "/samples/"+child+"/custody?format=pdf").wantStatus(t, http.StatusOK)
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("the custody test needs pdftotext (Debian's poppler-utils, which .ci/run installs)")
	}
	path := filepath.Join(t.TempDir(), "custody.pdf")
	if err := os.WriteFile(path, []byte(pdf.Body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	for _, s := range []string{"Chain of custody of " + child, "received at the laboratory", "placed in BOX-CUST A1", parent + " (ancestor)", "technician"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("the printed chain of custody does not say %q:\n%s", s, out)
		}
	}
}
