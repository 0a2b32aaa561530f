package web_test

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"biobank/internal/shipment"
	"biobank/internal/study"
	"biobank/web"
)

// formsWithoutRefusal are the page forms this test does not submit, each with why.
var formsWithoutRefusal = map[string]string{
	"POST /login":                                    "the sign-in form is tested on its own (a refusal keeps the username, never the password)",
	"POST /logout":                                   "a button: signing out cannot be refused",
	"POST /storage/import":                           "a file upload (multipart), tested in storage_test.go",
	"POST /storage/import/confirm":                   "appears only after an upload's preview, tested in storage_test.go",
	"POST /import":                                   "a file upload (multipart), tested in import_test.go",
	"POST /import/jobs/:id/cancel":                   "shown only while an import runs; tested in import_test.go",
	"POST /shipments/import":                         "a file upload (multipart), tested in shipments_test.go",
	"POST /shipments/:shipment/receipt":              "a file upload (multipart), tested in federation_test.go",
	"POST /shipments/:shipment/dispatch":             "a button without fields (dispatching cannot be undone); its refusals are tested in shipments_test.go",
	"POST /shipments/:shipment/items/:sample/remove": "a button without fields; tested in shipments_test.go",
}

// TestForms_RefusedSaveKeepsValuesAndTarget crawls the application as the administrator
// (who may use every page) on a world where every form appears, and submits every form it
// finds twice: with its visible fields empty, and with every text field filled with a
// distinct value and every other typed field with text it cannot hold. Whenever the
// application refuses a submission, the page that says so must hold the same form (the
// same target, so the next save lands on the right record) with the text that was typed
// still in it. A page route that takes a form post and is neither found nor listed in
// formsWithoutRefusal fails the test, so a new form is covered when it is added.
func TestForms_RefusedSaveKeepsValuesAndTarget(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	// Records in every state that shows a form: a received tube, a stored and a
	// checked-out aliquot in a box in a rack, a participant who withdrew storage consent
	// (the hold decision form).
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	freezer := a.mustFreezer(t, "manager", "Forms −80", "-80")
	a.mustRack(t, "manager", freezer, "R1")
	a.mustBox(t, "manager", "BOX-FORMS", freezer, "R1", 9, 9)
	stored := a.mustStored(t, "BOX-FORMS", 2)
	if _, err := a.storageService().CheckOut(t.Context(), a.actorOf(t, "technician"), stored[1], "assay"); err != nil {
		t.Fatal(err)
	}
	withdrawn, consentID := a.mustReadyParticipant(t, "nurse")
	held := a.mustCollect(t, "nurse", withdrawn, bloodTube)[0]
	a.mustWithdraw(t, "nurse", withdrawn, consentID, "storage")
	// A second study to enrol in, and an API token to revoke.
	studies, _, _ := a.services()
	if _, err := studies.Create(t.Context(), a.actorOf(t, "admin"), study.Input{Code: "RA", Name: "Rheumatoid arthritis"}); err != nil {
		t.Fatal(err)
	}
	a.mustToken(t, "nurse")
	// Shipments: a draft leaving LUX with a tube in it, and one from KIEL to LUX received
	// in part (a damaged tube and a missing one to resolve, the receipt open for scans).
	ships := a.srv.App().Shipments
	spare := a.mustCollect(t, "nurse", pseudonym, serumTube)[0]
	a.mustReceive(t, "technician", spare)
	draft, err := ships.Create(t.Context(), a.actorOf(t, "technician"), shipment.Input{Destination: "KIEL", Condition: "ambient"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ships.Add(t.Context(), a.actorOf(t, "technician"), draft.Code, shipment.ItemInput{Sample: spare}); err != nil {
		t.Fatal(err)
	}
	kielP, _ := a.mustReadyParticipant(t, "nurse-kiel")
	kielTubes := a.mustCollect(t, "nurse-kiel", kielP, bloodTube, serumTube)
	incoming, err := ships.Create(t.Context(), a.actorOf(t, "technician-kiel"), shipment.Input{Destination: "LUX", Condition: "ambient"})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range kielTubes {
		a.mustReceive(t, "technician-kiel", code)
		if _, err := ships.Add(t.Context(), a.actorOf(t, "technician-kiel"), incoming.Code, shipment.ItemInput{Sample: code}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ships.Dispatch(t.Context(), a.actorOf(t, "technician-kiel"), incoming.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := ships.Receive(t.Context(), a.actorOf(t, "technician"), incoming.Code, shipment.ReceiveInput{Damaged: kielTubes[:1]}); err != nil {
		t.Fatal(err)
	}

	admin := a.signedIn(t, "admin")
	type found struct {
		page, action string
	}
	forms := map[string]found{} // by "page route → form route"
	seen := map[string]bool{}
	queue := []string{"/", "/participants/" + pseudonym, "/participants/" + withdrawn, "/samples/" + blood,
		"/samples/" + stored[0], "/samples/" + stored[1], "/samples/" + held, "/boxes/BOX-FORMS", "/shipments",
		"/admin/users/" + strconv.FormatInt(staffID(t, a, "nurse"), 10)}
	perRoute := map[string]int{}
	for len(queue) > 0 && len(seen) < 400 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		route := a.srv.RoutePattern("GET", strings.SplitN(path, "?", 2)[0])
		if perRoute[route] >= 8 { // a few instances of each page are enough
			continue
		}
		perRoute[route]++
		p := admin.get(t, path)
		if p.StatusCode != http.StatusOK || p.Doc == nil {
			continue
		}
		p.Doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			if strings.HasPrefix(href, "/") && !strings.HasPrefix(href, "/static/") && !strings.HasPrefix(href, "//") &&
				!strings.Contains(href, "export.csv") {
				queue = append(queue, href)
			}
		})
		p.Doc.Find("form").Each(func(_ int, f *goquery.Selection) {
			method, _ := f.Attr("method")
			action, _ := f.Attr("action")
			if !strings.EqualFold(method, "post") {
				return
			}
			key := route + " → " + a.srv.RoutePattern("POST", action)
			if _, ok := forms[key]; !ok {
				forms[key] = found{page: path, action: action}
			}
		})
	}

	covered := map[string]bool{}
	keys := make([]string, 0, len(forms))
	for k := range forms {
		keys = append(keys, k)
	}
	// Forms whose typed submission may be accepted and end the record's use (ending a
	// sample, withdrawing consent, retiring a document, revoking a token) go after the
	// other forms of their record.
	final := func(key string) bool {
		for _, suffix := range []string{"/end", "/decision", "/withdraw", "/retire", "/revoke", "/cancel"} {
			if strings.HasSuffix(key, suffix) {
				return true
			}
		}
		return false
	}
	sort.Slice(keys, func(i, j int) bool {
		if final(keys[i]) != final(keys[j]) {
			return !final(keys[i])
		}
		return keys[i] < keys[j]
	})
	for _, key := range keys {
		f := forms[key]
		formRoute := "POST " + a.srv.RoutePattern("POST", f.action)
		covered[formRoute] = true
		if _, skip := formsWithoutRefusal[formRoute]; skip {
			continue
		}
		t.Run(key, func(t *testing.T) {
			for _, fill := range []string{"empty", "typed"} {
				p := admin.get(t, f.page)
				form := formByAction(p.Doc, f.action)
				if form == nil {
					t.Fatalf("the form to %s is no longer on %s: an earlier submission changed the record", f.action, f.page)
				}
				vals, typed, scanned := formValues(form, fill)
				r := admin.post(t, f.action, vals)
				if r.StatusCode >= 500 {
					t.Fatalf("%s form: status %d: %s", fill, r.StatusCode, excerpt(r.Body))
				}
				if r.StatusCode < 400 {
					t.Logf("%s form to %s accepted with %d", fill, f.action, r.StatusCode)
					continue // accepted: nothing to keep
				}
				if r.Doc == nil {
					t.Errorf("%s form: refused with %d and no page", fill, r.StatusCode)
					continue
				}
				again := formByAction(r.Doc, f.action)
				if again == nil {
					t.Errorf("%s form refused with %d: the page that says so has no form posting to %s:\n%s", fill, r.StatusCode, f.action, excerpt(r.Body))
					continue
				}
				// A scan field (data-bench-focus or data-scan) is emptied for the next scan; the refusal names what was
				// scanned instead.
				for _, code := range scanned {
					if !strings.Contains(r.Body, code) {
						t.Errorf("%s form refused with %d: the page does not name the scan %q", fill, r.StatusCode, code)
					}
				}
				for name, want := range typed {
					if got := fieldValue(again, name); got != want {
						t.Errorf("%s form refused with %d: %s came back as %q, want %q as typed", fill, r.StatusCode, name, got, want)
					}
				}
			}
		})
	}

	// Every page route that takes a form post was found on a page, or is listed.
	for _, rt := range a.srv.RouteTable() {
		if !strings.HasPrefix(rt, "POST /") || strings.HasPrefix(rt, "POST /api/") {
			continue
		}
		if _, listed := formsWithoutRefusal[rt]; !covered[rt] && !listed {
			t.Errorf("no page shows a form for %s: give the test a record that shows it, or list it in formsWithoutRefusal", rt)
		}
	}
}

// formByAction finds the post form of doc whose action is action.
func formByAction(doc *goquery.Document, action string) *goquery.Selection {
	var out *goquery.Selection
	doc.Find("form").EachWithBreak(func(_ int, f *goquery.Selection) bool {
		if a, _ := f.Attr("action"); a == action {
			out = f
			return false
		}
		return true
	})
	return out
}

// formValues is what a person would send with form: hidden fields as they are; visible
// ones empty ("empty"), or text fields with a distinct value and typed fields (numbers,
// dates) with text they cannot hold ("typed"). typed lists the text fields filled, which
// a refused save must give back; scanned the values put in bench scan fields.
func formValues(form *goquery.Selection, fill string) (url.Values, map[string]string, []string) {
	vals := url.Values{}
	typed := map[string]string{}
	var scanned []string
	form.Find("input, select, textarea").Each(func(i int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		if name == "" {
			return
		}
		kind, _ := in.Attr("type")
		value, _ := in.Attr("value")
		switch {
		case kind == "hidden":
			vals.Add(name, value)
		case fill == "empty":
		case goquery.NodeName(in) == "select":
			// Keep the selection a person would leave (the first real choice).
			if v, ok := in.Find("option[selected]").Attr("value"); ok && v != "" {
				vals.Set(name, v)
			} else if v, ok := in.Find("option[value!='']").First().Attr("value"); ok {
				vals.Set(name, v)
			}
		case kind == "checkbox" || kind == "radio":
			if _, checked := in.Attr("checked"); checked {
				vals.Add(name, value)
			}
		case kind == "password":
			vals.Set(name, "short")
		case kind == "number" || kind == "date" || kind == "datetime-local":
			vals.Set(name, "not a "+kind)
		case kind == "file":
		case in.AttrOr("data-bench-focus", "-") != "-" || in.AttrOr("data-scan", "-") != "-":
			v := "KEPT" + string(rune('A'+i%26))
			vals.Set(name, v)
			scanned = append(scanned, v)
		default: // text, search, textarea
			v := "Kept value " + string(rune('A'+i%26))
			vals.Set(name, v)
			typed[name] = v
		}
	})
	return vals, typed, scanned
}

// staffID is the user id of username.
func staffID(tb testing.TB, a *app, username string) int64 {
	tb.Helper()
	return a.actorOf(tb, username).UserID
}

// fieldValue is the value a form shows in its field name.
func fieldValue(form *goquery.Selection, name string) string {
	in := form.Find(`[name="` + name + `"]`).First()
	if goquery.NodeName(in) == "textarea" {
		return in.Text()
	}
	v, _ := in.Attr("value")
	return v
}
