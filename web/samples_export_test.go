package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"biobank/web"
)

// TestSamplesExport_StreamsTheListsFiltersAsCSV: the export takes the list's filters,
// answers CSV with a row per matching sample, refuses a bad filter before writing
// anything, and is for managers and administrators.
func TestSamplesExport_StreamsTheListsFiltersAsCSV(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	manager := a.usedToken(t, "manager")
	aliquots := a.mustAliquots(t, "nurse", "technician", 3)
	r := a.api(t, "GET", "/api/v1/samples/export.csv?specimen_type=plasma", manager, nil).wantStatus(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[1][0] != aliquots[0] || rows[3][0] != aliquots[2] || rows[1][5] != "plasma" {
		t.Errorf("export %v", rows)
	}
	a.api(t, "GET", "/api/v1/samples/export.csv?status=frozen", manager, nil).wantError(t, http.StatusUnprocessableEntity, "invalid", "status")
	a.api(t, "GET", "/api/v1/samples/export.csv", a.usedToken(t, "technician"), nil).wantStatus(t, http.StatusForbidden)
}

// TestMIABISExport_ColumnsAndAccessFromOutsideTheEU: the MIABIS export has its columns,
// a row per sample with MIABIS material type, storage band, donor sex and the ICD-10
// diagnosis, and says whether access from outside the EU is allowed — yes with sharing
// consent, no once the study asks for the outside_eea tier the consent does not grant.
func TestMIABISExport_ColumnsAndAccessFromOutsideTheEU(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	manager, admin := a.usedToken(t, "manager"), a.usedToken(t, "admin")
	a.api(t, "PATCH", "/api/v1/studies/IBD", admin, map[string]any{"default_diagnosis": "K50", "reason": "cohort"}).wantStatus(t, http.StatusOK)
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-MIABIS", f, "", 9, 9)
	stored := a.mustStored(t, "BOX-MIABIS", 1)[0]
	read := func() map[string][]string {
		t.Helper()
		r := a.api(t, "GET", "/api/v1/export/miabis.csv?study=IBD", manager, nil).wantStatus(t, http.StatusOK)
		rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows[0], ","); got != "sample_id,donor_id,sex,material_type,storage_temperature,creation_datetime_utc,"+
			"anatomical_site,diagnosis_icd10,collection,biobank,country,use_and_access_conditions,access_from_outside_eu" {
			t.Errorf("header %s", got)
		}
		out := map[string][]string{}
		for _, r := range rows[1:] {
			out[r[0]] = r
		}
		return out
	}
	rows := read()
	row := rows[stored]
	if len(rows) != 2 || row == nil || row[3] != "Plasma" || row[7] != "K50" || row[8] != "IBD" || row[10] != "LU" || row[12] != "yes" ||
		!strings.Contains(row[11], "sharing") {
		t.Errorf("rows %v", rows)
	}
	a.api(t, "PATCH", "/api/v1/studies/IBD", admin, map[string]any{"outside_eea_consent": true, "reason": "ethics: transfers to CH"}).wantStatus(t, http.StatusOK)
	if row := read()[stored]; row[12] != "no" {
		t.Errorf("with the outside_eea tier required and not granted, access from outside the EU is %q", row[12])
	}
	a.api(t, "GET", "/api/v1/export/miabis.csv?study=NOPE", manager, nil).wantError(t, http.StatusUnprocessableEntity, "invalid", "study")
	a.api(t, "GET", "/api/v1/export/miabis.csv", a.usedToken(t, "nurse"), nil).wantStatus(t, http.StatusForbidden)
}
