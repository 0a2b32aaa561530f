package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"biobank/internal/auth"
	"biobank/internal/testkit"
	"biobank/web"
)

func TestSignIn_WrongPasswordShowsTheGenericMessage(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)

	for _, username := range []string{"nurse", "nobody-here"} {
		c := a.newClient(t)
		p := c.signIn(t, username, "wrong password!").wantStatus(t, http.StatusUnauthorized)
		if got := strings.TrimSpace(p.wantTestID(t, "form-error").Text()); got != auth.SignInMessage {
			t.Errorf("sign-in as %s: message %q, want %q", username, got, auth.SignInMessage)
		}
		if got := p.inputValue(t, "username"); got != username {
			t.Errorf("sign-in as %s: username field holds %q, want what was typed", username, got)
		}
		if got := p.inputValue(t, "password"); got != "" {
			t.Errorf("sign-in as %s: the password is echoed back", username)
		}
		if c.cookie("biobank_signed_in") != "" {
			t.Errorf("sign-in as %s: a refused sign-in marked the browser signed in", username)
		}
		c.get(t, "/").wantRedirect(t, "/login")
	}
	a.wantEvent(t, "user", "nurse", "auth.sign_in_failed", "nurse")
	a.wantEvent(t, "user", "nobody-here", "auth.sign_in_failed", "anonymous")
}

func TestSignIn_LocksAfterFiveFailures(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	c := a.newClient(t)
	for i := 0; i < auth.MaxFailedSignIns; i++ {
		c.signIn(t, "technician", "wrong password!").wantStatus(t, http.StatusUnauthorized)
	}
	// The right password is now refused with the same message.
	p := c.signIn(t, "technician", testPassword).wantStatus(t, http.StatusUnauthorized)
	if got := strings.TrimSpace(p.wantTestID(t, "form-error").Text()); got != auth.SignInMessage {
		t.Errorf("locked sign-in: message %q", got)
	}
}

func TestSignIn_RenewsTheSessionCookie(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	c := a.newClient(t)
	c.get(t, "/login").wantStatus(t, http.StatusOK)
	before := c.cookie(sessionCookie)
	if before == "" {
		t.Fatal("the sign-in page set no session cookie (it needs one for its CSRF token)")
	}
	c.signIn(t, "manager", testPassword).wantRedirect(t, "/")
	after := c.cookie(sessionCookie)
	if after == "" || after == before {
		t.Fatalf("session cookie %q before sign-in, %q after: want a new one", before, after)
	}
	c.get(t, "/").wantStatus(t, http.StatusOK).wantTestID(t, "home-manager")

	// The pre-sign-in token someone may have planted is not signed in.
	attacker := a.newClient(t)
	attacker.setCookie(sessionCookie, before)
	attacker.get(t, "/").wantRedirect(t, "/login")
}

func TestSignIn_CookieAttributes(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	secure := newAppOn(t, web.Config{SecureCookies: true}, a.db)

	for _, tc := range []struct {
		app    *app
		secure bool
	}{{a, false}, {secure, true}} {
		// A browser does not send a Secure cookie back over plain HTTP, so this client
		// carries the session cookie by hand and reads Set-Cookie itself.
		c := tc.app.newClient(t)
		c.http.Jar = nil
		form := c.get(t, "/login").wantStatus(t, http.StatusOK)
		var session *http.Cookie
		for _, ck := range form.Cookies() {
			if ck.Name == sessionCookie {
				session = ck
			}
		}
		if session == nil {
			t.Fatalf("SecureCookies=%v: the sign-in page set no session cookie", tc.secure)
		}
		tok, _ := form.Doc.Find(`input[name="_csrf"]`).Attr("value")
		req, err := http.NewRequest(http.MethodPost, tc.app.ts.URL+"/login",
			strings.NewReader(url.Values{"_csrf": {tok}, "username": {"nurse"}, "password": {testPassword}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
		signedIn := c.do(t, req).wantRedirect(t, "/")

		names := map[string]bool{}
		for _, ck := range append(form.Cookies(), signedIn.Cookies()...) {
			names[ck.Name] = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tc.secure || ck.Path != "/" {
				t.Errorf("SecureCookies=%v: cookie %s has HttpOnly=%v SameSite=%v Secure=%v Path=%q", tc.secure, ck.Name,
					ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path)
			}
		}
		if !names[sessionCookie] || !names["biobank_signed_in"] {
			t.Errorf("SecureCookies=%v: cookies set %v, want the session and signed-in cookies", tc.secure, names)
		}
	}
}

func TestSignIn_IdleSessionExpires(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	a := newApp(t, web.Config{IdleTimeout: 30 * time.Minute, Clock: clock})
	a.seedStaff(t)
	c := a.signedIn(t, "technician")
	// Activity keeps the session alive past the idle timeout.
	for i := 0; i < 3; i++ {
		clock.Advance(20 * time.Minute)
		c.get(t, "/").wantStatus(t, http.StatusOK)
	}
	clock.Advance(29 * time.Minute)
	c.get(t, "/").wantStatus(t, http.StatusOK)
	clock.Advance(31 * time.Minute)
	c.get(t, "/scan?q=A1").wantRedirect(t, "/login?next="+url.QueryEscape("/scan?q=A1"))
	p := c.get(t, "/login?next="+url.QueryEscape("/scan?q=A1")).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-info").Text(); !strings.Contains(msg, "Your session has ended") {
		t.Errorf("flash after expiry: %q", msg)
	}
	if got := p.inputValue(t, "next"); got != "/scan?q=A1" {
		t.Errorf("next = %q", got)
	}
	// The flash is shown once.
	if c.get(t, "/login").testid("flash-info").Length() != 0 {
		t.Error("the expiry flash was shown twice")
	}
}

func TestSignIn_SessionLifetimeEndsHoweverActive(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	a := newApp(t, web.Config{IdleTimeout: 30 * time.Minute, SessionLifetime: 2 * time.Hour, Clock: clock})
	a.seedStaff(t)
	c := a.signedIn(t, "nurse")
	for i := 0; i < 5; i++ { // 1 h 40 min of steady work
		clock.Advance(20 * time.Minute)
		c.get(t, "/").wantStatus(t, http.StatusOK)
	}
	clock.Advance(20 * time.Minute) // two hours since sign-in
	c.get(t, "/participants").wantRedirect(t, "/login?next="+url.QueryEscape("/participants"))
}

func TestSignOut_DestroysTheSession(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	c := a.signedIn(t, "nurse")
	old := c.cookie(sessionCookie)
	c.submit(t, "/", "/logout", nil).wantRedirect(t, "/login")
	p := c.get(t, "/login").wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "signed out") {
		t.Errorf("flash after sign-out: %q", msg)
	}
	c.get(t, "/").wantRedirect(t, "/login")
	a.wantEvent(t, "user", "nurse", "auth.sign_out", "nurse")

	replay := a.newClient(t)
	replay.setCookie(sessionCookie, old)
	replay.get(t, "/").wantRedirect(t, "/login")
}

// TestSession_EndsWhenAdminChangesTheAccount checks that a password reset and a
// deactivation end the user's existing session at once, and leave the admin's alone.
func TestSession_EndsWhenAdminChangesTheAccount(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	s := a.seedStaff(t)
	admin := a.signedIn(t, "admin")

	for _, tc := range []struct {
		name string
		user auth.Role
		path string
		form url.Values
	}{
		{"password reset", auth.RoleTechnician, "/password", url.Values{"password": {"a brand new password"}, "reason": {"forgotten"}}},
		{"deactivation", auth.RoleNurse, "/status", url.Values{"action": {"deactivate"}, "reason": {"left the study"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := a.signedIn(t, string(tc.user))
			user.get(t, "/").wantStatus(t, http.StatusOK)
			userURL := "/admin/users/" + strconv.FormatInt(s[tc.user].ID, 10)
			admin.submit(t, userURL, userURL+tc.path, tc.form).wantRedirect(t, userURL)
			user.get(t, "/").wantRedirect(t, "/login")
			user.get(t, "/login").wantStatus(t, http.StatusOK).wantTestID(t, "flash-info")
			admin.get(t, "/").wantStatus(t, http.StatusOK)
		})
	}
	// The new password works; the deactivated user cannot sign in again.
	a.newClient(t).signIn(t, "technician", "a brand new password").wantRedirect(t, "/")
	a.newClient(t).signIn(t, "nurse", testPassword).wantStatus(t, http.StatusUnauthorized)
}

func TestSignIn_FollowsOnlyLocalNext(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)

	for next, want := range map[string]string{
		"/admin/users":          "/admin/users",
		"/audit?actor=admin":    "/audit?actor=admin",
		"//evil.example":        "/",
		"//evil.example/path":   "/",
		"/\\evil.example":       "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"evil.example":          "/",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"":                      "/",
	} {
		c := a.newClient(t)
		p := c.get(t, "/login?next="+url.QueryEscape(next)).wantStatus(t, http.StatusOK)
		hidden := p.inputValue(t, "next")
		if hidden != want {
			t.Errorf("next=%q: the form carries %q, want %q", next, hidden, want)
		}
		// Post the raw value, as a crafted form would.
		tok := c.csrf(t, "/login")
		c.post(t, "/login", url.Values{"_csrf": {tok}, "username": {"admin"}, "password": {testPassword}, "next": {next}}).
			wantRedirect(t, want)
		// Once signed in, the sign-in page sends the person on, by the same rule.
		c.get(t, "/login?next="+url.QueryEscape(next)).wantRedirect(t, want)
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/a":              "/a",
		"/a?b=c#d":        "/a?b=c#d",
		"//x":             "/",
		"/\\x":            "/",
		"/\t/x":           "/",
		"/\r/x":           "/",
		"/\x00/x":         "/",
		"http://x/":       "/",
		"/%2F%2Fx":        "/%2F%2Fx",
		"\\\\x":           "/",
		" /x":             "/",
		"/\x7f/evil.test": "/",
	} {
		if got := web.SafeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
