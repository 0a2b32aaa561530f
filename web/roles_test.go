package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"biobank/internal/auth"
	"biobank/web"
)

// TestRoleMatrix_AdminAndAuditPages checks every administration and audit route for every
// role: who gets the page (or, for a form post, its normal outcome) and who gets the
// friendly 403 page with nothing written.
func TestRoleMatrix_AdminAndAuditPages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	s := a.seedStaff(t)
	nurseURL := "/admin/users/" + strconv.FormatInt(s[auth.RoleNurse].ID, 10)

	type route struct {
		method, path string
		form         func(role auth.Role) url.Values
		// ok is the status for a role that may use the route.
		ok    int
		roles []auth.Role
	}
	admin := []auth.Role{auth.RoleAdmin}
	managers := []auth.Role{auth.RoleAdmin, auth.RoleManager}
	routes := []route{
		{method: "GET", path: "/admin/sites", ok: 200, roles: admin},
		{method: "GET", path: "/admin/sites/LUX", ok: 200, roles: admin},
		{method: "GET", path: "/admin/users", ok: 200, roles: admin},
		{method: "GET", path: "/admin/users/new", ok: 200, roles: admin},
		{method: "GET", path: nurseURL, ok: 200, roles: admin},
		{method: "GET", path: "/audit", ok: 200, roles: managers},
		{method: "GET", path: "/audit/export.csv", ok: 200, roles: managers},
		{method: "POST", path: "/admin/sites", ok: 303, roles: admin, form: func(r auth.Role) url.Values {
			return url.Values{"code": {"S-" + string(r[:3])}, "name": {"Site by " + string(r)}, "country": {"DE"}, "reason": {"role matrix"}}
		}},
		{method: "POST", path: "/admin/users", ok: 303, roles: admin, form: func(r auth.Role) url.Values {
			return url.Values{"username": {"new-by-" + string(r)}, "role": {"nurse"}, "site": {"LUX"},
				"password": {"a long enough password"}, "reason": {"role matrix"}}
		}},
		{method: "POST", path: "/admin/users", ok: 422, roles: admin, form: func(auth.Role) url.Values {
			return url.Values{"username": {"x"}, "role": {"nurse"}, "site": {"LUX"}, "password": {"a long enough password"}, "reason": {"role matrix"}}
		}},
		{method: "POST", path: "/audit/verify", ok: 200, roles: managers, form: func(auth.Role) url.Values { return url.Values{} }},
	}

	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			c := a.signedIn(t, string(role))
			for _, rt := range routes {
				allowed := false
				for _, r := range rt.roles {
					allowed = allowed || r == role
				}
				name := fmt.Sprintf("%s %s", rt.method, rt.path)
				before := a.state(t)
				var p *page
				if rt.method == "GET" {
					p = c.get(t, rt.path)
				} else {
					p = c.submit(t, "/", rt.path, rt.form(role))
				}
				if !allowed {
					if p.StatusCode != http.StatusForbidden {
						t.Errorf("%s as %s: status %d, want 403", name, role, p.StatusCode)
						continue
					}
					p.wantTestID(t, "error-403")
					p.wantNoGoError(t)
					a.assertUnchanged(t, before)
					continue
				}
				if p.StatusCode != rt.ok {
					t.Errorf("%s as %s: status %d, want %d\n%s", name, role, p.StatusCode, rt.ok, excerpt(p.Body))
				}
			}
		})
	}
}

// TestRoleMatrix_SignedOutIsSentToSignIn checks that every page but the sign-in page
// needs a session, and that the sign-in page is told where the person was going.
func TestRoleMatrix_SignedOutIsSentToSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	s := a.seedStaff(t)
	userURL := "/admin/users/" + strconv.FormatInt(s[auth.RoleNurse].ID, 10)

	for _, path := range []string{"/admin/sites", "/admin/sites/LUX", "/admin/users", "/admin/users/new", userURL,
		"/audit", "/audit/export.csv", "/audit?actor=admin", "/scan?q=X1"} {
		p := a.newClient(t).get(t, path)
		p.wantRedirect(t, "/login?next="+url.QueryEscape(path))
	}
	a.newClient(t).get(t, "/").wantRedirect(t, "/login")

	// A form post from a browser that has a valid CSRF token but no signed-in session.
	c := a.newClient(t)
	before := a.state(t)
	for _, path := range []string{"/admin/sites", "/admin/users", "/audit/verify", userURL + "/status"} {
		c.submit(t, "/login", path, url.Values{"code": {"NEW"}, "name": {"New"}, "country": {"DE"}, "reason": {"x"}}).
			wantRedirect(t, "/login")
	}
	a.assertUnchanged(t, before)
}

// TestRoleMatrix_API checks the API routes with a token of every role.
func TestRoleMatrix_API(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)

	type route struct {
		method, path string
		body         any
		ok           int
		roles        []auth.Role
	}
	all := auth.Roles
	routes := []route{
		{"GET", "/api/v1/me", nil, 200, all},
		{"GET", "/api/v1/sites", nil, 200, all},
		{"GET", "/api/v1/users", nil, 200, []auth.Role{auth.RoleAdmin}},
		{"GET", "/api/v1/audit", nil, 200, []auth.Role{auth.RoleAdmin, auth.RoleManager}},
		{"GET", "/api/v1/audit/verify", nil, 200, []auth.Role{auth.RoleAdmin, auth.RoleManager}},
		{"POST", "/api/v1/sites", map[string]string{"code": "NEW", "name": "New site", "country": "DE", "reason": "matrix"}, 201,
			[]auth.Role{auth.RoleAdmin}},
		{"PATCH", "/api/v1/users/nurse", map[string]any{"unlock": true, "reason": "matrix"}, 422, []auth.Role{auth.RoleAdmin}},
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			token := a.mustToken(t, string(role))
			a.api(t, "GET", "/api/v1/me", token, nil).wantStatus(t, 200) // records the token's first use
			for _, rt := range routes {
				allowed := false
				for _, r := range rt.roles {
					allowed = allowed || r == role
				}
				before := a.state(t)
				r := a.api(t, rt.method, rt.path, token, rt.body)
				if !allowed {
					r.wantError(t, http.StatusForbidden, "forbidden", "")
					a.assertUnchanged(t, before)
					continue
				}
				if r.Status != rt.ok {
					t.Errorf("%s %s as %s: status %d, want %d: %s", rt.method, rt.path, role, r.Status, rt.ok, r.Body)
				}
			}
			var me map[string]any
			a.api(t, "GET", "/api/v1/me", token, nil).decode(t, &me)
			if me["username"] != string(role) || me["role"] != string(role) || me["site"] != "LUX" {
				t.Errorf("GET /api/v1/me = %v", me)
			}
		})
	}
}
