package web_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"biobank/internal/audit"
	"biobank/internal/db"
	"biobank/web"
)

// TestAuditExport_RefusesBadFiltersBeforeTheFirstByte: a filter that cannot be read is an
// error response, not a 200 with an empty or short file; a good export is not cached.
func TestAuditExport_RefusesBadFiltersBeforeTheFirstByte(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	token := a.mustToken(t, "manager")
	for _, q := range []string{"actor=%00", "since=yesterday", "until=2026-13-40", "entity=%FF"} {
		r := a.api(t, "GET", "/api/v1/audit/export.csv?"+q, token, nil)
		if r.Status == http.StatusOK || r.Status >= 500 || strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("export with %s: status %d, %s", q, r.Status, r.Header.Get("Content-Type"))
		}
	}
	r := a.api(t, "GET", "/api/v1/audit/export.csv?actor=command-line", token, nil).wantStatus(t, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "seq,at,actor") {
		t.Errorf("export: %q", r.Body)
	}
}

// TestAuditExport_FailureMidStreamBreaksTheDownload: when a later page cannot be read after
// the first rows went out, the connection is aborted, so the client sees a broken
// transfer, never a shorter file that looks whole.
func TestAuditExport_FailureMidStreamBreaksTheDownload(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	token := a.mustToken(t, "manager")
	// More events than one page holds.
	if err := a.db.Tx(t.Context(), func(tx *db.Tx) error {
		for i := range audit.MaxPageSize + 10 {
			tx.Record(audit.Entry{Actor: "command-line", Action: "test.filler", EntityType: "test", EntityID: strconv.Itoa(i)})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	whole := a.api(t, "GET", "/api/v1/audit/export.csv", token, nil).wantStatus(t, http.StatusOK)
	if rows := strings.Count(string(whole.Body), "\n"); rows < audit.MaxPageSize+10 {
		t.Fatalf("the whole export has %d lines, want more than %d", rows, audit.MaxPageSize+10)
	}

	a.srv.FailExportPage(2, errors.New("the database went away"))
	req, _ := http.NewRequest("GET", a.ts.URL+"/api/v1/audit/export.csv", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: the first page was readable", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("the download ended cleanly after %d bytes of %d: a short file that looks whole", len(body), len(whole.Body))
	}
}
