package web_test

import (
	"net/http"
	"testing"

	"biobank/web"
)

// TestListQueries_RefuseNumbersThatAreNot: a cursor, limit or count that is not a number
// is a 422 naming it, never silently the first page.
func TestListQueries_RefuseNumbersThatAreNot(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	token := a.mustToken(t, "manager") // a role that may call every one of these
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/samples?cursor=abc", "cursor"},
		{"/api/v1/samples?limit=0", "limit"},
		{"/api/v1/samples?limit=501", "limit"},
		{"/api/v1/storage/free?n=many", "n"},
		{"/api/v1/storage/free?n=0", "n"},
		{"/api/v1/audit?cursor=-1", "cursor"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			a.api(t, http.MethodGet, tc.path, token, nil).wantError(t, http.StatusUnprocessableEntity, "invalid", tc.field)
		})
	}
}
