package web_test

import (
	"net/http"
	"strings"
	"testing"

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
