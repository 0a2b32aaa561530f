package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"biobank/web"
)

// TestCSRF_RefusesPostsWithoutTheSessionToken posts state-changing forms with no token, a
// made-up token, and another session's token: each is a 403 that writes nothing.
func TestCSRF_RefusesPostsWithoutTheSessionToken(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.signedIn(t, "admin")
	other := a.signedIn(t, "manager")
	otherToken := other.csrf(t, "/")

	site := url.Values{"code": {"EVIL"}, "name": {"Evil site"}, "country": {"DE"}, "reason": {"forged"}}
	tokens := map[string]string{"no token": "", "wrong token": "not-the-token", "another session's token": otherToken}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			with := func(v url.Values) url.Values {
				out := url.Values{}
				for k, vs := range v {
					out[k] = vs
				}
				if token != "" {
					out.Set("_csrf", token)
				}
				return out
			}
			sites, events := a.count(t, "sites"), a.count(t, "audit_events")
			before := a.state(t)

			p := admin.post(t, "/admin/sites", with(site)).wantStatus(t, http.StatusForbidden)
			p.wantTestID(t, "error-403")
			p.wantNoGoError(t)

			// Signing out is refused too: the session still works afterwards.
			admin.post(t, "/logout", with(url.Values{})).wantStatus(t, http.StatusForbidden)
			admin.get(t, "/").wantStatus(t, http.StatusOK)

			// So is a sign-in (login CSRF), which would otherwise write an audit event.
			fresh := a.newClient(t)
			fresh.get(t, "/login").wantStatus(t, http.StatusOK)
			lp := fresh.post(t, "/login", with(url.Values{"username": {"nurse"}, "password": {testPassword}})).
				wantStatus(t, http.StatusForbidden)
			// The sign-in form comes back (a page left open past the idle timeout is the usual
			// cause), with the username but not the password.
			lp.wantTestID(t, "signin-form")
			if lp.inputValue(t, "username") != "nurse" || lp.inputValue(t, "password") != "" {
				t.Errorf("re-shown sign-in form holds username %q, password %q", lp.inputValue(t, "username"), lp.inputValue(t, "password"))
			}
			if fresh.cookie("biobank_signed_in") != "" {
				t.Error("a sign-in without a CSRF token signed the browser in")
			}

			if got := a.count(t, "sites"); got != sites {
				t.Errorf("sites: %d before, %d after", sites, got)
			}
			if got := a.count(t, "audit_events"); got != events {
				t.Errorf("audit events: %d before, %d after", events, got)
			}
			a.assertUnchanged(t, before)
		})
	}

	// The token in the X-CSRF-Token header is accepted as well as the form field.
	req, err := http.NewRequest(http.MethodPost, a.ts.URL+"/admin/sites", strings.NewReader(site.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-CSRF-Token", admin.csrf(t, "/admin/sites"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	admin.do(t, req).wantRedirect(t, "/admin/sites")
	a.wantEvent(t, "site", "EVIL", "site.create", "admin")
}
