package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/web"
)

// TestPages_EveryTemplateRenders opens one URL per page component and checks its status
// and the element only that page has. (TestMain also fails the run when a page in
// pageMarkers is never rendered by any test.)
func TestPages_EveryTemplateRenders(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	s := a.seedStaff(t)
	userURL := "/admin/users/" + strconv.FormatInt(s[auth.RoleNurse].ID, 10)
	clients := map[string]*client{"": a.newClient(t)}
	for _, r := range auth.Roles {
		clients[string(r)] = a.signedIn(t, string(r))
	}

	for _, tc := range []struct {
		page, as, path string
		status         int
	}{
		{"SignIn", "", "/login", 200},
		{"HomePage(admin)", "admin", "/", 200},
		{"HomePage(manager)", "manager", "/", 200},
		{"HomePage(technician)", "technician", "/", 200},
		{"HomePage(nurse)", "nurse", "/", 200},
		{"ErrorPage", "nurse", "/admin/users", 403},
		{"ScanResult", "technician", "/scan?q=XYZ", 404},
		{"SitesPage", "admin", "/admin/sites", 200},
		{"SiteEditPage", "admin", "/admin/sites/LUX", 200},
		{"UsersPage", "admin", "/admin/users", 200},
		{"NewUserPage", "admin", "/admin/users/new", 200},
		{"UserPage", "admin", userURL, 200},
		{"AuditPage", "manager", "/audit", 200},
	} {
		t.Run(tc.page, func(t *testing.T) {
			p := clients[tc.as].get(t, tc.path).wantStatus(t, tc.status)
			p.wantTestID(t, pageMarkers[tc.page])
			if title := p.Doc.Find("title").Text(); !strings.HasSuffix(title, "· Biobank") {
				t.Errorf("title %q", title)
			}
			// Every visible input has a label.
			p.Doc.Find(`input:not([type="hidden"]), select`).Each(func(_ int, in *goquery.Selection) {
				id, _ := in.Attr("id")
				if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() == 0 {
					name, _ := in.Attr("name")
					t.Errorf("input %q (id %q) has no label", name, id)
				}
			})
			if tc.as != "" {
				if got := strings.TrimSpace(p.wantTestID(t, "who").Find("strong").Text()); got != tc.as {
					t.Errorf("header names %q, want %q", got, tc.as)
				}
			}
		})
	}
}

func TestHome_NavigationFollowsTheRole(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	want := map[auth.Role][]string{
		auth.RoleAdmin:      {"/", "/audit", "/admin/sites", "/admin/users"},
		auth.RoleManager:    {"/", "/audit"},
		auth.RoleTechnician: {"/"},
		auth.RoleNurse:      {"/"},
	}
	forbidden := []string{"/audit", "/admin/sites", "/admin/users"}
	for _, r := range auth.Roles {
		p := a.signedIn(t, string(r)).get(t, "/").wantStatus(t, http.StatusOK)
		links := map[string]bool{}
		p.Doc.Find("nav.nav a").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			links[href] = true
		})
		for _, href := range want[r] {
			if !links[href] {
				t.Errorf("%s: navigation lacks %s (has %v)", r, href, links)
			}
		}
		for _, href := range forbidden {
			allowed := false
			for _, w := range want[r] {
				allowed = allowed || w == href
			}
			if links[href] && !allowed {
				t.Errorf("%s: navigation offers %s, which the role may not open", r, href)
			}
		}
		// Bench roles get the scan box focused.
		_, autofocus := p.wantTestID(t, "scan-input").Attr("autofocus")
		if bench := r == auth.RoleTechnician || r == auth.RoleNurse; autofocus != bench {
			t.Errorf("%s: scan box autofocus %v", r, autofocus)
		}
	}
}

func TestScan_ReportsNothingMatched(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	c := a.signedIn(t, "technician")
	p := c.get(t, "/scan?q=%20XYZ%20").wantStatus(t, http.StatusNotFound)
	if got := p.wantTestID(t, "scan-result").Text(); !strings.Contains(got, "XYZ") {
		t.Errorf("scan result %q does not echo the code", got)
	}
	if got := p.wantTestID(t, "scan-echo").Text(); got != "XYZ" {
		t.Errorf("scanned %q", got)
	}
	if got, _ := p.wantTestID(t, "scan-input").Attr("value"); got != "XYZ" {
		t.Errorf("scan box holds %q", got)
	}
	// Markup in a scanned code is shown, not run.
	p = c.get(t, "/scan?q=%3Cscript%3Ealert(1)%3C/script%3E").wantStatus(t, http.StatusNotFound)
	if p.Doc.Find("main script").Length() != 0 || strings.Contains(p.Body, "<script>alert") {
		t.Error("a scanned code was rendered as markup")
	}
	c.get(t, "/scan?q=").wantStatus(t, http.StatusOK).wantTestID(t, "scan-result")
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	for _, p := range []*page{a.newClient(t).get(t, "/login"), a.signedIn(t, "admin").get(t, "/admin/users")} {
		p.wantStatus(t, http.StatusOK)
		csp := p.Header.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", p.Request.URL.Path, csp)
		}
		if got := p.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", p.Request.URL.Path, got)
		}
		if got := p.Header.Get("Referrer-Policy"); got == "" || got == "unsafe-url" {
			t.Errorf("%s: Referrer-Policy %q", p.Request.URL.Path, got)
		}
		if got := p.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("%s: a page with personal data has Cache-Control %q", p.Request.URL.Path, got)
		}
		// The CSP forbids inline scripts and styles, so the pages must not have any.
		if n := p.Doc.Find("script:not([src]), style, [style]").Length(); n > 0 {
			t.Errorf("%s: %d inline scripts or styles, which the CSP blocks", p.Request.URL.Path, n)
		}
		p.Doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, attr := range s.Nodes[0].Attr {
				if strings.HasPrefix(attr.Key, "on") {
					t.Errorf("%s: inline event handler %s", p.Request.URL.Path, attr.Key)
				}
			}
		})
	}
}

func TestStatic_HashedURLsWithLongCache(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	c := a.newClient(t)
	p := c.get(t, "/login").wantStatus(t, http.StatusOK)
	css, _ := p.Doc.Find(`link[rel="stylesheet"]`).Attr("href")
	js, _ := p.Doc.Find(`script[src]`).Attr("src")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{8,}\.css$`).MatchString(css) {
		t.Fatalf("stylesheet URL %q is not content-hashed", css)
	}
	if !regexp.MustCompile(`^/static/js/app\.[0-9a-f]{8,}\.js$`).MatchString(js) {
		t.Fatalf("script URL %q is not content-hashed", js)
	}
	for path, ctype := range map[string]string{css: "text/css", js: "javascript"} {
		r := c.get(t, path).wantStatus(t, http.StatusOK)
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, ctype) {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if len(r.Body) == 0 {
			t.Errorf("%s: empty", path)
		}
		if r.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a static file sets a cookie", path)
		}
	}
	for _, path := range []string{"/static/css/app.css", "/static/css/app.0000000000.css", "/static/js/app.js", "/static/"} {
		c.get(t, path).wantStatus(t, http.StatusNotFound)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	r := a.api(t, "GET", "/healthz", "", nil).wantStatus(t, http.StatusOK)
	var body map[string]string
	r.decode(t, &body)
	if len(body) != 2 || body["status"] != "ok" || body["database"] != "ok" {
		t.Errorf("healthz = %s", r.Body)
	}

	// A server whose database has gone away.
	d, err := db.Open(context.Background(), dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	down := newAppOn(t, web.Config{}, d)
	d.Close()
	r = down.api(t, "GET", "/healthz", "", nil).wantStatus(t, http.StatusServiceUnavailable)
	body = nil
	r.decode(t, &body)
	if body["status"] == "ok" || body["database"] == "ok" {
		t.Errorf("healthz with the database down = %s", r.Body)
	}

	// Other requests get 503 with a sentence, not the driver's error: an API client whose
	// token cannot be looked up, and a browser whose session cannot be loaded.
	r = down.api(t, "GET", "/api/v1/me", auth.TokenPrefix+strings.Repeat("a", 52), nil)
	r.wantError(t, http.StatusServiceUnavailable, "unavailable", "")
	if strings.Contains(string(r.Body), "closed") || strings.Contains(string(r.Body), "pool") {
		t.Errorf("the API shows the Go error: %s", r.Body)
	}
	c := down.newClient(t)
	c.setCookie(sessionCookie, "some-session")
	p := c.get(t, "/").wantStatus(t, http.StatusServiceUnavailable)
	p.wantTestID(t, "error-503")
	p.wantNoGoError(t, "closed pool", "pool")
}

func TestErrors_FriendlyPages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	const secret = `pq: relation "secret_table" does not exist`
	a.srv.RouteForTest("GET", "/test/fail", func(echo.Context) error { return fmt.Errorf("load: %w", errors.New(secret)) })
	a.srv.RouteForTest("GET", "/test/panic", func(echo.Context) error { panic(secret) })
	a.srv.RouteForTest("GET", "/api/v1/test/fail", func(echo.Context) error { return errors.New(secret) })
	admin := a.signedIn(t, "admin")

	for _, tc := range []struct {
		c      *client
		path   string
		status int
	}{
		{a.newClient(t), "/no/such/page", 404},
		{admin, "/no/such/page", 404},
		{admin, "/admin/users/999999", 404},
		{admin, "/admin/users/not-a-number", 404},
		{admin, "/admin/sites/NOPE", 404},
		{admin, "/test/fail", 500},
		{a.newClient(t), "/test/fail", 500},
		{admin, "/test/panic", 500},
	} {
		p := tc.c.get(t, tc.path).wantStatus(t, tc.status)
		p.wantTestID(t, "error-"+strconv.Itoa(tc.status))
		msg := strings.TrimSpace(p.wantTestID(t, "error-message").Text())
		if !strings.HasSuffix(msg, ".") || !unicodeUpper(msg) {
			t.Errorf("%s: message %q is not a sentence", tc.path, msg)
		}
		p.wantNoGoError(t, "secret_table", "pq:", "load:", "Not Found")
	}

	// A wrong method on a page is a friendly 405.
	p := admin.submit(t, "/", "/admin/users/new", nil).wantStatus(t, http.StatusMethodNotAllowed)
	p.wantTestID(t, "error-405")

	// The API answers in JSON, without the Go error either.
	r := a.api(t, "GET", "/api/v1/test/fail", "", nil)
	r.wantError(t, http.StatusInternalServerError, "internal", "")
	if strings.Contains(string(r.Body), "secret_table") {
		t.Errorf("the API shows the Go error: %s", r.Body)
	}
	a.api(t, "GET", "/api/v1/nothing-here", a.mustToken(t, "admin"), nil).wantError(t, http.StatusNotFound, "not_found", "")

}

func unicodeUpper(s string) bool {
	return s != "" && strings.ToUpper(s[:1]) == s[:1]
}
