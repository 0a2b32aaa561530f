package web_test

import (
	"net/url"
	"strings"
	"testing"

	"biobank/internal/testkit"
	"biobank/web"
)

// FuzzIntake sends arbitrary JSON bodies, path segments and query values to endpoints that
// read each of them: whatever arrives, the answer is never a 5xx, and a refused request
// writes nothing.
// `make test` runs the seeds below; `go test -run '^$' -fuzz FuzzIntake ./web/` explores.
func FuzzIntake(f *testing.F) {
	for _, seed := range []struct{ body, segment string }{
		{`{"study":"IBD"}`, "AC00000001NN"},
		{`{"study":"IBD\u0000"}`, "\x00"},
		{"{\"study\":\"\xff\xfe\"}", "\xc0\xae"},
		{`{"study":"IBD","birth_year":1e309}`, "%"},
		{`{"study":"IBD","birth_year":99999999999999999999999}`, "AC%2F..%2F"},
		{strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), strings.Repeat("9", 5000)},
		{strings.Repeat("[", 100000), "' OR 1=1 --"},
		{`null`, ""},
		{`{"study":"IBD"}{"study":"RA"}`, "\u202e"},
		{`{"study":["IBD"],"sex":{"x":1}}`, "AC00000001NN\r\n"},
	} {
		f.Add(seed.body, seed.segment)
	}
	a := newApp(f, web.Config{})
	a.seedClinic(f)
	token := a.mustToken(f, "manager")
	f.Fuzz(func(t *testing.T, body, segment string) {
		requests := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/participants", body},
			{"POST", "/api/v1/samples/AC00000001NN/receive", body},
			{"GET", "/api/v1/samples/" + url.PathEscape(segment), nil},
			{"GET", "/api/v1/samples?study=" + url.QueryEscape(segment) + "&cursor=" + url.QueryEscape(segment), nil},
			{"GET", "/api/v1/audit?actor=" + url.QueryEscape(segment) + "&since=" + url.QueryEscape(segment), nil},
			{"GET", "/api/v1/storage/free?n=" + url.QueryEscape(segment), nil},
		}
		for _, r := range requests {
			if r.method == "POST" && r.body == "" {
				continue // nothing to send
			}
			check := testkit.Unchanged(t, a.db, "participants", "enrolments", "samples", "audit_events")
			resp := a.api(t, r.method, r.path, token, r.body)
			if resp.Status >= 500 {
				t.Errorf("%s %s with %.80q / %.80q: status %d: %.200s", r.method, r.path, body, segment, resp.Status, resp.Body)
			}
			if resp.Status >= 400 {
				check()
			}
		}
	})
}
