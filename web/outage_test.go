package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/web"
)

// outageLimits are short so the test runs quickly; the behaviour is the defaults'.
var outageLimits = db.Limits{StatementTimeout: time.Second, PoolWait: time.Second}

const outageRequestTimeout = 2 * time.Second

// TestDatabaseOutage runs the application on a private PostgreSQL server, stops it, starts
// it again, freezes it (SIGSTOP: connections open, nothing answers) and thaws it. While
// the database is away, pages, sign-in and the API answer 503 with a plain message within
// the request timeout; when it is back, the same server answers again without a restart.
func TestDatabaseOutage(t *testing.T) {
	ctx := context.Background()
	cluster := dbtest.NewCluster(t)
	serverURL, err := cluster.Start(ctx)
	if err != nil {
		t.Fatalf("start a private cluster: %v", err)
	}
	url, err := db.EnsureDatabase(ctx, serverURL, "biobank")
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.OpenWith(ctx, url, outageLimits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := newAppOn(t, web.Config{RequestTimeout: outageRequestTimeout}, d)
	a.seedStaff(t)
	browser := a.signedIn(t, "manager")
	token := a.mustToken(t, "manager")

	// Every kind of caller, and what it gets when the database answers.
	type probe struct {
		name string
		do   func() (status int, body string, header http.Header)
	}
	probes := []probe{
		{"a page", func() (int, string, http.Header) {
			p := browser.get(t, "/samples")
			return p.StatusCode, p.Body, p.Header
		}},
		{"the home page", func() (int, string, http.Header) { p := browser.get(t, "/"); return p.StatusCode, p.Body, p.Header }},
		{"signing in", func() (int, string, http.Header) {
			p := a.newClient(t).post(t, "/login", map[string][]string{"username": {"manager"}, "password": {testPassword}})
			return p.StatusCode, p.Body, p.Header
		}},
		{"the API", func() (int, string, http.Header) {
			r := a.api(t, "GET", "/api/v1/samples", token, nil)
			return r.Status, string(r.Body), r.Header
		}},
		{"the health check", func() (int, string, http.Header) {
			r := a.api(t, "GET", "/healthz", "", nil)
			return r.Status, string(r.Body), r.Header
		}},
	}
	wantUp := func(when string) {
		t.Helper()
		for _, p := range probes {
			if p.name == "signing in" {
				continue // a post without the form's CSRF token: refused, whatever the database
			}
			if status, body, _ := p.do(); status != http.StatusOK {
				t.Errorf("%s, %s: status %d, want 200: %s", when, p.name, status, excerpt(body))
			}
		}
	}
	wantDown := func(when string) {
		t.Helper()
		bound := outageRequestTimeout + 2*outageLimits.PoolWait
		for _, p := range probes {
			start := time.Now()
			status, body, header := p.do()
			took := time.Since(start)
			if status != http.StatusServiceUnavailable {
				t.Errorf("%s, %s: status %d, want 503: %s", when, p.name, status, excerpt(body))
				continue
			}
			if took > bound {
				t.Errorf("%s, %s: answered after %v, want within %v", when, p.name, took.Round(time.Millisecond), bound)
			}
			if p.name != "the health check" {
				if !strings.Contains(body, "not answering") {
					t.Errorf("%s, %s: the 503 does not say the database is not answering: %s", when, p.name, excerpt(body))
				}
				if header.Get("Retry-After") == "" {
					t.Errorf("%s, %s: a 503 without Retry-After", when, p.name)
				}
			}
		}
	}

	wantUp("before the outage")

	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	wantDown("with the database stopped")
	if _, err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wantUp("after the database started again")

	cluster.Freeze(t)
	wantDown("with the database frozen")
	cluster.Thaw(t)
	wantUp("after the database thawed")

	// The signed-in session survived the outages: the manager is still signed in.
	if p := browser.get(t, "/"); p.StatusCode != http.StatusOK || p.Doc == nil || p.Doc.Find("form[action='/logout']").Length() == 0 {
		t.Errorf("after the outages the manager's session is gone: %d %s", p.StatusCode, excerpt(p.Body))
	}
}
