package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"biobank/internal/audit"

	"github.com/PuerkitoBio/goquery"

	"biobank/internal/auth"
	"biobank/web"
)

func TestAPI_RefusesMissingAndBadTokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	revoked, tok, err := a.auth.CreateToken(context.Background(), auth.CommandLine, "admin", "old")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.auth.RevokeToken(context.Background(), auth.CommandLine, tok.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	valid := a.mustToken(t, "admin")
	a.api(t, "GET", "/api/v1/me", valid, nil).wantStatus(t, http.StatusOK)

	body := map[string]string{"code": "NEW", "name": "New", "country": "DE", "reason": "x"}
	for _, tc := range []struct {
		name, header string
	}{
		{"no token", ""},
		{"unknown token", "Bearer " + auth.TokenPrefix + strings.Repeat("a", 52)},
		{"not a token", "Bearer nonsense"},
		{"revoked token", "Bearer " + revoked},
		{"wrong scheme", "Basic " + valid},
		{"session cookie is no API credential", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := a.newClient(t)
			if strings.HasPrefix(tc.name, "session") {
				c = a.signedIn(t, "admin")
			}
			for _, call := range []struct {
				method, path string
				body         any
			}{{"GET", "/api/v1/me", nil}, {"GET", "/api/v1/audit/verify", nil}, {"POST", "/api/v1/sites", body}} {
				before := a.state(t)
				var body io.Reader
				if call.body != nil {
					body = bytes.NewReader(mustJSON(t, call.body))
				}
				req, err := http.NewRequest(call.method, a.ts.URL+call.path, body)
				if err != nil {
					t.Fatal(err)
				}
				if call.body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				p := c.do(t, req)
				r := &apiResp{Status: p.StatusCode, Header: p.Header, Body: []byte(p.Body)}
				r.wantError(t, http.StatusUnauthorized, "unauthenticated", "")
				if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s %s: WWW-Authenticate %q", call.method, call.path, got)
				}
				a.assertUnchanged(t, before)
			}
		})
	}
}

func TestAPI_RefusesBadBodies(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	token := a.mustToken(t, "admin")
	a.api(t, "GET", "/api/v1/me", token, nil).wantStatus(t, http.StatusOK)

	user := `"username":"newbie","role":"nurse","site":"LUX","password":"a long enough password","reason":"hired"`
	site := `"code":"NEW","name":"New site","country":"DE","reason":"x"`
	cases := []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"malformed JSON", "/api/v1/sites", `{"code":`, 400, "malformed", ""},
		{"not JSON at all", "/api/v1/sites", `code=NEW`, 400, "malformed", ""},
		{"empty body", "/api/v1/sites", ``, 400, "malformed", ""},
		{"two objects", "/api/v1/sites", `{` + site + `}{}`, 400, "malformed", ""},
		{"an array", "/api/v1/sites", `[]`, 400, "malformed", ""},
		{"name is a number", "/api/v1/sites", `{"code":"NEW","name":5,"country":"DE","reason":"x"}`, 400, "malformed", "name"},
		{"unknown field", "/api/v1/sites", `{` + site + `,"colour":"red"}`, 400, "malformed", "colour"},
		{"over-long name", "/api/v1/sites", `{"code":"NEW","name":"` + strings.Repeat("n", 201) + `","country":"DE","reason":"x"}`, 422, "invalid", "name"},
		{"missing name", "/api/v1/sites", `{"code":"NEW","country":"DE","reason":"x"}`, 422, "invalid", "name"},
		{"missing reason", "/api/v1/sites", `{"code":"NEW","name":"New","country":"DE"}`, 422, "reason_required", "reason"},
		{"duplicate site", "/api/v1/sites", `{"code":"LUX","name":"Again","country":"LU","reason":"x"}`, 409, "duplicate_site", "code"},
		{"role is a list", "/api/v1/users", `{"username":"newbie","role":["nurse"],"site":"LUX","password":"a long enough password","reason":"x"}`, 400, "malformed", "role"},
		{"unknown role", "/api/v1/users", `{"username":"newbie","role":"wizard","site":"LUX","password":"a long enough password","reason":"x"}`, 422, "invalid", "role"},
		{"unknown site", "/api/v1/users", `{"username":"newbie","role":"nurse","site":"ATLANTIS","password":"a long enough password","reason":"x"}`, 422, "invalid", "site"},
		{"missing site", "/api/v1/users", `{"username":"newbie","role":"nurse","password":"a long enough password","reason":"x"}`, 422, "invalid", "site"},
		{"over-long username", "/api/v1/users", `{"username":"` + strings.Repeat("u", 41) + `","role":"nurse","site":"LUX","password":"a long enough password","reason":"x"}`, 422, "invalid", "username"},
		{"duplicate username", "/api/v1/users", `{"username":"NURSE","role":"nurse","site":"LUX","password":"a long enough password","reason":"x"}`, 409, "duplicate_username", "username"},
		{"unknown user field", "/api/v1/users", `{` + user + `,"admin":true}`, 400, "malformed", "admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "POST", tc.path, token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			a.assertUnchanged(t, before)
		})
	}

	t.Run("not JSON content type", func(t *testing.T) {
		before := a.state(t)
		req, err := http.NewRequest("POST", a.ts.URL+"/api/v1/sites", strings.NewReader(`{`+site+`}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+token)
		p := a.newClient(t).do(t, req)
		(&apiResp{Status: p.StatusCode, Header: p.Header, Body: []byte(p.Body)}).wantError(t, http.StatusUnsupportedMediaType, "", "")
		a.assertUnchanged(t, before)
	})
}

func TestAPI_AuditPaging(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	for i := 0; i < 5; i++ {
		a.mustSite(t, fmt.Sprintf("S%d", i))
	}
	token := a.mustToken(t, "manager")
	a.api(t, "GET", "/api/v1/me", token, nil).wantStatus(t, http.StatusOK)

	type page struct {
		Events     []audit.Event `json:"events"`
		NextCursor *int64        `json:"next_cursor"`
	}
	// walk follows next_cursor from the first page until it is null.
	walk := func(t *testing.T, query string) []audit.Event {
		t.Helper()
		var all []audit.Event
		path := "/api/v1/audit?limit=2" + query
		for pages := 0; ; pages++ {
			if pages > 50 {
				t.Fatal("next_cursor never became null")
			}
			var p page
			a.api(t, "GET", path, token, nil).wantStatus(t, http.StatusOK).decode(t, &p)
			if len(p.Events) > 2 {
				t.Fatalf("page of %d events with limit=2", len(p.Events))
			}
			all = append(all, p.Events...)
			if p.NextCursor == nil {
				return all
			}
			path = "/api/v1/audit?limit=2" + query + "&cursor=" + strconv.FormatInt(*p.NextCursor, 10)
		}
	}

	total := a.count(t, "audit_events")
	events := walk(t, "")
	if int64(len(events)) != total || total < 5 {
		t.Fatalf("paging saw %d events, the table holds %d", len(events), total)
	}
	seen := map[int64]bool{}
	for i, e := range events {
		if seen[e.Seq] {
			t.Errorf("event %d seen twice", e.Seq)
		}
		seen[e.Seq] = true
		if i > 0 && e.Seq >= events[i-1].Seq {
			t.Errorf("event %d comes after %d: not newest first", e.Seq, events[i-1].Seq)
		}
		if e.Hash == "" || e.Action == "" || e.At.IsZero() {
			t.Errorf("event %+v is incomplete", e)
		}
	}

	// Filters.
	for _, tc := range []struct {
		query string
		want  func(audit.Event) bool
		n     int
	}{
		{"&entity=site:S3", func(e audit.Event) bool { return e.EntityType == "site" && e.EntityID == "S3" }, 1},
		{"&entity=nurse", func(e audit.Event) bool { return e.EntityID == "nurse" }, 1},
		{"&actor=command-line", func(e audit.Event) bool { return e.Actor == "command-line" }, int(total)},
		{"&action=site.create", func(e audit.Event) bool { return e.Action == "site.create" }, 6},
		{"&since=" + time.Now().UTC().Format("2006-01-02"), func(audit.Event) bool { return true }, int(total)},
		{"&until=" + time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), func(audit.Event) bool { return false }, 0},
		{"&since=" + time.Now().UTC().Add(time.Hour).Format(time.RFC3339), func(audit.Event) bool { return false }, 0},
	} {
		got := walk(t, tc.query)
		if len(got) != tc.n {
			t.Errorf("%s: %d events, want %d", tc.query, len(got), tc.n)
		}
		for _, e := range got {
			if !tc.want(e) {
				t.Errorf("%s: event %d (%s %s:%s by %s) does not match", tc.query, e.Seq, e.Action, e.EntityType, e.EntityID, e.Actor)
			}
		}
	}

	// Bad filters are refused naming the parameter.
	for query, field := range map[string]string{"cursor=abc": "cursor", "cursor=-1": "cursor", "limit=0": "limit",
		"limit=501": "limit", "since=yesterday": "since", "until=31/12/2025": "until"} {
		a.api(t, "GET", "/api/v1/audit?"+query, token, nil).wantError(t, http.StatusUnprocessableEntity, "invalid", field)
	}
}

func TestAPI_AuditVerify(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	token := a.mustToken(t, "manager")
	var res map[string]any
	a.api(t, "GET", "/api/v1/audit/verify", token, nil).wantStatus(t, http.StatusOK).decode(t, &res)
	n := a.count(t, "audit_events")
	if res["ok"] != true || res["events"] != float64(n) || len(res) != 2 {
		t.Errorf("verify = %v, want {\"ok\":true,\"events\":%d}", res, n)
	}

	// The audit page's button runs the same check.
	c := a.signedIn(t, "manager")
	p := c.submit(t, "/audit", "/audit/verify", nil).wantStatus(t, http.StatusOK)
	if txt := p.wantTestID(t, "verify-ok").Text(); !strings.Contains(txt, strconv.FormatInt(a.count(t, "audit_events"), 10)) {
		t.Errorf("verify badge %q", txt)
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestAuditPage_FiltersPagesAndExports(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	for i := 0; i < 3; i++ {
		a.mustSite(t, fmt.Sprintf("S%d", i))
	}
	c := a.signedIn(t, "manager")
	total := int(a.count(t, "audit_events"))

	// Page through with two events a page, following the "older events" link.
	seen := 0
	path := "/audit?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 50 {
			t.Fatal("the older-events link never ends")
		}
		p := c.get(t, path).wantStatus(t, http.StatusOK)
		rows := p.testid("audit-row").Length()
		if rows == 0 || rows > 2 {
			t.Fatalf("%s: %d rows", path, rows)
		}
		seen += rows
		path, _ = p.testid("audit-next").Attr("href")
	}
	if seen != total {
		t.Errorf("paging showed %d events, want %d", seen, total)
	}

	// Filters keep their values and select the events.
	p := c.get(t, "/audit?entity=site:S1&actor=command-line").wantStatus(t, http.StatusOK)
	if n := p.testid("audit-row").Length(); n != 1 || !strings.Contains(p.testid("audit-row").Text(), "site.create") {
		t.Errorf("filtered rows: %d: %s", n, p.testid("audit-row").Text())
	}
	if got := p.inputValue(t, "entity"); got != "site:S1" {
		t.Errorf("entity filter holds %q", got)
	}
	c.get(t, "/audit?actor=nobody").wantStatus(t, http.StatusOK).wantTestID(t, "audit-empty")
	// The action filter is a list of the actions the trail holds; site filters by the
	// acting user's site.
	p = c.get(t, "/audit?action=user.create").wantStatus(t, http.StatusOK)
	var options []string
	p.Doc.Find(`select[name="action"] option`).Each(func(_ int, o *goquery.Selection) { options = append(options, o.AttrOr("value", "")) })
	if strings.Join(options, ",") != ",auth.sign_in,site.create,user.create" || p.inputValue(t, "action") != "user.create" {
		t.Errorf("action choices %q, selected %q", options, p.inputValue(t, "action"))
	}
	if n := p.testid("audit-row").Length(); n != len(auth.Roles) {
		t.Errorf("user.create rows: %d, want %d", n, len(auth.Roles))
	}
	c.get(t, "/audit?action=user.create&site=S2").wantStatus(t, http.StatusOK).wantTestID(t, "audit-empty")
	bad := c.get(t, "/audit?since=last+week").wantStatus(t, http.StatusUnprocessableEntity)
	bad.wantTestID(t, "error-since")
	if got := bad.inputValue(t, "since"); got != "last week" {
		t.Errorf("since filter holds %q", got)
	}

	// The CSV export holds every matching event.
	csv := c.get(t, "/audit/export.csv?action=site.create").wantStatus(t, http.StatusOK)
	if ct := csv.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := csv.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	lines := strings.Split(strings.TrimSpace(csv.Body), "\n")
	if len(lines) != 1+4 || !strings.HasPrefix(lines[0], "seq,at,actor") {
		t.Errorf("CSV has %d lines, want a header and 4 site.create events:\n%s", len(lines), csv.Body)
	}
	c.get(t, "/audit/export.csv?until=nonsense").wantStatus(t, http.StatusUnprocessableEntity)
}
