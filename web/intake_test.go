package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"biobank/internal/testkit"
	"biobank/web"
)

// TestIntake_RefusesTextPostgreSQLCannotStore: a NUL character or invalid UTF-8 in a JSON
// field, a path parameter, a query value or a form field is a 400 naming it, never a 500,
// and nothing is written.
func TestIntake_RefusesTextPostgreSQLCannotStore(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	token := a.mustToken(t, "manager")
	c := a.signedIn(t, "manager")
	check := testkit.Unchanged(t, a.db, "participants", "enrolments", "consents", "visits", "samples", "audit_events")

	bodies := []struct{ name, body, field string }{
		{"NUL escape in a field", `{"study":"IBD\u0000","sex":"female"}`, "study"},
		{"NUL escape, upper case", `{"study":"IBD","sex":"fe\U0000male"}`, "sex"},
		{"invalid UTF-8 in a field", "{\"study\":\"IBD\",\"sex\":\"fe\xffmale\"}", "sex"},
		{"overlong encoding", "{\"study\":\"\xc0\xae\"}", "study"},
		{"lone high surrogate", `{"study":"IBD","sex":"fe\ud800male"}`, "sex"},
		{"lone low surrogate", `{"study":"IBD\uDC00"}`, "study"},
		{"high surrogate before a plain escape", `{"study":"IBD\ud83d\u0041"}`, "study"},
		{"high surrogate at the end", `{"study":"IBD\ud83d"}`, "study"},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			r := a.api(t, "POST", "/api/v1/participants", token, tc.body).wantStatus(t, http.StatusBadRequest)
			var e struct{ Error apiErr }
			r.decode(t, &e)
			if e.Error.Code != "malformed" || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("error %+v, want malformed naming %q", e.Error, tc.field)
			}
		})
	}
	for _, body := range []string{"null", "[]", `"text"`, "42"} {
		r := a.api(t, "POST", "/api/v1/participants", token, body).wantStatus(t, http.StatusBadRequest)
		var e struct{ Error apiErr }
		r.decode(t, &e)
		if e.Error.Code != "malformed" {
			t.Errorf("body %s: error %+v, want malformed", body, e.Error)
		}
	}

	// A surrogate pair is valid text; the escaped backslash before "ud800" is not an escape.
	for _, body := range []string{`{"study":"IBD\ud83d\ude00"}`, `{"study":"IBD\\ud800"}`} {
		r := a.api(t, "POST", "/api/v1/participants", token, body)
		if r.Status == http.StatusBadRequest || r.Status >= 500 {
			t.Errorf("body %s: %d %s, want it read (and refused by the service, the study does not exist)", body, r.Status, r.Body)
		}
	}

	// A decimal given as a JSON string is refused: the contract's numbers are numbers.
	for _, tc := range []struct{ path, body, field string }{
		{"/api/v1/freezers", `{"name":"F1","type":"-80","temperature":"-80"}`, "temperature"},
		{"/api/v1/samples", `{"participant":"P","study":"IBD","visit":"BASELINE","specimen_type":"serum","volume":"4.5"}`, "volume"},
		{"/api/v1/samples", `{"participant":"P","study":"IBD","visit":"BASELINE","tubes":[{"specimen_type":"serum","volume":4.5},{"specimen_type":"serum","volume":"4.5"}]}`, "volume"},
	} {
		r := a.api(t, "POST", tc.path, token, tc.body).wantStatus(t, http.StatusBadRequest)
		var e struct{ Error apiErr }
		if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Field != tc.field || e.Error.Code != "malformed" {
			t.Errorf("POST %s %s: %s, want malformed naming %q", tc.path, tc.body, r.Body, tc.field)
		}
	}

	addresses := []struct{ path, field string }{
		{"/api/v1/samples/%00", "code"},
		{"/api/v1/samples/%C0%AE", "code"},
		{"/api/v1/samples/AC%FF", "code"},
		{"/api/v1/samples?study=%00", "study"},
		{"/api/v1/samples?specimen_type=%FF", "specimen_type"},
		{"/api/v1/audit?actor=%00", "actor"},
		{"/api/v1/consents?study=IBD%00", "study"},
	}
	for _, tc := range addresses {
		r := a.api(t, "GET", tc.path, token, nil).wantStatus(t, http.StatusBadRequest)
		var e struct{ Error apiErr }
		if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Field != tc.field {
			t.Errorf("GET %s: %s, want malformed naming %q", tc.path, r.Body, tc.field)
		}
	}

	c.get(t, "/scan?q=%00").wantStatus(t, http.StatusBadRequest).wantNoGoError(t)
	c.get(t, "/samples?study=%FF").wantStatus(t, http.StatusBadRequest).wantNoGoError(t)
	p := c.submit(t, "/participants/new", "/participants", url.Values{"study": {"IBD"}, "sex": {"female\x00"}})
	p.wantStatus(t, http.StatusBadRequest).wantNoGoError(t)
	check()
}
