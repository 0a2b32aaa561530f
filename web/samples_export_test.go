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
