package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	application "biobank/internal/app"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/storage"
	"biobank/internal/study"
	"biobank/web"
)

// testPassword is the password every helper-made user starts with.
const testPassword = "correct horse battery staple"

// pageMarkers names, for every page component in templates, a data-testid that only that
// page renders. Every response a test parses is checked for them, and TestMain fails the
// run when a page was never rendered (goatcounter's list of templates).
var pageMarkers = map[string]string{
	"SignIn":               "signin-form",
	"HomePage(admin)":      "home-admin",
	"HomePage(manager)":    "home-manager",
	"HomePage(technician)": "home-technician",
	"HomePage(nurse)":      "home-nurse",
	"ErrorPage":            "error-message",
	"ScanResult":           "scan-result",
	"SitesPage":            "site-form",
	"SiteEditPage":         "site-edit-form",
	"UsersPage":            "users-table",
	"NewUserPage":          "user-form",
	"UserPage":             "user-name",
	"AuditPage":            "audit-filter",
	"StudiesPage":          "studies-table",
	"StudyPage":            "study-code",
	"EnrolPage":            "enrol-form",
	"ParticipantPage":      "participant-pseudonym",
	"ParticipantsPage":     "consent-filter",
	"SamplesPage":          "sample-filter",
	"SamplePage":           "sample-identity",
	"ReceivePage":          "receive-form",
	"ProcessingPage":       "processing-form",
	"AliquotPage":          "aliquot-form",
	"CollectPage":          "collect-form",
	"ConsentActionsPage":   "consent-actions",
	"StoragePage":          "freezer-form",
	"BoxPage":              "box-barcode",
	"FindPage":             "find-form",
	"CheckedOutPage":       "checked-out-table",
	"ImportPage":           "import-form",
}

var rendered sync.Map // page component name -> true

func recordPages(doc *goquery.Document) {
	for page, id := range pageMarkers {
		if doc.Find(testidSel(id)).Length() > 0 {
			rendered.Store(page, true)
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	// Only a full run is expected to render every page.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		var missing []string
		for page := range pageMarkers {
			if _, ok := rendered.Load(page); !ok {
				missing = append(missing, page)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: these page templates were never rendered by a test: %s\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// app is the application on its own fresh database, served by httptest.
type app struct {
	cfg  web.Config
	srv  *web.Server
	ts   *httptest.Server
	db   *db.DB
	auth *auth.Service
}

// newApp starts the application with cfg on a fresh, migrated database.
func newApp(tb testing.TB, cfg web.Config) *app {
	tb.Helper()
	return newAppOn(tb, cfg, dbtest.New(tb))
}

// newAppOn starts the application with cfg on d.
func newAppOn(tb testing.TB, cfg web.Config, d *db.DB) *app {
	tb.Helper()
	srv := web.New(cfg, d)
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	return &app{cfg: cfg, srv: srv, ts: ts, db: d, auth: auth.NewService(d)}
}

// staff are the users seeded by seedStaff, by role.
type staff map[auth.Role]auth.User

// seedStaff creates the site LUX and one user of every role there, named after the role.
func (a *app) seedStaff(tb testing.TB) staff {
	tb.Helper()
	a.mustSite(tb, "LUX")
	s := staff{}
	for _, r := range auth.Roles {
		s[r] = a.mustUser(tb, string(r), r, "LUX")
	}
	return s
}

// mustSite creates an active site as the command line does.
func (a *app) mustSite(tb testing.TB, code string) auth.Site {
	tb.Helper()
	site, err := a.auth.CreateSite(context.Background(), auth.CommandLine, auth.SiteInput{
		Code: code, Name: "Site " + code, Country: "LU", Reason: "test setup"})
	if err != nil {
		tb.Fatalf("create site %s: %v", code, err)
	}
	return site
}

// mustUser creates a user with testPassword as the command line does.
func (a *app) mustUser(tb testing.TB, username string, role auth.Role, site string) auth.User {
	tb.Helper()
	u, err := a.auth.CreateUser(context.Background(), auth.CommandLine, auth.NewUser{
		Username: username, Role: string(role), Site: site, Password: testPassword, Reason: "test setup"})
	if err != nil {
		tb.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// mustToken creates an API token for username and returns its secret.
func (a *app) mustToken(tb testing.TB, username string) string {
	tb.Helper()
	secret, _, err := a.auth.CreateToken(context.Background(), auth.CommandLine, username, "test")
	if err != nil {
		tb.Fatalf("create token for %s: %v", username, err)
	}
	return secret
}

// mustReload reads a user back from the database.
func (a *app) mustReload(tb testing.TB, id int64) auth.User {
	tb.Helper()
	u, err := a.auth.UserByID(context.Background(), id)
	if err != nil {
		tb.Fatalf("reload user %d: %v", id, err)
	}
	return u
}

// count returns the number of rows in table.
func (a *app) count(tb testing.TB, table string) int64 {
	tb.Helper()
	var n int64
	if err := a.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

// state fingerprints every table the web layer's services write (row count and an md5
// of the content), so a test can show that a refused request changed nothing at all.
func (a *app) state(tb testing.TB) map[string]string {
	tb.Helper()
	state := map[string]string{}
	for _, table := range fingerprinted {
		order := "id"
		switch table {
		case "audit_events":
			order = "seq"
		case "sample_positions":
			order = "sample_id"
		}
		var v string
		err := a.db.Pool.QueryRow(context.Background(),
			"SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY "+order+")), '') FROM "+table+" t").Scan(&v)
		if err != nil {
			tb.Fatalf("fingerprint %s: %v", table, err)
		}
		state[table] = v
	}
	return state
}

// fingerprinted are the tables state covers: everything a service of the web layer writes
// (sessions aside, which every request may touch).
var fingerprinted = []string{"sites", "users", "api_tokens", "audit_events",
	"studies", "visit_definitions", "specimen_requirements", "consent_documents",
	"participants", "enrolments", "consents", "consent_withdrawals", "visits",
	"samples", "consent_decisions",
	"freezers", "racks", "box_types", "boxes", "sample_positions"}

// assertUnchanged fails the test when the database differs from before.
func (a *app) assertUnchanged(tb testing.TB, before map[string]string) {
	tb.Helper()
	after := a.state(tb)
	for table, b := range before {
		if after[table] != b {
			tb.Errorf("table %s changed: before %s, after %s", table, b, after[table])
		}
	}
}

// events returns every audit event of one entity, oldest first.
func (a *app) events(tb testing.TB, entityType, entityID string) []audit.Event {
	tb.Helper()
	events, err := audit.ForEntity(context.Background(), a.db.Gorm, entityType, entityID)
	if err != nil {
		tb.Fatalf("events of %s %s: %v", entityType, entityID, err)
	}
	return events
}

// wantEvent fails the test unless one entity's newest audit event has action and actor.
func (a *app) wantEvent(tb testing.TB, entityType, entityID, action, actor string) audit.Event {
	tb.Helper()
	events := a.events(tb, entityType, entityID)
	if len(events) == 0 {
		tb.Fatalf("no audit events for %s:%s, want %s", entityType, entityID, action)
	}
	ev := events[len(events)-1]
	if ev.Action != action || ev.Actor != actor {
		tb.Fatalf("newest audit event of %s:%s is %s by %s, want %s by %s", entityType, entityID, ev.Action, ev.Actor, action, actor)
	}
	return ev
}

// client is one browser: a cookie jar, and redirects returned rather than followed.
type client struct {
	app  *app
	jar  http.CookieJar
	http *http.Client
}

func (a *app) newClient(tb testing.TB) *client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &client{app: a, jar: jar, http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedIn returns a new client signed in as username with testPassword.
func (a *app) signedIn(tb testing.TB, username string) *client {
	tb.Helper()
	c := a.newClient(tb)
	c.signIn(tb, username, testPassword).wantRedirect(tb, "/")
	return c
}

// page is a response with its body read and, for HTML, parsed.
type page struct {
	*http.Response
	Body string
	Doc  *goquery.Document // nil unless the response is HTML
}

func (c *client) do(tb testing.TB, req *http.Request) *page {
	tb.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	p := &page{Response: resp, Body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.Doc, err = goquery.NewDocumentFromReader(bytes.NewReader(b))
		if err != nil {
			tb.Fatalf("%s %s: parse HTML: %v", req.Method, req.URL.Path, err)
		}
		recordPages(p.Doc)
	}
	return p
}

// get fetches path.
func (c *client) get(tb testing.TB, path string) *page {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, c.app.ts.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c.do(tb, req)
}

// post sends vals as a form to path exactly as given: no CSRF token is added.
func (c *client) post(tb testing.TB, path string, vals url.Values) *page {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, c.app.ts.URL+path, strings.NewReader(vals.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(tb, req)
}

// csrf returns the CSRF token of the form on the page at path, as a browser would hold
// it after loading that page.
func (c *client) csrf(tb testing.TB, path string) string {
	tb.Helper()
	p := c.get(tb, path)
	if p.Doc == nil {
		tb.Fatalf("GET %s: status %d, not an HTML page", path, p.StatusCode)
	}
	tok, _ := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if tok == "" {
		tb.Fatalf("GET %s: status %d, no _csrf input", path, p.StatusCode)
	}
	return tok
}

// submit loads the page at from and posts vals to action with that page's CSRF token, as
// a person filling in the form would.
func (c *client) submit(tb testing.TB, from, action string, vals url.Values) *page {
	tb.Helper()
	v := url.Values{}
	for k, vs := range vals {
		v[k] = vs
	}
	v.Set("_csrf", c.csrf(tb, from))
	return c.post(tb, action, v)
}

// signIn fills in the sign-in form.
func (c *client) signIn(tb testing.TB, username, password string) *page {
	tb.Helper()
	return c.submit(tb, "/login", "/login", url.Values{"username": {username}, "password": {password}})
}

// cookie returns the value of the cookie name the browser holds for the application.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.app.ts.URL)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// setCookie puts a cookie into the browser, as an attacker replaying it would.
func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.app.ts.URL)
	c.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// sessionCookie is the name of the session cookie.
const sessionCookie = "biobank_session"

func testidSel(id string) string { return `[data-testid="` + id + `"]` }

// testid returns the elements with data-testid id (empty for a non-HTML response).
func (p *page) testid(id string) *goquery.Selection {
	if p.Doc == nil {
		return &goquery.Selection{}
	}
	return p.Doc.Find(testidSel(id))
}

// wantTestID fails the test unless the page has an element with data-testid id.
func (p *page) wantTestID(tb testing.TB, id string) *goquery.Selection {
	tb.Helper()
	s := p.testid(id)
	if s.Length() == 0 {
		tb.Fatalf("%s %s: no element with data-testid=%q (status %d)\n%s", p.Request.Method, p.Request.URL.Path, id, p.StatusCode, excerpt(p.Body))
	}
	return s
}

// wantStatus fails the test unless the response has status code.
func (p *page) wantStatus(tb testing.TB, code int) *page {
	tb.Helper()
	if p.StatusCode != code {
		tb.Fatalf("%s %s: status %d, want %d\n%s", p.Request.Method, p.Request.URL.RequestURI(), p.StatusCode, code, excerpt(p.Body))
	}
	return p
}

// wantRedirect fails the test unless the response is a 303 to location.
func (p *page) wantRedirect(tb testing.TB, location string) *page {
	tb.Helper()
	p.wantStatus(tb, http.StatusSeeOther)
	if got := p.Header.Get("Location"); got != location {
		tb.Fatalf("%s %s: redirects to %q, want %q", p.Request.Method, p.Request.URL.RequestURI(), got, location)
	}
	return p
}

// inputValue returns the value of the input or selected option named name.
func (p *page) inputValue(tb testing.TB, name string) string {
	tb.Helper()
	if p.Doc == nil {
		tb.Fatalf("not an HTML page")
	}
	if in := p.Doc.Find(`input[name="` + name + `"]`); in.Length() > 0 {
		v, _ := in.First().Attr("value")
		return v
	}
	v, _ := p.Doc.Find(`select[name="` + name + `"] option[selected]`).First().Attr("value")
	return v
}

// wantNoGoError fails the test when the body shows anything that looks like a Go or
// framework error string rather than a sentence for a person.
func (p *page) wantNoGoError(tb testing.TB, secrets ...string) {
	tb.Helper()
	for _, s := range append([]string{"code=", "message=", "internal=", "goroutine ", "panic", "SQLSTATE", "runtime error", ".go:"}, secrets...) {
		if strings.Contains(p.Body, s) {
			tb.Errorf("%s %s: the page shows %q:\n%s", p.Request.Method, p.Request.URL.Path, s, excerpt(p.Body))
		}
	}
}

func excerpt(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// apiResp is a JSON API response.
type apiResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// api calls the JSON API with a bearer token ("" for none). body may be nil, a string
// sent as it is, or a value sent as JSON.
func (a *app) api(tb testing.TB, method, path, token string, body any) *apiResp {
	tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.ts.URL+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.ts.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// wantStatus fails the test unless the response has status code.
func (r *apiResp) wantStatus(tb testing.TB, code int) *apiResp {
	tb.Helper()
	if r.Status != code {
		tb.Fatalf("status %d, want %d: %s", r.Status, code, r.Body)
	}
	return r
}

// decode unmarshals the body into v.
func (r *apiResp) decode(tb testing.TB, v any) {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("Content-Type %q, want application/json: %s", ct, r.Body)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// apiErr is the error body of the API contract.
type apiErr struct {
	Code    string
	Message string
	Field   string
}

// wantError fails the test unless the response is an error of the contract's shape
// {"error":{"code","message","field"}} with status, code and field. code "" accepts any
// code.
func (r *apiResp) wantError(tb testing.TB, status int, code, field string) apiErr {
	tb.Helper()
	r.wantStatus(tb, status)
	var outer map[string]json.RawMessage
	r.decode(tb, &outer)
	if len(outer) != 1 || outer["error"] == nil {
		tb.Fatalf("error body %s: want exactly one key, \"error\"", r.Body)
	}
	var inner map[string]any
	if err := json.Unmarshal(outer["error"], &inner); err != nil {
		tb.Fatalf("error body %s: %v", r.Body, err)
	}
	var keys []string
	for k, v := range inner {
		keys = append(keys, k)
		if _, ok := v.(string); !ok {
			tb.Errorf("error body %s: %q is not a string", r.Body, k)
		}
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"code", "field", "message"}) {
		tb.Fatalf("error body %s: keys %v, want code, field, message", r.Body, keys)
	}
	e := apiErr{Code: inner["code"].(string), Message: inner["message"].(string), Field: inner["field"].(string)}
	if code != "" && e.Code != code {
		tb.Errorf("error code %q, want %q: %s", e.Code, code, r.Body)
	}
	if e.Field != field {
		tb.Errorf("error field %q, want %q: %s", e.Field, field, r.Body)
	}
	if e.Message == "" || strings.Contains(e.Message, "json:") || strings.Contains(e.Message, "SQLSTATE") {
		tb.Errorf("error message %q is not a sentence for a person", e.Message)
	}
	return e
}

// today is the date the application's clock reads now, as YYYY-MM-DD, shifted by days.
func today(days int) string {
	return time.Now().UTC().AddDate(0, 0, days).Format("2006-01-02")
}

// mustPseudonym returns data (six symbols of the alphabet) with its two check symbols.
func mustPseudonym(tb testing.TB, data string) string {
	tb.Helper()
	p, err := checkcode.AppendPID(data)
	if err != nil {
		tb.Fatalf("pseudonym from %s: %v", data, err)
	}
	return p
}

// mistyped returns a valid pseudonym with its third symbol replaced by another: a typing
// error its check symbols catch.
func mistyped(tb testing.TB, pseudonym string) string {
	tb.Helper()
	b := []byte(pseudonym)
	if b[2] == 'Q' {
		b[2] = 'R'
	} else {
		b[2] = 'Q'
	}
	if checkcode.ValidPID(string(b)) {
		tb.Fatalf("%s is still valid", b)
	}
	return string(b)
}

// actorOf returns the acting user username, as the services see them.
func (a *app) actorOf(tb testing.TB, username string) auth.Actor {
	tb.Helper()
	u, err := a.auth.UserByUsername(context.Background(), username)
	if err != nil {
		tb.Fatalf("user %s: %v", username, err)
	}
	return u.Actor()
}

// services returns the study, participant and consent services on the app's database,
// with the real clock as the server has, and wired as the server wires them: a withdrawal
// puts the participant's samples on hold.
func (a *app) services() (*study.Service, *participant.Service, *consent.Service) {
	built := application.New(a.db, application.Config{})
	return built.Studies, built.Participants, built.Consents
}

// seedClinic seeds the staff of LUX (seedStaff), the site KIEL with the nurse
// "nurse-kiel", and two studies set up by the administrator:
//
//   - IBD: visit BASELINE (day 0, window +7 days; whole blood 9 mL, serum 5 mL in four
//     0.5 mL aliquots, stool 500 mg) and M3 (day 90, ±14 days, serum 5 mL); consent
//     versions 0.9 (retired), 1.0 (every tier) and 2.0 (storage and sharing);
//   - RA: visit BASELINE (day 0, window +7 days, whole blood 9 mL); consent version 1.0
//     (storage and sharing).
func (a *app) seedClinic(tb testing.TB) staff {
	tb.Helper()
	s := a.seedStaff(tb)
	a.mustSite(tb, "KIEL")
	a.mustUser(tb, "nurse-kiel", auth.RoleNurse, "KIEL")
	ctx := context.Background()
	admin := a.actorOf(tb, "admin")
	studies, _, _ := a.services()
	must := func(what string, err error) {
		if err != nil {
			tb.Fatalf("seed %s: %v", what, err)
		}
	}
	dec := decimal.RequireFromString
	half := dec("0.5")
	_, err := studies.Create(ctx, admin, study.Input{Code: "IBD", Name: "Inflammatory bowel disease"})
	must("IBD", err)
	_, err = studies.AddVisit(ctx, admin, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 7,
		Requirements: []study.RequirementInput{
			{SpecimenType: "whole_blood", Container: "PED", Volume: dec("9"), Unit: "mL"},
			{SpecimenType: "serum", Container: "SST", Volume: dec("5"), Unit: "mL", Aliquots: 4, AliquotVolume: &half},
			{SpecimenType: "stool", Container: "STL", Volume: dec("500"), Unit: "mg"},
		}})
	must("IBD BASELINE", err)
	_, err = studies.AddVisit(ctx, admin, "IBD", study.VisitInput{Code: "M3", Name: "Month 3", DayOffset: 90, WindowBefore: 14, WindowAfter: 14,
		Requirements: []study.RequirementInput{{SpecimenType: "serum", Container: "SST", Volume: dec("5"), Unit: "mL"}}})
	must("IBD M3", err)
	for _, d := range []study.DocumentInput{
		{Version: "0.9", Tiers: []string{"storage", "genetic"}},
		{Version: "1.0", Tiers: []string{"storage", "genetic", "sharing", "recontact"}},
		{Version: "2.0", Tiers: []string{"storage", "sharing"}},
	} {
		_, err = studies.AddDocument(ctx, admin, "IBD", d)
		must("IBD "+d.Version, err)
	}
	_, err = studies.RetireDocument(ctx, admin, "IBD", "0.9", "superseded by 1.0")
	must("retire IBD 0.9", err)
	_, err = studies.Create(ctx, admin, study.Input{Code: "RA", Name: "Rheumatoid arthritis"})
	must("RA", err)
	_, err = studies.AddVisit(ctx, admin, "RA", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 7,
		Requirements: []study.RequirementInput{{SpecimenType: "whole_blood", Container: "PED", Volume: dec("9"), Unit: "mL"}}})
	must("RA BASELINE", err)
	_, err = studies.AddDocument(ctx, admin, "RA", study.DocumentInput{Version: "1.0", Tiers: []string{"storage", "sharing"}})
	must("RA 1.0", err)
	return s
}

// mustEnrol enrols a participant in studyCode as username, on the date days from today;
// pseudonym "" has one generated. It returns the pseudonym.
func (a *app) mustEnrol(tb testing.TB, username, studyCode, pseudonym string, days int) string {
	tb.Helper()
	_, ps, _ := a.services()
	p, err := ps.Enrol(context.Background(), a.actorOf(tb, username),
		participant.EnrolInput{Study: studyCode, Pseudonym: pseudonym, EnrolledOn: today(days)})
	if err != nil {
		tb.Fatalf("enrol %q in %s: %v", pseudonym, studyCode, err)
	}
	return p.Pseudonym
}

// mustConsent records a consent signed today as username and returns its id.
func (a *app) mustConsent(tb testing.TB, username, pseudonym, studyCode, version string, tiers ...string) int64 {
	tb.Helper()
	_, _, cs := a.services()
	c, err := cs.Record(context.Background(), a.actorOf(tb, username), pseudonym,
		consent.RecordInput{Study: studyCode, Version: version, SignedOn: today(0), Tiers: tiers})
	if err != nil {
		tb.Fatalf("consent of %s to %s %s: %v", pseudonym, studyCode, version, err)
	}
	return c.ID
}

// mustWithdraw withdraws tiers (none: everything) of a consent as username.
func (a *app) mustWithdraw(tb testing.TB, username, pseudonym string, consentID int64, tiers ...string) {
	tb.Helper()
	_, _, cs := a.services()
	if _, err := cs.Withdraw(context.Background(), a.actorOf(tb, username), pseudonym, consentID,
		consent.WithdrawInput{Reason: "test setup", Tiers: tiers}); err != nil {
		tb.Fatalf("withdraw consent %d of %s: %v", consentID, pseudonym, err)
	}
}

// usedToken returns an API token of username that has been used once, so that its
// last-use time does not change under a later fingerprint.
func (a *app) usedToken(tb testing.TB, username string) string {
	tb.Helper()
	token := a.mustToken(tb, username)
	a.api(tb, "GET", "/api/v1/me", token, nil).wantStatus(tb, http.StatusOK)
	return token
}

// seedLab seeds the staff of LUX (seedStaff), the site KIEL with "nurse-kiel" and
// "technician-kiel", and the study IBD as the administrator sets it up for the sample
// tests: visit BASELINE (day 0, window +7 days) expecting whole blood in a PED tube, 9 mL,
// to be split into 6 × 0.5 mL plasma aliquots, and serum in an SST, 7.5 mL; consent
// version 1.0 offering every tier.
func (a *app) seedLab(tb testing.TB) staff {
	tb.Helper()
	s := a.seedStaff(tb)
	a.mustSite(tb, "KIEL")
	a.mustUser(tb, "nurse-kiel", auth.RoleNurse, "KIEL")
	a.mustUser(tb, "technician-kiel", auth.RoleTechnician, "KIEL")
	ctx := context.Background()
	admin := a.actorOf(tb, "admin")
	studies, _, _ := a.services()
	half := decimal.RequireFromString("0.5")
	if _, err := studies.Create(ctx, admin, study.Input{Code: "IBD", Name: "Inflammatory bowel disease"}); err != nil {
		tb.Fatalf("seed IBD: %v", err)
	}
	if _, err := studies.AddVisit(ctx, admin, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 7,
		Requirements: []study.RequirementInput{
			{SpecimenType: "whole_blood", Container: "PED", Volume: decimal.RequireFromString("9"), Unit: "mL",
				Aliquots: 6, AliquotVolume: &half, AliquotType: "plasma"},
			{SpecimenType: "serum", Container: "SST", Volume: decimal.RequireFromString("7.5"), Unit: "mL"},
		}}); err != nil {
		tb.Fatalf("seed IBD BASELINE: %v", err)
	}
	if _, err := studies.AddDocument(ctx, admin, "IBD", study.DocumentInput{Version: "1.0",
		Tiers: []string{"storage", "genetic", "sharing", "recontact"}}); err != nil {
		tb.Fatalf("seed IBD 1.0: %v", err)
	}
	return s
}

// mustReadyParticipant enrols a new participant in IBD as nurse (at the nurse's site),
// records a consent to version 1.0 granting tiers (none given: every tier; "-": no consent
// at all) and opens the BASELINE visit today. It returns the pseudonym and the consent's id
// (0 without consent).
func (a *app) mustReadyParticipant(tb testing.TB, nurse string, tiers ...string) (string, int64) {
	tb.Helper()
	pseudonym := a.mustEnrol(tb, nurse, "IBD", "", 0)
	var id int64
	switch {
	case len(tiers) == 1 && tiers[0] == "-":
	case len(tiers) == 0:
		id = a.mustConsent(tb, nurse, pseudonym, "IBD", "1.0", "storage", "genetic", "sharing", "recontact")
	default:
		id = a.mustConsent(tb, nurse, pseudonym, "IBD", "1.0", tiers...)
	}
	_, ps, _ := a.services()
	if _, err := ps.OpenVisit(context.Background(), a.actorOf(tb, nurse), pseudonym,
		participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE"}); err != nil {
		tb.Fatalf("open the BASELINE visit of %s: %v", pseudonym, err)
	}
	return pseudonym, id
}

// sampleService is the sample service on the app's database, configured as the server's
// (storage frees a position when a sample's life ends).
func (a *app) sampleService() *sample.Service {
	return application.New(a.db, application.Config{}).Samples
}

// collectedAt is when the helpers' tubes were drawn: two hours ago, to the minute, so that
// times typed into a datetime-local field keep their distance from it exactly.
func collectedAt() time.Time { return time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Hour) }

// bloodTube and serumTube are the two tubes the IBD BASELINE visit of seedLab plans.
var (
	bloodTube = sample.Tube{SpecimenType: "whole_blood", Container: "PED", Volume: decimal.RequireFromString("9"), Unit: "mL"}
	serumTube = sample.Tube{SpecimenType: "serum", Container: "SST", Volume: decimal.RequireFromString("7.5"), Unit: "mL"}
)

// mustCollect registers tubes drawn at pseudonym's IBD BASELINE visit (collectedAt) as
// username and returns their accession IDs in order.
func (a *app) mustCollect(tb testing.TB, username, pseudonym string, tubes ...sample.Tube) []string {
	tb.Helper()
	out, err := a.sampleService().Collect(context.Background(), a.actorOf(tb, username), sample.Collection{
		Participant: pseudonym, Study: "IBD", Visit: "BASELINE", CollectedAt: collectedAt().Format(time.RFC3339), Tubes: tubes})
	if err != nil {
		tb.Fatalf("collect from %s: %v", pseudonym, err)
	}
	ids := make([]string, len(out))
	for i, smp := range out {
		ids[i] = smp.Accession
	}
	return ids
}

// mustReceive receives a tube in the lab as username.
func (a *app) mustReceive(tb testing.TB, username, code string) {
	tb.Helper()
	if _, err := a.sampleService().Receive(context.Background(), a.actorOf(tb, username), code); err != nil {
		tb.Fatalf("receive %s: %v", code, err)
	}
}

// mustAliquot splits code into count aliquots of volume mL of specimenType as username.
func (a *app) mustAliquot(tb testing.TB, username, code string, count int, volume, specimenType string) []string {
	tb.Helper()
	kids, err := a.sampleService().Aliquot(context.Background(), a.actorOf(tb, username), code,
		sample.Split{Count: count, Volume: decimal.RequireFromString(volume), SpecimenType: specimenType})
	if err != nil {
		tb.Fatalf("aliquot %s: %v", code, err)
	}
	ids := make([]string, len(kids))
	for i, k := range kids {
		ids[i] = k.Accession
	}
	return ids
}

// mustSample reads a sample back as the administrator sees it.
func (a *app) mustSample(tb testing.TB, code string) sample.Sample {
	tb.Helper()
	smp, err := a.sampleService().Get(context.Background(), a.actorOf(tb, "admin"), code)
	if err != nil {
		tb.Fatalf("sample %s: %v", code, err)
	}
	return smp
}

// misreadAccession returns an accession ID with its last check symbol replaced: a misread
// the check symbols catch, which can be corrected back to accession.
func misreadAccession(tb testing.TB, accession string) string {
	tb.Helper()
	b := []byte(accession)
	last := len(b) - 1
	if b[last] == 'Q' {
		b[last] = 'R'
	} else {
		b[last] = 'Q'
	}
	if checkcode.Valid(string(b)) {
		tb.Fatalf("%s is still valid", b)
	}
	return string(b)
}

// storageService is the storage service on the app's database, wired as the server's.
func (a *app) storageService() *storage.Service {
	return application.New(a.db, application.Config{}).Storage
}

// setPoints are the set-points the helpers give each freezer type.
var setPoints = map[string]string{"-80": "-80", "-20": "-20", "ln2": "-196", "4": "4", "rt": "20"}

// mustFreezer creates a freezer of typ at username's site as username (a manager or an
// administrator).
func (a *app) mustFreezer(tb testing.TB, username, name, typ string) storage.Freezer {
	tb.Helper()
	return a.mustFreezerAt(tb, username, "", name, typ)
}

// mustFreezerAt creates a freezer of typ at site ("" for username's own) as username.
func (a *app) mustFreezerAt(tb testing.TB, username, site, name, typ string) storage.Freezer {
	tb.Helper()
	f, err := a.storageService().CreateFreezer(context.Background(), a.actorOf(tb, username),
		storage.FreezerInput{Name: name, Type: typ, Temperature: ptr(decimal.RequireFromString(setPoints[typ])), Site: site})
	if err != nil {
		tb.Fatalf("create freezer %s: %v", name, err)
	}
	return f
}

// mustRack adds a rack to a freezer as username.
func (a *app) mustRack(tb testing.TB, username string, freezer storage.Freezer, name string) storage.Rack {
	tb.Helper()
	r, err := a.storageService().CreateRack(context.Background(), a.actorOf(tb, username), strconv.FormatInt(freezer.ID, 10), name)
	if err != nil {
		tb.Fatalf("create rack %s: %v", name, err)
	}
	return r
}

// mustBox creates a box of rows × cols in a freezer, in the rack named rack ("" for
// none), as username.
func (a *app) mustBox(tb testing.TB, username, barcode string, freezer storage.Freezer, rack string, rows, cols int) storage.Box {
	tb.Helper()
	b, err := a.storageService().CreateBox(context.Background(), a.actorOf(tb, username), storage.BoxInput{Barcode: barcode,
		Freezer: strconv.FormatInt(freezer.ID, 10), Rack: rack, Rows: rows, Cols: cols})
	if err != nil {
		tb.Fatalf("create box %s: %v", barcode, err)
	}
	return b
}

// mustPlace puts a sample into a box as username: at position, or at the next free one
// when position is "".
func (a *app) mustPlace(tb testing.TB, username, box, position, code string) storage.Placed {
	tb.Helper()
	pl, err := a.storageService().Place(context.Background(), a.actorOf(tb, username), box, position, code)
	if err != nil {
		tb.Fatalf("place %s in %s %s: %v", code, box, position, err)
	}
	return pl
}

// mustAliquots registers a whole-blood tube of a new participant as nurse, receives it
// as tech and splits it into n received 0.5 mL plasma aliquots (n at most 18), ready to be
// stored at the nurse's site. It returns their accession IDs.
func (a *app) mustAliquots(tb testing.TB, nurse, tech string, n int) []string {
	tb.Helper()
	pseudonym, _ := a.mustReadyParticipant(tb, nurse)
	blood := a.mustCollect(tb, nurse, pseudonym, bloodTube)[0]
	a.mustReceive(tb, tech, blood)
	return a.mustAliquot(tb, tech, blood, n, "0.5", "plasma")
}

// mustStored makes n aliquots at LUX (mustAliquots) and places them in box row by row as
// the technician.
func (a *app) mustStored(tb testing.TB, box string, n int) []string {
	tb.Helper()
	ids := a.mustAliquots(tb, "nurse", "technician", n)
	for _, id := range ids {
		a.mustPlace(tb, "technician", box, "", id)
	}
	return ids
}
