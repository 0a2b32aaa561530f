package web_test

import (
	"net/http"
	"strings"
	"testing"

	"biobank/web"
)

// TestPprof_ForAdministratorsOnly: the profiler answers an administrator (index, a named
// profile, a one-second CPU profile) and nobody else.
func TestPprof_ForAdministratorsOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin, manager := a.signedIn(t, "admin"), a.signedIn(t, "manager")
	if p := admin.get(t, "/admin/debug/pprof/").wantStatus(t, http.StatusOK); !strings.Contains(p.Body, "goroutine") {
		t.Errorf("index: %.200s", p.Body)
	}
	if p := admin.get(t, "/admin/debug/pprof/heap?debug=1").wantStatus(t, http.StatusOK); !strings.Contains(p.Body, "heap profile") {
		t.Errorf("heap: %.200s", p.Body)
	}
	if p := admin.get(t, "/admin/debug/pprof/profile?seconds=1").wantStatus(t, http.StatusOK); len(p.Body) == 0 {
		t.Error("an empty CPU profile")
	}
	manager.get(t, "/admin/debug/pprof/heap").wantStatus(t, http.StatusForbidden)
}
