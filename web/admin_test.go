package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"biobank/internal/auth"
	"biobank/web"
)

// via is how an administrator makes a change: through the page's form or the JSON API.
// The two share the service call; each case runs both ways.
var via = []string{"form", "json"}

func TestAdminSites_Create(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	token := a.mustToken(t, "admin")

	for _, how := range via {
		t.Run(how, func(t *testing.T) {
			code := "DE-KIEL-" + strings.ToUpper(how)
			in := map[string]string{"code": strings.ToLower(code), "name": "  Kiel biobank ", "country": "de", "reason": "new partner"}
			if how == "form" {
				admin.submit(t, "/admin/sites", "/admin/sites", formOf(in)).wantRedirect(t, "/admin/sites")
				p := admin.get(t, "/admin/sites").wantStatus(t, http.StatusOK)
				if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, code) {
					t.Errorf("flash %q does not name the site", msg)
				}
				row := p.wantTestID(t, "site-"+code)
				if !strings.Contains(row.Text(), "Kiel biobank") || !strings.Contains(row.Text(), "DE") {
					t.Errorf("site row: %q", row.Text())
				}
			} else {
				var site map[string]any
				a.api(t, "POST", "/api/v1/sites", token, in).wantStatus(t, http.StatusCreated).decode(t, &site)
				if site["code"] != code || site["name"] != "Kiel biobank" || site["country"] != "DE" || site["active"] != true {
					t.Errorf("created site %v", site)
				}
			}
			ev := a.wantEvent(t, "site", code, "site.create", "admin")
			if ev.Reason != "new partner" || ev.Site != "LUX" {
				t.Errorf("audit event reason %q site %q", ev.Reason, ev.Site)
			}
		})
	}
}

func TestAdminSites_BadInputChangesNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	token := a.mustToken(t, "admin")
	a.api(t, "GET", "/api/v1/me", token, nil).wantStatus(t, 200)

	good := map[string]string{"code": "NEW", "name": "New site", "country": "DE", "reason": "new partner"}
	cases := []struct {
		name   string
		change map[string]string
		field  string
		status int // for JSON; a form is always re-rendered with 422
	}{
		{"bad code", map[string]string{"code": "x"}, "code", 422},
		{"empty name", map[string]string{"name": "  "}, "name", 422},
		{"over-long name", map[string]string{"name": strings.Repeat("n", 201)}, "name", 422},
		{"bad country", map[string]string{"country": "Germany"}, "country", 422},
		{"no reason", map[string]string{"reason": ""}, "reason", 422},
		{"duplicate code", map[string]string{"code": "lux"}, "code", 409},
	}
	for _, tc := range cases {
		for _, how := range via {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				in := map[string]string{}
				for k, v := range good {
					in[k] = v
				}
				for k, v := range tc.change {
					in[k] = v
				}
				before := a.state(t)
				if how == "form" {
					p := admin.submit(t, "/admin/sites", "/admin/sites", formOf(in)).wantStatus(t, http.StatusUnprocessableEntity)
					if msg := p.wantTestID(t, "error-"+tc.field).Text(); msg == "" {
						t.Errorf("no message beside %s", tc.field)
					}
					for k, v := range in {
						if got := p.inputValue(t, k); got != v {
							t.Errorf("field %s holds %q, want what was typed, %q", k, got, v)
						}
					}
					if p.testid("flash-success").Length() != 0 {
						t.Error("a refused form shows a success flash")
					}
				} else {
					a.api(t, "POST", "/api/v1/sites", token, in).wantError(t, tc.status, "", tc.field)
				}
				a.assertUnchanged(t, before)
			})
		}
	}
}

func TestAdminSites_Edit(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	a.mustSite(t, "KIEL")
	admin := a.signedIn(t, "admin")

	p := admin.get(t, "/admin/sites/KIEL").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "site-edit-form")
	if got := p.inputValue(t, "name"); got != "Site KIEL" {
		t.Errorf("name field holds %q", got)
	}

	before := a.state(t)
	p = admin.submit(t, "/admin/sites/KIEL", "/admin/sites/KIEL", url.Values{"name": {"Kiel"}, "country": {"DE"}, "active": {"true"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-reason")
	if got := p.inputValue(t, "name"); got != "Kiel" {
		t.Errorf("name field holds %q after a refused change", got)
	}
	a.assertUnchanged(t, before)

	admin.submit(t, "/admin/sites/KIEL", "/admin/sites/KIEL",
		url.Values{"name": {"Kiel"}, "country": {"DE"}, "active": {"false"}, "reason": {"closed"}}).wantRedirect(t, "/admin/sites")
	ev := a.wantEvent(t, "site", "KIEL", "site.update", "admin")
	if !strings.Contains(string(ev.After), `"active": false`) && !strings.Contains(string(ev.After), `"active":false`) {
		t.Errorf("audit after = %s", ev.After)
	}

	// An unknown site is a plain 404, not a form error.
	admin.get(t, "/admin/sites/NOPE").wantStatus(t, http.StatusNotFound).wantTestID(t, "error-404")
	admin.submit(t, "/admin/sites", "/admin/sites/NOPE", url.Values{"name": {"x"}, "country": {"DE"}, "reason": {"x"}}).
		wantStatus(t, http.StatusNotFound)
}

func TestAdminUsers_Create(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	token := a.mustToken(t, "admin")

	for _, how := range via {
		t.Run(how, func(t *testing.T) {
			username := "new-" + how
			in := map[string]string{"username": strings.ToUpper(username), "role": "technician", "site": "LUX",
				"password": "a long enough password", "reason": "hired"}
			if how == "form" {
				p := admin.submit(t, "/admin/users/new", "/admin/users", formOf(in)).wantStatus(t, http.StatusSeeOther)
				loc := p.Header.Get("Location")
				if !strings.HasPrefix(loc, "/admin/users/") {
					t.Fatalf("redirect to %q", loc)
				}
				page := admin.get(t, loc).wantStatus(t, http.StatusOK)
				page.wantTestID(t, "flash-success")
				if got := page.wantTestID(t, "user-name").Text(); got != username {
					t.Errorf("user page shows %q", got)
				}
				admin.get(t, "/admin/users").wantStatus(t, http.StatusOK).wantTestID(t, "user-"+username)
			} else {
				var u map[string]any
				a.api(t, "POST", "/api/v1/users", token, in).wantStatus(t, http.StatusCreated).decode(t, &u)
				if u["username"] != username || u["role"] != "technician" || u["site"] != "LUX" || u["active"] != true {
					t.Errorf("created user %v", u)
				}
				if _, ok := u["password_hash"]; ok {
					t.Error("the API shows the password hash")
				}
			}
			ev := a.wantEvent(t, "user", username, "user.create", "admin")
			if ev.Reason != "hired" || strings.Contains(string(ev.After), "argon2") {
				t.Errorf("audit event: reason %q, after %s", ev.Reason, ev.After)
			}
			a.newClient(t).signIn(t, username, "a long enough password").wantRedirect(t, "/")
		})
	}
}

func TestAdminUsers_BadInputChangesNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	a.mustSite(t, "GONE")
	if _, err := a.auth.UpdateSite(context.Background(), auth.CommandLine, "GONE",
		auth.SiteInput{Name: "Gone", Country: "LU", Active: ptr(false), Reason: "closed"}); err != nil {
		t.Fatal(err)
	}
	admin := a.signedIn(t, "admin")
	token := a.mustToken(t, "admin")
	a.api(t, "GET", "/api/v1/me", token, nil).wantStatus(t, 200)

	good := map[string]string{"username": "newbie", "role": "nurse", "site": "LUX", "password": "a long enough password", "reason": "hired"}
	cases := []struct {
		name   string
		change map[string]string
		field  string
		status int
	}{
		{"bad username", map[string]string{"username": "no spaces allowed"}, "username", 422},
		{"over-long username", map[string]string{"username": strings.Repeat("u", 41)}, "username", 422},
		{"unknown role", map[string]string{"role": "superuser"}, "role", 422},
		{"unknown site", map[string]string{"site": "NOWHERE"}, "site", 422},
		{"inactive site", map[string]string{"site": "GONE"}, "site", 422},
		{"short password", map[string]string{"password": "short"}, "password", 422},
		{"no reason", map[string]string{"reason": " "}, "reason", 422},
		{"duplicate username", map[string]string{"username": "Nurse"}, "username", 409},
	}
	for _, tc := range cases {
		for _, how := range via {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				in := map[string]string{}
				for k, v := range good {
					in[k] = v
				}
				for k, v := range tc.change {
					in[k] = v
				}
				before := a.state(t)
				if how == "form" {
					p := admin.submit(t, "/admin/users/new", "/admin/users", formOf(in)).wantStatus(t, http.StatusUnprocessableEntity)
					if msg := p.wantTestID(t, "error-"+tc.field).Text(); msg == "" {
						t.Errorf("no message beside %s", tc.field)
					}
					for _, k := range []string{"username", "reason"} {
						if got := p.inputValue(t, k); got != in[k] {
							t.Errorf("field %s holds %q, want what was typed, %q", k, got, in[k])
						}
					}
					if got := p.inputValue(t, "role"); tc.field != "role" && got != in["role"] {
						t.Errorf("role select shows %q, want %q", got, in["role"])
					}
					if got := p.inputValue(t, "site"); tc.field != "site" && got != in["site"] {
						t.Errorf("site select shows %q, want %q", got, in["site"])
					}
					if got := p.inputValue(t, "password"); got != "" {
						t.Error("a refused form echoes the password back")
					}
				} else {
					a.api(t, "POST", "/api/v1/users", token, in).wantError(t, tc.status, "", tc.field)
				}
				a.assertUnchanged(t, before)
			})
		}
	}
}

// TestAdminUsers_Change changes a user's role, password, status and lock, each through
// the user page's form and through PATCH /api/v1/users/{username}.
func TestAdminUsers_Change(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	token := a.mustToken(t, "admin")

	for _, how := range via {
		t.Run(how, func(t *testing.T) {
			username := "subject-" + how
			u := a.mustUser(t, username, auth.RoleNurse, "LUX")
			userURL := "/admin/users/" + strconv.FormatInt(u.ID, 10)
			change := func(t *testing.T, form string, vals url.Values, patch map[string]any) {
				t.Helper()
				if how == "form" {
					admin.submit(t, userURL, userURL+"/"+form, vals).wantRedirect(t, userURL)
					admin.get(t, userURL).wantStatus(t, http.StatusOK).wantTestID(t, "flash-success")
					return
				}
				a.api(t, "PATCH", "/api/v1/users/"+username, token, patch).wantStatus(t, http.StatusOK)
			}

			// Role.
			change(t, "access", url.Values{"role": {"manager"}, "site": {"LUX"}, "reason": {"promoted"}},
				map[string]any{"role": "manager", "reason": "promoted"})
			if got := a.mustReload(t, u.ID); got.Role != auth.RoleManager {
				t.Errorf("role %s, want manager", got.Role)
			}
			a.wantEvent(t, "user", username, "user.change_role", "admin")

			// Password.
			change(t, "password", url.Values{"password": {"another long password"}, "reason": {"forgotten"}},
				map[string]any{"password": "another long password", "reason": "forgotten"})
			a.wantEvent(t, "user", username, "user.reset_password", "admin")
			a.newClient(t).signIn(t, username, testPassword).wantStatus(t, http.StatusUnauthorized)
			a.newClient(t).signIn(t, username, "another long password").wantRedirect(t, "/")

			// Unlock, after a failed sign-in.
			a.newClient(t).signIn(t, username, "wrong password!").wantStatus(t, http.StatusUnauthorized)
			if got := a.mustReload(t, u.ID); got.FailedSignIns != 1 {
				t.Fatalf("failed sign-ins %d, want 1", got.FailedSignIns)
			}
			if how == "form" {
				admin.get(t, userURL).wantStatus(t, http.StatusOK)
			}
			change(t, "status", url.Values{"action": {"unlock"}, "reason": {"called the helpdesk"}},
				map[string]any{"unlock": true, "reason": "called the helpdesk"})
			if got := a.mustReload(t, u.ID); got.FailedSignIns != 0 || got.LockedUntil != nil {
				t.Errorf("after unlock: failed %d, locked until %v", got.FailedSignIns, got.LockedUntil)
			}
			a.wantEvent(t, "user", username, "user.unlock", "admin")

			// Deactivate.
			userToken := a.mustToken(t, username)
			change(t, "status", url.Values{"action": {"deactivate"}, "reason": {"left"}},
				map[string]any{"active": false, "reason": "left"})
			if got := a.mustReload(t, u.ID); got.Active {
				t.Error("still active")
			}
			a.wantEvent(t, "user", username, "user.deactivate", "admin")
			a.api(t, "GET", "/api/v1/me", userToken, nil).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
			a.newClient(t).signIn(t, username, "another long password").wantStatus(t, http.StatusUnauthorized)
		})
	}
}

func TestAdminUsers_ChangeRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	s := a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	token := a.mustToken(t, "admin")
	a.api(t, "GET", "/api/v1/me", token, nil).wantStatus(t, 200)
	nurseURL := "/admin/users/" + strconv.FormatInt(s[auth.RoleNurse].ID, 10)
	adminURL := "/admin/users/" + strconv.FormatInt(s[auth.RoleAdmin].ID, 10)

	forms := []struct {
		name, path string
		vals       url.Values
		field      string // "" for a message above the form
	}{
		{"unknown role", nurseURL + "/access", url.Values{"role": {"king"}, "site": {"LUX"}, "reason": {"x"}}, "role"},
		{"unknown site", nurseURL + "/access", url.Values{"role": {"nurse"}, "site": {"MARS"}, "reason": {"x"}}, "site"},
		{"no reason", nurseURL + "/access", url.Values{"role": {"manager"}, "site": {"LUX"}}, "reason"},
		{"short password", nurseURL + "/password", url.Values{"password": {"short"}, "reason": {"x"}}, "password"},
		{"no status action", nurseURL + "/status", url.Values{"reason": {"x"}}, ""},
		{"nothing to unlock", nurseURL + "/status", url.Values{"action": {"unlock"}, "reason": {"x"}}, ""},
		{"last admin", adminURL + "/status", url.Values{"action": {"deactivate"}, "reason": {"x"}}, ""},
	}
	for _, tc := range forms {
		t.Run("form/"+tc.name, func(t *testing.T) {
			before := a.state(t)
			from := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(tc.path, "/access"), "/password"), "/status")
			p := admin.submit(t, from, tc.path, tc.vals).wantStatus(t, http.StatusUnprocessableEntity)
			if tc.field != "" {
				p.wantTestID(t, "error-"+tc.field)
			} else {
				p.wantTestID(t, "form-error")
			}
			a.assertUnchanged(t, before)
		})
	}

	patches := []struct {
		name   string
		path   string
		body   any
		status int
		field  string
	}{
		{"unknown role", "/api/v1/users/nurse", map[string]any{"role": "king", "reason": "x"}, 422, "role"},
		{"unknown site", "/api/v1/users/nurse", map[string]any{"site": "MARS", "reason": "x"}, 422, "site"},
		{"no reason", "/api/v1/users/nurse", map[string]any{"role": "manager"}, 422, "reason"},
		{"wrong type", "/api/v1/users/nurse", `{"active":"no","reason":"x"}`, 400, "active"},
		{"unknown field", "/api/v1/users/nurse", `{"admin":true,"reason":"x"}`, 400, "admin"},
		{"unknown user", "/api/v1/users/nobody", map[string]any{"role": "manager", "reason": "x"}, 404, ""},
		{"last admin", "/api/v1/users/admin", map[string]any{"role": "nurse", "reason": "x"}, 409, "role"},
	}
	for _, tc := range patches {
		t.Run("json/"+tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "PATCH", tc.path, token, tc.body).wantError(t, tc.status, "", tc.field)
			a.assertUnchanged(t, before)
		})
	}
}

func TestAdminUsers_Tokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	s := a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	userURL := "/admin/users/" + strconv.FormatInt(s[auth.RoleTechnician].ID, 10)

	// Create: the secret is shown once, and works as a bearer token.
	p := admin.submit(t, userURL, userURL+"/tokens", url.Values{"name": {"rack scanner"}}).wantStatus(t, http.StatusCreated)
	secret := strings.TrimSpace(p.wantTestID(t, "token-secret").Text())
	if !strings.HasPrefix(secret, auth.TokenPrefix) {
		t.Fatalf("token secret %q", secret)
	}
	a.wantEvent(t, "user", "technician", "token.create", "admin")
	var me map[string]any
	a.api(t, "GET", "/api/v1/me", secret, nil).wantStatus(t, http.StatusOK).decode(t, &me)
	if me["username"] != "technician" {
		t.Errorf("the token authenticates %v", me)
	}
	again := admin.get(t, userURL).wantStatus(t, http.StatusOK)
	if again.testid("token-secret").Length() != 0 || strings.Contains(again.Body, secret) {
		t.Error("the secret is shown again on the user page")
	}
	if !strings.Contains(again.wantTestID(t, "tokens-table").Text(), "rack scanner") {
		t.Error("the token is not listed")
	}

	// Bad input: an over-long name.
	before := a.state(t)
	admin.submit(t, userURL, userURL+"/tokens", url.Values{"name": {strings.Repeat("n", 101)}}).
		wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "error-name")
	a.assertUnchanged(t, before)

	// Revoke: a reason is needed; then the token is refused.
	action, ok := again.Doc.Find(`form[action$="/revoke"]`).First().Attr("action")
	if !ok {
		t.Fatal("no revoke form")
	}
	before = a.state(t)
	admin.submit(t, userURL, action, url.Values{"reason": {""}}).wantStatus(t, http.StatusUnprocessableEntity).
		wantTestID(t, "form-error")
	a.assertUnchanged(t, before)
	admin.submit(t, userURL, action, url.Values{"reason": {"scanner replaced"}}).wantRedirect(t, userURL)
	a.wantEvent(t, "user", "technician", "token.revoke", "admin")
	a.api(t, "GET", "/api/v1/me", secret, nil).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
	// Revoking twice is refused.
	admin.submit(t, userURL, action, url.Values{"reason": {"again"}}).wantStatus(t, http.StatusUnprocessableEntity)
	// An unknown token or user is a 404.
	admin.submit(t, userURL, userURL+"/tokens/999999/revoke", url.Values{"reason": {"x"}}).wantStatus(t, http.StatusNotFound)
	admin.submit(t, userURL, "/admin/users/999999/tokens", url.Values{"name": {"x"}}).wantStatus(t, http.StatusNotFound)
}

// formOf turns a map of fields into form values.
func formOf(m map[string]string) url.Values {
	v := url.Values{}
	for k, s := range m {
		v.Set(k, s)
	}
	return v
}

func ptr[T any](v T) *T { return &v }
