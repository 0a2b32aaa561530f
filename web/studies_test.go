package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"biobank/web"
)

// cells returns the texts of a table row's cells, trimmed and joined by " | ".
func cells(row *goquery.Selection) string {
	var out []string
	row.Find("td").Each(func(_ int, td *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(td.Text()), " "))
	})
	return strings.Join(out, " | ")
}

// visitForm is the visit form of the study page filled in with a baseline visit: whole
// blood in mL in the first specimen row and plasma in µL, with aliquots, in the second.
func visitForm() map[string]string {
	return map[string]string{
		"code": "baseline", "name": "Baseline", "day_offset": "0", "window_before": "0", "window_after": "7",
		"requirements[0].specimen_type": "whole_blood", "requirements[0].container": "PED",
		"requirements[0].volume": "9", "requirements[0].unit": "mL", "requirements[0].storage_temperature": "-80",
		"requirements[1].specimen_type": "plasma", "requirements[1].container": "PED",
		"requirements[1].volume": "500", "requirements[1].unit": "µL", "requirements[1].aliquots": "2",
		"requirements[1].aliquot_volume": "250", "requirements[1].storage_temperature": "ln2",
	}
}

func TestStudyPages_AdminSetsUpAStudy(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.signedIn(t, "admin")

	p := admin.get(t, "/studies").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "study-form")
	if p.testid("studies-table").Find("tbody tr").Length() != 0 {
		t.Error("a fresh database lists studies")
	}
	// The form offers the pseudonym check, Mainzelliste chosen.
	if got, _ := p.wantTestID(t, "study-form").Find(`select[name="pseudonym_scheme"] option[selected]`).Attr("value"); got != "mainzelliste" {
		t.Errorf("the new-study form proposes the pseudonym check %q, want mainzelliste", got)
	}
	// Without a check the study needs a pattern and a reason: refused, as typed.
	before := a.state(t)
	p = admin.submit(t, "/studies", "/studies", url.Values{"code": {"ttp"}, "name": {"TTP cohort"}, "pseudonym_scheme": {"none"},
		"pseudonym_pattern": {"TTP-[0-9]{6}"}}).wantStatus(t, http.StatusUnprocessableEntity)
	if p.wantTestID(t, "study-form").Find(testidSel("error-reason")).Length() == 0 || p.inputValue(t, "pseudonym_pattern") != "TTP-[0-9]{6}" {
		t.Errorf("refused study without a check: no message beside the reason, or the pattern lost:\n%s", excerpt(p.Body))
	}
	a.assertUnchanged(t, before)
	admin.submit(t, "/studies", "/studies", url.Values{"code": {"cd"}, "name": {"Crohn's disease"}, "pseudonym_scheme": {"mainzelliste"}}).
		wantRedirect(t, "/studies/CD")
	p = admin.get(t, "/studies/CD").wantStatus(t, http.StatusOK)
	if txt := p.wantTestID(t, "study-scheme").Text(); !strings.Contains(txt, "Mainzelliste") {
		t.Errorf("the study page says %q", txt)
	}
	if got := p.wantTestID(t, "study-code").Text(); got != "CD" {
		t.Errorf("study page of %q", got)
	}
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "CD") {
		t.Errorf("flash %q", msg)
	}
	a.wantEvent(t, "study", "CD", "study.create", "admin")

	// A visit with two specimen rows, one in µL.
	admin.submit(t, "/studies/CD", "/studies/CD/visits", formOf(visitForm())).wantRedirect(t, "/studies/CD")
	p = admin.get(t, "/studies/CD").wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "BASELINE") {
		t.Errorf("flash %q", msg)
	}
	rows := p.wantTestID(t, "visit-BASELINE").Find(testidSel("requirement-row"))
	if rows.Length() != 2 {
		t.Fatalf("%d specimen rows, want 2", rows.Length())
	}
	for i, want := range []string{"whole_blood | PED | 9 mL | — | -80 °C", "plasma | PED | 0.5 mL | 2 × 0.25 mL | ln2 °C"} {
		if got := cells(rows.Eq(i)); got != want {
			t.Errorf("specimen row %d reads %q, want %q", i, got, want)
		}
	}
	a.wantEvent(t, "study", "CD", "study.add_visit", "admin")

	// A consent version, then its retirement.
	admin.submit(t, "/studies/CD", "/studies/CD/consent-documents", url.Values{"version": {"1.0"}, "tiers": {"storage", "genetic"}}).
		wantRedirect(t, "/studies/CD")
	p = admin.get(t, "/studies/CD").wantStatus(t, http.StatusOK)
	row := p.wantTestID(t, "document-1.0")
	if txt := row.Text(); !strings.Contains(txt, "Storage and research use, Genetic analysis") || !strings.Contains(txt, "in use") {
		t.Errorf("document row %q", txt)
	}
	p.wantTestID(t, "flash-success")
	action, _ := row.Find("form").Attr("action")
	if action != "/studies/CD/consent-documents/1.0/retire" {
		t.Fatalf("retire form posts to %q", action)
	}
	admin.submit(t, "/studies/CD", action, url.Values{"reason": {"superseded"}}).wantRedirect(t, "/studies/CD")
	p = admin.get(t, "/studies/CD").wantStatus(t, http.StatusOK)
	if txt := p.wantTestID(t, "document-1.0").Text(); !strings.Contains(txt, "retired") || p.testid("document-1.0").Find("form").Length() != 0 {
		t.Errorf("retired document row %q", txt)
	}
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "retired") {
		t.Errorf("flash %q", msg)
	}
	a.wantEvent(t, "study", "CD", "study.retire_consent_document", "admin")

	// The list shows the study; a nurse reads it without the set-up forms.
	p = admin.get(t, "/studies").wantStatus(t, http.StatusOK)
	if txt := cells(p.wantTestID(t, "study-CD")); txt != "CD | Crohn's disease | 1 | 1 | open" {
		t.Errorf("study row %q", txt)
	}
	nurse := a.signedIn(t, "nurse")
	p = nurse.get(t, "/studies").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "study-CD")
	if p.testid("study-form").Length() != 0 {
		t.Error("a nurse is offered the study form")
	}
	p = nurse.get(t, "/studies/cd").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "visit-BASELINE")
	for _, id := range []string{"visit-form", "document-form"} {
		if p.testid(id).Length() != 0 {
			t.Errorf("a nurse is offered %s", id)
		}
	}
	if p.Doc.Find(`form[action$="/retire"]`).Length() != 0 {
		t.Error("a nurse is offered the retire form")
	}
	nurse.get(t, "/studies/NOPE").wantStatus(t, http.StatusNotFound).wantTestID(t, "error-404")
}

// TestStudyPages_BadInputChangesNothing runs each refused set-up through the page's form
// and through the JSON API: the form comes back with 422, the message beside the field
// and what was typed; the API answers with the contract's status; nothing is written.
func TestStudyPages_BadInputChangesNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	admin := a.signedIn(t, "admin")
	token := a.usedToken(t, "admin")

	visit := func(change map[string]string) map[string]string {
		v := visitForm()
		v["code"] = "M6"
		for k, s := range change {
			if s == "" {
				delete(v, k)
				continue
			}
			v[k] = s
		}
		return v
	}
	cases := []struct {
		name, path string
		form       map[string]string
		tiers      []string
		json       any
		status     int
		field      string // the form's field; "" for a message above the form
		apiField   string
	}{
		{name: "bad study code", path: "/studies", form: map[string]string{"code": "C D!", "name": "Bad"},
			json: map[string]any{"code": "C D!", "name": "Bad"}, status: 422, field: "code", apiField: "code"},
		{name: "duplicate study", path: "/studies", form: map[string]string{"code": "ibd", "name": "Again"},
			json: map[string]any{"code": "ibd", "name": "Again"}, status: 409, field: "code", apiField: "code"},
		{name: "study without a name", path: "/studies", form: map[string]string{"code": "MS", "name": "  "},
			json: map[string]any{"code": "MS", "name": "  "}, status: 422, field: "name", apiField: "name"},
		{name: "bad pseudonym pattern", path: "/studies", form: map[string]string{"code": "MS", "name": "MS", "pseudonym_pattern": "TTP-[0-9"},
			json: map[string]any{"code": "MS", "name": "MS", "pseudonym_pattern": "TTP-[0-9"}, status: 422, field: "pseudonym_pattern", apiField: "pseudonym_pattern"},
		{name: "visit volume not a number", path: "/studies/IBD/visits", form: visit(map[string]string{"requirements[1].volume": "lots"}),
			status: 422, field: "requirements[1].volume"},
		{name: "visit volume zero", path: "/studies/IBD/visits", form: visit(map[string]string{"requirements[1].volume": "0"}),
			json: map[string]any{"code": "M6", "name": "M6", "day_offset": 180, "requirements": []map[string]any{
				{"specimen_type": "whole_blood", "container": "PED", "volume": 9}, {"specimen_type": "plasma", "container": "PED", "volume": 0}}},
			status: 422, field: "requirements[1].volume", apiField: "requirements[1].volume"},
		{name: "visit day offset not a number", path: "/studies/IBD/visits", form: visit(map[string]string{"day_offset": "soon"}),
			status: 422, field: "day_offset"},
		{name: "visit without a day offset", path: "/studies/IBD/visits", form: visit(map[string]string{"day_offset": ""}),
			status: 422, field: "day_offset"},
		{name: "aliquots without their volume", path: "/studies/IBD/visits", form: visit(map[string]string{"requirements[1].aliquot_volume": ""}),
			status: 422, field: "requirements[1].aliquot_volume"},
		{name: "unknown specimen type", path: "/studies/IBD/visits", form: visit(map[string]string{"requirements[0].specimen_type": "ectoplasm"}),
			json: map[string]any{"code": "M6", "name": "M6", "day_offset": 180, "requirements": []map[string]any{
				{"specimen_type": "ectoplasm", "container": "PED", "volume": 9}}},
			status: 422, field: "requirements[0].specimen_type", apiField: "requirements[0].specimen_type"},
		{name: "duplicate visit", path: "/studies/IBD/visits", form: visit(map[string]string{"code": "baseline"}),
			json: map[string]any{"code": "baseline", "name": "Again", "day_offset": 0}, status: 409, field: "code", apiField: "code"},
		{name: "bad version", path: "/studies/IBD/consent-documents", form: map[string]string{"version": "v 3"}, tiers: []string{"storage", "sharing"},
			json: map[string]any{"version": "v 3", "tiers": []string{"storage", "sharing"}}, status: 422, field: "version", apiField: "version"},
		{name: "no tiers", path: "/studies/IBD/consent-documents", form: map[string]string{"version": "3.0"},
			json: map[string]any{"version": "3.0", "tiers": []string{}}, status: 422, field: "tiers", apiField: "tiers"},
		{name: "unknown tier", path: "/studies/IBD/consent-documents", form: map[string]string{"version": "3.0"}, tiers: []string{"storage", "cloning"},
			json: map[string]any{"version": "3.0", "tiers": []string{"storage", "cloning"}}, status: 422, field: "tiers", apiField: "tiers"},
		{name: "duplicate version", path: "/studies/IBD/consent-documents", form: map[string]string{"version": "1.0"}, tiers: []string{"storage"},
			json: map[string]any{"version": "1.0", "tiers": []string{"storage"}}, status: 409, field: "version", apiField: "version"},
		{name: "retire without a reason", path: "/studies/IBD/consent-documents/2.0/retire", form: map[string]string{"reason": " "},
			json: map[string]any{"reason": " "}, status: 422, apiField: "reason"},
		{name: "retire a retired version", path: "/studies/IBD/consent-documents/0.9/retire", form: map[string]string{"reason": "again"},
			json: map[string]any{"reason": "again"}, status: 409, apiField: "version"},
	}
	for _, tc := range cases {
		for _, how := range via {
			if how == "json" && tc.json == nil {
				continue // the form's own parsing; JSON sends numbers as numbers
			}
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				before := a.state(t)
				if how == "json" {
					a.api(t, "POST", "/api/v1"+tc.path, token, tc.json).wantError(t, tc.status, "", tc.apiField)
					a.assertUnchanged(t, before)
					return
				}
				from := "/studies"
				if tc.path != "/studies" {
					from = "/studies/IBD"
				}
				vals := formOf(tc.form)
				vals["tiers"] = tc.tiers
				p := admin.submit(t, from, tc.path, vals).wantStatus(t, http.StatusUnprocessableEntity)
				p.wantNoGoError(t)
				if tc.field == "" {
					if msg := p.wantTestID(t, "form-error").Text(); msg == "" {
						t.Error("no message above the form")
					}
				} else if msg := p.wantTestID(t, "error-"+tc.field).Text(); msg == "" {
					t.Errorf("no message beside %s", tc.field)
				}
				for k, v := range tc.form {
					if k == "reason" || k == "requirements[0].specimen_type" {
						continue // the retire reason has no form of its own; an unknown type is no option
					}
					if got := p.inputValue(t, k); got != v {
						t.Errorf("field %s holds %q, want what was typed, %q", k, got, v)
					}
				}
				for _, tier := range tc.tiers {
					box := p.testid("tiers-" + tier)
					if _, checked := box.Attr("checked"); box.Length() > 0 && !checked {
						t.Errorf("tier %s is no longer ticked", tier)
					}
				}
				if p.testid("flash-success").Length() != 0 {
					t.Error("a refused form shows a success flash")
				}
				a.assertUnchanged(t, before)
			})
		}
	}
}

// TestStudyPages_VisitRowErrorsStayBesideTheirRow checks that a refused specimen row is
// named by its place in the form even when rows above it were left empty.
func TestStudyPages_VisitRowErrorsStayBesideTheirRow(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	admin := a.signedIn(t, "admin")
	before := a.state(t)
	p := admin.submit(t, "/studies/IBD", "/studies/IBD/visits", url.Values{"code": {"M6"}, "name": {"Month 6"}, "day_offset": {"180"},
		"requirements[2].specimen_type": {"serum"}, "requirements[2].container": {"SST"}, "requirements[2].volume": {"0"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-requirements[2].volume")
	if p.testid("error-requirements[0].volume").Length() != 0 {
		t.Error("the message stands beside the empty first row")
	}
	if got := p.inputValue(t, "requirements[2].volume"); got != "0" {
		t.Errorf("the volume field holds %q", got)
	}
	a.assertUnchanged(t, before)
}

// TestStudyPages_SettingsForExternalPseudonyms sets a study's pattern for pseudonyms from a
// trusted third party, and closes it, through the settings form and the PATCH API.
func TestStudyPages_SettingsForExternalPseudonyms(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	admin := a.signedIn(t, "admin")
	token := a.usedToken(t, "admin")
	nurse := a.usedToken(t, "nurse")

	// Refused settings change nothing and come back as typed.
	before := a.state(t)
	bad := url.Values{"name": {"Rheumatoid arthritis"}, "pseudonym_pattern": {"TTP-[0-9"}, "active": {"true"}, "reason": {"TTP letters"}}
	p := admin.submit(t, "/studies/RA", "/studies/RA", bad).wantStatus(t, http.StatusUnprocessableEntity)
	form := p.wantTestID(t, "study-settings-form")
	if form.Find(testidSel("error-pseudonym_pattern")).Length() == 0 {
		t.Errorf("no message beside the pattern:\n%s", excerpt(p.Body))
	}
	if got := formValue(form, "pseudonym_pattern"); got != "TTP-[0-9" {
		t.Errorf("pattern holds %q", got)
	}
	bad.Set("pseudonym_pattern", "TTP-[0-9]{6}")
	bad.Set("reason", "")
	p = admin.submit(t, "/studies/RA", "/studies/RA", bad).wantStatus(t, http.StatusUnprocessableEntity)
	if p.wantTestID(t, "study-settings-form").Find(testidSel("error-reason")).Length() == 0 {
		t.Error("no message beside the reason")
	}
	a.api(t, "PATCH", "/api/v1/studies/RA", token, map[string]any{"pseudonym_pattern": "TTP-[0-9", "reason": "x"}).
		wantError(t, http.StatusUnprocessableEntity, "invalid", "pseudonym_pattern")
	a.api(t, "PATCH", "/api/v1/studies/RA", nurse, map[string]any{"active": false, "reason": "x"}).wantError(t, http.StatusForbidden, "forbidden", "")
	a.api(t, "PATCH", "/api/v1/studies/NOPE", token, map[string]any{"active": false, "reason": "x"}).wantError(t, http.StatusNotFound, "not_found", "")
	a.assertUnchanged(t, before)

	// Through the form: TTP pseudonyms without check characters.
	a.api(t, "PATCH", "/api/v1/studies/RA", token, map[string]any{"pseudonym_scheme": "luhn", "reason": "x"}).
		wantError(t, http.StatusUnprocessableEntity, "invalid", "pseudonym_scheme")
	admin.submit(t, "/studies/RA", "/studies/RA", url.Values{"name": {"Rheumatoid arthritis"}, "pseudonym_pattern": {"TTP-[0-9]{6}"},
		"pseudonym_scheme": {"none"}, "active": {"true"}, "reason": {"the hospital's TTP issues pseudonyms"}}).wantRedirect(t, "/studies/RA")
	p = admin.get(t, "/studies/RA").wantStatus(t, http.StatusOK)
	if txt := p.wantTestID(t, "study-scheme").Text(); !strings.Contains(txt, "TTP-[0-9]{6}") || !strings.Contains(txt, "no check") {
		t.Errorf("the study page says %q, want no check and the pattern", txt)
	}
	if ev := a.wantEvent(t, "study", "RA", "study.update", "admin"); ev.Reason != "the hospital's TTP issues pseudonyms" {
		t.Errorf("settings audited with reason %q", ev.Reason)
	}
	var got struct {
		Pseudonym string `json:"pseudonym"`
		External  bool   `json:"external"`
	}
	a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "RA", "pseudonym": " ttp-123456 "}).
		wantStatus(t, http.StatusCreated).decode(t, &got)
	if got.Pseudonym != "TTP-123456" || !got.External {
		t.Errorf("enrolled %+v", got)
	}
	// The pattern is the study's: IBD still accepts only built-in pseudonyms.
	before = a.state(t)
	a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "IBD", "pseudonym": "TTP-654321"}).
		wantError(t, http.StatusUnprocessableEntity, "malformed_pseudonym", "pseudonym")
	a.assertUnchanged(t, before)

	// Through the API: closed to new enrolments.
	var st map[string]any
	a.api(t, "PATCH", "/api/v1/studies/ra", token, map[string]any{"active": false, "reason": "recruitment finished"}).
		wantStatus(t, http.StatusOK).decode(t, &st)
	if st["active"] != false || st["pseudonym_pattern"] != "TTP-[0-9]{6}" || st["name"] != "Rheumatoid arthritis" {
		t.Errorf("after closing: %v", st)
	}
	before = a.state(t)
	a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "RA"}).wantError(t, http.StatusUnprocessableEntity, "invalid", "study")
	a.assertUnchanged(t, before)
	if a.signedIn(t, "nurse").get(t, "/participants/new").wantStatus(t, http.StatusOK).Doc.Find(`select[name="study"] option[value="RA"]`).Length() != 0 {
		t.Error("the enrolment form offers a closed study")
	}
	if txt := admin.get(t, "/studies").wantStatus(t, http.StatusOK).wantTestID(t, "study-RA").Text(); !strings.Contains(txt, "closed") {
		t.Errorf("study row %q", txt)
	}
}
