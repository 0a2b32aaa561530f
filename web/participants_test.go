package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"biobank/internal/auth"
	"biobank/web"
)

// participantOf returns the pseudonym a redirect to a participant page names.
func participantOf(tb testing.TB, p *page) string {
	tb.Helper()
	p.wantStatus(tb, http.StatusSeeOther)
	loc := p.Header.Get("Location")
	pseudonym, ok := strings.CutPrefix(loc, "/participants/")
	if !ok || pseudonym == "" || strings.Contains(pseudonym, "/") {
		tb.Fatalf("redirect to %q, not a participant page", loc)
	}
	return pseudonym
}

// formValue returns the value of the input named name inside sel.
func formValue(sel *goquery.Selection, name string) string {
	v, _ := sel.Find(`[name="` + name + `"]`).First().Attr("value")
	return v
}

func TestParticipantPages_NurseJourney(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	nurse := a.signedIn(t, "nurse")

	// The enrolment form asks for nothing that identifies a person (a diagnosis is an
	// ICD-10 code, never free text).
	list := nurse.get(t, "/participants").wantStatus(t, http.StatusOK)
	if href, _ := list.wantTestID(t, "enrol-link").Attr("href"); href != "/participants/new" {
		t.Errorf("enrol link to %q", href)
	}
	p := nurse.get(t, "/participants/new").wantStatus(t, http.StatusOK)
	var names []string
	p.wantTestID(t, "enrol-form").Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		names = append(names, name)
	})
	if got := strings.Join(names, ","); got != "_csrf,study,pseudonym,sex,birth_year,diagnosis,enrolled_on" {
		t.Errorf("the enrolment form asks for %s", got)
	}
	if got := p.inputValue(t, "enrolled_on"); got != today(0) {
		t.Errorf("enrolment date defaults to %q", got)
	}

	// A mistyped pseudonym: the form comes back with the likely correction beside it.
	issued := mustPseudonym(t, "M7P3QR")
	typed := map[string]string{"study": "IBD", "pseudonym": mistyped(t, issued), "sex": "female", "birth_year": "1980", "enrolled_on": today(-30)}
	for name, pseudonym := range map[string]string{"wrong check": typed["pseudonym"], "malformed": "M7P3"} {
		t.Run(name, func(t *testing.T) {
			typed := map[string]string{"study": "IBD", "pseudonym": pseudonym, "sex": "female", "birth_year": "1980", "enrolled_on": today(-30)}
			before := a.state(t)
			p := nurse.submit(t, "/participants/new", "/participants", formOf(typed)).wantStatus(t, http.StatusUnprocessableEntity)
			msg := p.wantTestID(t, "error-pseudonym").Text()
			if name == "wrong check" && !strings.Contains(msg, issued) {
				t.Errorf("message %q does not suggest %s", msg, issued)
			}
			for k, v := range typed {
				if got := p.inputValue(t, k); got != v {
					t.Errorf("field %s holds %q, want %q", k, got, v)
				}
			}
			a.assertUnchanged(t, before)
		})
	}

	// Enrolled with a generated pseudonym.
	typed["pseudonym"] = ""
	pseudonym := participantOf(t, nurse.submit(t, "/participants/new", "/participants", formOf(typed)))
	path := "/participants/" + pseudonym
	p = nurse.get(t, path).wantStatus(t, http.StatusOK)
	if got := p.wantTestID(t, "participant-pseudonym").Text(); got != pseudonym || len(got) != 8 {
		t.Errorf("participant page of %q", got)
	}
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, pseudonym) {
		t.Errorf("flash %q does not give the pseudonym", msg)
	}
	if got := p.wantTestID(t, "consent-status-IBD").Text(); got != "no consent recorded" {
		t.Errorf("consent status %q", got)
	}
	p.wantTestID(t, "no-visits")
	a.wantEvent(t, "participant", pseudonym, "participant.enrol", "nurse")

	// Recording consent: refusals, then the consent.
	for _, tc := range []struct {
		name, document, signed string
		tiers                  []string
		field                  string
	}{
		{"tiers not offered", "IBD|2.0", today(0), []string{"storage", "genetic"}, "tiers"},
		{"signed in the future", "IBD|1.0", today(3), []string{"storage"}, "signed_on"},
		{"no tiers", "IBD|1.0", today(0), nil, "tiers"},
		{"retired version", "IBD|0.9", today(0), []string{"storage"}, "document"},
		{"no version chosen", "", today(0), []string{"storage"}, "document"},
	} {
		t.Run("consent/"+tc.name, func(t *testing.T) {
			before := a.state(t)
			p := nurse.submit(t, path, path+"/consents", url.Values{"document": {tc.document}, "signed_on": {tc.signed}, "tiers": tc.tiers}).
				wantStatus(t, http.StatusUnprocessableEntity)
			form := p.wantTestID(t, "consent-form")
			if form.Find(testidSel("error-"+tc.field)).Length() == 0 {
				t.Errorf("no message beside %s:\n%s", tc.field, excerpt(p.Body))
			}
			if got := formValue(form, "signed_on"); got != tc.signed {
				t.Errorf("signed_on holds %q", got)
			}
			if got, _ := form.Find(`select[name="document"] option[selected]`).Attr("value"); tc.document != "IBD|0.9" && got != tc.document {
				t.Errorf("document holds %q, want %q", got, tc.document)
			}
			for _, tier := range tc.tiers {
				if _, checked := form.Find(testidSel("tiers-" + tier)).Attr("checked"); !checked {
					t.Errorf("tier %s no longer ticked", tier)
				}
			}
			a.assertUnchanged(t, before)
		})
	}
	nurse.submit(t, path, path+"/consents", url.Values{"document": {"IBD|1.0"}, "signed_on": {today(0)}, "tiers": {"storage", "genetic", "sharing"}}).
		wantRedirect(t, path)
	p = nurse.get(t, path).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "flash-success")
	if got := p.wantTestID(t, "consent-status-IBD").Text(); got != "active" {
		t.Errorf("consent status %q", got)
	}
	if got := p.wantTestID(t, "consent-tiers-IBD").Text(); got != "In force: Storage and research use, Genetic analysis, Sharing with partner sites" {
		t.Errorf("tiers in force: %q", got)
	}

	// Opening the baseline visit 30 days after enrolment: outside its window.
	before := a.state(t)
	p = nurse.submit(t, path, path+"/visits", url.Values{"visit": {"IBD|BASELINE"}, "date": {today(0)}}).wantStatus(t, http.StatusUnprocessableEntity)
	form := p.wantTestID(t, "visit-open-form")
	if msg := form.Find(testidSel("error-date")).Text(); !strings.Contains(msg, "outside") || !strings.Contains(msg, today(-23)) {
		t.Errorf("message beside the date: %q", msg)
	}
	if form.Find(`input[name="reason"]`).Length() != 1 {
		t.Error("no reason field offered")
	}
	if got, _ := form.Find(`select[name="visit"] option[selected]`).Attr("value"); got != "IBD|BASELINE" {
		t.Errorf("visit holds %q", got)
	}
	if got := formValue(form, "date"); got != today(0) {
		t.Errorf("date holds %q", got)
	}
	a.assertUnchanged(t, before)
	nurse.submit(t, path, path+"/visits", url.Values{"visit": {"IBD|BASELINE"}, "date": {today(0)}, "reason": {"participant was abroad"}}).
		wantRedirect(t, path)
	p = nurse.get(t, path).wantStatus(t, http.StatusOK)
	vis := p.wantTestID(t, "visit-BASELINE")
	if !strings.Contains(vis.Text(), "outside window: participant was abroad") {
		t.Errorf("visit card %q", vis.Text())
	}
	if n := vis.Find(testidSel("requirement-row")).Length(); n != 3 {
		t.Errorf("%d expected specimens, want 3", n)
	}
	if got := cells(vis.Find(testidSel("requirement-row")).Eq(1)); got != "serum | SST | 5 mL | 4 × 0.5 mL | -80 °C" {
		t.Errorf("expected serum: %q", got)
	}
	// An opened visit is no longer offered.
	if p.testid("visit-open-form").Find(`option[value="IBD|BASELINE"]`).Length() != 0 {
		t.Error("the opened visit is still offered")
	}

	// Withdrawing one tier: a reason is required.
	wform := p.Doc.Find(`form[data-testid^="withdraw-form-"]`)
	if wform.Length() != 1 {
		t.Fatalf("%d withdrawal forms", wform.Length())
	}
	action, _ := wform.Attr("action")
	before = a.state(t)
	p = nurse.submit(t, path, action, url.Values{"tiers": {"genetic"}, "reason": {" "}}).wantStatus(t, http.StatusUnprocessableEntity)
	wform = p.Doc.Find(`form[action="` + action + `"]`)
	if wform.Find(testidSel("error-reason")).Length() == 0 {
		t.Errorf("no message beside the reason:\n%s", excerpt(p.Body))
	}
	if _, open := wform.Closest("details").Attr("open"); !open {
		t.Error("the refused withdrawal is folded away")
	}
	if _, checked := wform.Find(testidSel("tiers-genetic")).Attr("checked"); !checked {
		t.Error("the ticked tier was lost")
	}
	a.assertUnchanged(t, before)
	nurse.submit(t, path, action, url.Values{"tiers": {"genetic"}, "reason": {"no genetic research"}}).wantRedirect(t, path)
	p = nurse.get(t, path).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "storage, sharing") {
		t.Errorf("flash %q", msg)
	}
	if got := p.wantTestID(t, "consent-status-IBD").Text(); got != "partially withdrawn" {
		t.Errorf("consent status %q", got)
	}
	if got := p.wantTestID(t, "consent-tiers-IBD").Text(); got != "In force: Storage and research use, Sharing with partner sites" {
		t.Errorf("tiers in force: %q", got)
	}
	if ev := a.wantEvent(t, "participant", pseudonym, "consent.withdraw", "nurse"); ev.Reason != "no genetic research" {
		t.Errorf("withdrawal audited with reason %q", ev.Reason)
	}

	// Withdrawing the rest: no tier ticked means the whole consent. A second, stale
	// withdrawal (another tab, a double click) is refused with its message shown.
	nurse.submit(t, path, action, url.Values{"reason": {"moved abroad"}}).wantRedirect(t, path)
	p = nurse.get(t, path).wantStatus(t, http.StatusOK)
	if got := p.wantTestID(t, "consent-status-IBD").Text(); got != "withdrawn" {
		t.Errorf("consent status %q", got)
	}
	if p.Doc.Find(`form[action="`+action+`"]`).Length() != 0 {
		t.Error("a withdrawn consent still offers a withdrawal")
	}
	before = a.state(t)
	p = nurse.submit(t, path, action, url.Values{"reason": {"moved abroad"}}).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.Doc.Find(`form[action="` + action + `"]`).Closest("details").Find(testidSel("form-error")).Text(); !strings.Contains(msg, "already withdrawn") {
		t.Errorf("message of the stale withdrawal: %q", msg)
	}
	a.assertUnchanged(t, before)

	// Enrolling in a second study.
	more := p.wantTestID(t, "enrol-more-form")
	if got := more.Find(`select[name="study"] option[value!=""]`).Length(); got != 1 {
		t.Errorf("%d studies offered, want RA only", got)
	}
	nurse.submit(t, path, path+"/enrolments", url.Values{"study": {"RA"}}).wantRedirect(t, path)
	p = nurse.get(t, path).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "enrolment-RA")
	if got := p.wantTestID(t, "consent-status-RA").Text(); got != "no consent recorded" {
		t.Errorf("RA consent status %q", got)
	}
	if p.testid("consent-form").Find(`option[value="RA|1.0"]`).Length() != 1 {
		t.Error("RA's consent version is not offered")
	}
	// Enrolling again is refused, with the message shown although no study is left to offer.
	before = a.state(t)
	p = nurse.submit(t, path, path+"/enrolments", url.Values{"study": {"ibd"}}).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "error-study").Text(); !strings.Contains(msg, "already enrolled") {
		t.Errorf("message %q", msg)
	}
	p = nurse.submit(t, path, path+"/enrolments", url.Values{"study": {"NOPE"}}).wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-study")
	a.assertUnchanged(t, before)

	// The list of consents shows the participant's current state.
	p = nurse.get(t, "/participants?status=withdrawn").wantStatus(t, http.StatusOK)
	if rows := p.testid("consent-row"); rows.Length() != 1 || cells(rows) != pseudonym+" | LUX | IBD | 1.0 | "+today(0)+" | withdrawn | none" {
		t.Errorf("withdrawn consents: %q", cells(rows))
	}
	nurse.get(t, "/participants?status=active").wantStatus(t, http.StatusOK).wantTestID(t, "consents-empty")
}

func TestParticipantPages_ManagerEnrolsAtAnotherSite(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	manager := a.signedIn(t, "manager")
	p := manager.get(t, "/participants/new").wantStatus(t, http.StatusOK)
	if got := p.inputValue(t, "site"); got != "LUX" {
		t.Errorf("site defaults to %q", got)
	}
	pseudonym := participantOf(t, manager.submit(t, "/participants/new", "/participants",
		url.Values{"study": {"RA"}, "site": {"KIEL"}, "enrolled_on": {today(0)}}))
	p = manager.get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK)
	if txt := p.Doc.Find("main p.muted").First().Text(); !strings.Contains(txt, "Enrolled at KIEL") {
		t.Errorf("participant page says %q", txt)
	}
	a.signedIn(t, "nurse-kiel").get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK)
	a.signedIn(t, "nurse").get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusForbidden)
}

func TestParticipantPages_Access(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	pseudonym := a.mustEnrol(t, "nurse", "IBD", mustPseudonym(t, "K05X18"), -2)
	id := a.mustConsent(t, "nurse", pseudonym, "IBD", "1.0", "storage", "genetic")
	path := "/participants/" + pseudonym

	// A technician reads the page but is offered nothing to record.
	tech := a.signedIn(t, "technician")
	p := tech.get(t, path).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "participant-pseudonym")
	p.wantTestID(t, fmt.Sprintf("consent-%d", id))
	for _, form := range []string{"consent-form", "visit-open-form", "enrol-more-form", fmt.Sprintf("withdraw-form-%d", id)} {
		if p.testid(form).Length() != 0 {
			t.Errorf("a technician is offered %s", form)
		}
	}
	if tech.get(t, "/participants").wantStatus(t, http.StatusOK).testid("enrol-link").Length() != 0 {
		t.Error("a technician is offered the enrol link")
	}
	tech.get(t, "/participants/new").wantStatus(t, http.StatusForbidden).wantTestID(t, "error-403")
	kiel := a.signedIn(t, "nurse-kiel")
	before := a.state(t)
	for action, vals := range map[string]url.Values{
		"/participants":      {"study": {"IBD"}},
		path + "/consents":   {"document": {"IBD|1.0"}, "signed_on": {today(0)}, "tiers": {"storage"}},
		path + "/visits":     {"visit": {"IBD|BASELINE"}, "date": {today(0)}},
		path + "/enrolments": {"study": {"RA"}},
		fmt.Sprintf("%s/consents/%d/withdraw", path, id): {"reason": {"x"}},
	} {
		p := tech.submit(t, path, action, vals).wantStatus(t, http.StatusForbidden)
		p.wantTestID(t, "error-403")
		p.wantNoGoError(t)
	}
	a.assertUnchanged(t, before)

	// A nurse of another site sees nothing of the participant and changes nothing.
	p = kiel.get(t, path).wantStatus(t, http.StatusForbidden)
	p.wantTestID(t, "error-403")
	if p.testid("participant-pseudonym").Length() != 0 || p.testid(fmt.Sprintf("consent-%d", id)).Length() != 0 {
		t.Error("the 403 page shows the participant")
	}
	p.wantNoGoError(t)
	for action, vals := range map[string]url.Values{
		path + "/consents":   {"document": {"IBD|1.0"}, "signed_on": {today(0)}, "tiers": {"storage"}},
		path + "/visits":     {"visit": {"IBD|BASELINE"}, "date": {today(0)}},
		path + "/enrolments": {"study": {"RA"}},
		fmt.Sprintf("%s/consents/%d/withdraw", path, id): {"reason": {"x"}},
	} {
		if p := kiel.submit(t, "/participants", action, vals); p.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s by another site's nurse: status %d, want 403", action, p.StatusCode)
		}
	}
	a.assertUnchanged(t, before)
	for _, row := range []string{"/participants", "/participants?tiers=storage"} {
		if n := kiel.get(t, row).wantStatus(t, http.StatusOK).testid("consent-row").Length(); n != 0 {
			t.Errorf("%s shows another site's nurse %d consents", row, n)
		}
	}
	if n := a.signedIn(t, "manager").get(t, "/participants").wantStatus(t, http.StatusOK).testid("consent-row").Length(); n != 1 {
		t.Errorf("the manager's list has %d consents", n)
	}

	// Lookups by address: look-alikes lead to the written form; mistakes are explained.
	nurse := a.signedIn(t, "nurse")
	nurse.get(t, "/participants/"+strings.ToLower(strings.Replace(pseudonym, "0", "O", 1))).wantRedirect(t, path)
	p = nurse.get(t, "/participants/"+mistyped(t, pseudonym)).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "error-message").Text(); !strings.Contains(msg, pseudonym) {
		t.Errorf("message %q does not suggest %s", msg, pseudonym)
	}
	nurse.get(t, "/participants/"+mustPseudonym(t, "ZZZZZZ")).wantStatus(t, http.StatusNotFound).wantTestID(t, "error-404")

	// The list's filters keep their values; a bad one is refused beside its field.
	p = nurse.get(t, "/participants?study=IBD&status=active&tiers=genetic").wantStatus(t, http.StatusOK)
	if p.testid("consent-row").Length() != 1 || p.inputValue(t, "study") != "IBD" || p.inputValue(t, "status") != "active" {
		t.Errorf("filtered list: %d rows, study %q, status %q", p.testid("consent-row").Length(), p.inputValue(t, "study"), p.inputValue(t, "status"))
	}
	if _, checked := p.testid("tiers-genetic").Attr("checked"); !checked {
		t.Error("the tier filter is no longer ticked")
	}
	nurse.get(t, "/participants?tiers=sharing").wantStatus(t, http.StatusOK).wantTestID(t, "consents-empty")
	nurse.get(t, "/participants?status=gone").wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "error-status")
}

func TestScan_FindsParticipants(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	pseudonym := a.mustEnrol(t, "nurse", "IBD", mustPseudonym(t, "K05X18"), 0)
	kiel := a.mustEnrol(t, "nurse-kiel", "IBD", "", 0)
	nurse := a.signedIn(t, "nurse")

	// Lower case, with the look-alike letters O, S, I and B for 0, 5, 1 and 8.
	typed := strings.NewReplacer("0", "o", "5", "s", "1", "i", "8", "b").Replace(strings.ToLower(pseudonym))
	if !strings.Contains(typed, "o") || !strings.Contains(typed, "b") {
		t.Fatalf("%s has no look-alikes to type", pseudonym)
	}
	for _, q := range []string{pseudonym, typed, "  " + typed + " "} {
		nurse.get(t, "/scan?q="+url.QueryEscape(q)).wantRedirect(t, "/participants/"+pseudonym)
	}
	a.signedIn(t, "technician").get(t, "/scan?q="+typed).wantRedirect(t, "/participants/"+pseudonym)

	wrong := mistyped(t, pseudonym)
	p := nurse.get(t, "/scan?q="+strings.ToLower(wrong)).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, pseudonym) || !strings.Contains(msg, "check character") {
		t.Errorf("scan result %q does not suggest %s", msg, pseudonym)
	}
	if got, _ := p.wantTestID(t, "scan-input").Attr("value"); got != strings.ToLower(wrong) {
		t.Errorf("scan box holds %q", got)
	}

	p = nurse.get(t, "/scan?q="+kiel).wantStatus(t, http.StatusForbidden)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, "another site") {
		t.Errorf("scan result %q", msg)
	}
	// A manager sees every site.
	a.signedIn(t, "manager").get(t, "/scan?q="+kiel).wantRedirect(t, "/participants/"+kiel)

	unknown := mustPseudonym(t, "ZZZZZZ")
	p = nurse.get(t, "/scan?q="+unknown).wantStatus(t, http.StatusNotFound)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, "Nothing matched") || !strings.Contains(msg, unknown) {
		t.Errorf("scan result %q", msg)
	}
}

// TestPages_StudyAndParticipantPagesRender opens each page of studies and participants
// and checks that every input has a label (its own, by id, or one around it).
func TestPages_StudyAndParticipantPagesRender(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	pseudonym := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustConsent(t, "nurse", pseudonym, "IBD", "1.0", "storage")
	for _, tc := range []struct{ page, as, path string }{
		{"StudiesPage", "admin", "/studies"},
		{"StudyPage", "admin", "/studies/IBD"},
		{"EnrolPage", "admin", "/participants/new"},
		{"EnrolPage", "nurse", "/participants/new"},
		{"ParticipantPage", "nurse", "/participants/" + pseudonym},
		{"ParticipantsPage", "manager", "/participants"},
	} {
		t.Run(tc.page+"/"+tc.as, func(t *testing.T) {
			p := a.signedIn(t, tc.as).get(t, tc.path).wantStatus(t, http.StatusOK)
			p.wantTestID(t, pageMarkers[tc.page])
			if title := p.Doc.Find("title").Text(); !strings.HasSuffix(title, "· Biobank") {
				t.Errorf("title %q", title)
			}
			ids := map[string]bool{}
			p.Doc.Find(`input:not([type="hidden"]), select`).Each(func(_ int, in *goquery.Selection) {
				id, _ := in.Attr("id")
				name, _ := in.Attr("name")
				if id != "" && ids[id] {
					t.Errorf("input id %q is used twice", id)
				}
				ids[id] = true
				if in.Closest("label").Length() > 0 {
					return
				}
				if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() == 0 {
					t.Errorf("input %q (id %q) has no label", name, id)
				}
			})
			p.wantNoGoError(t)
		})
	}
}

// TestRoleMatrix_StudiesAndParticipants checks the study and participant routes for every
// role, as pages and through the API: administrators set studies up; administrators,
// managers and nurses enrol, record consent and open visits; everyone signed in reads.
func TestRoleMatrix_StudiesAndParticipants(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	admin := []auth.Role{auth.RoleAdmin}
	clinical := []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleNurse}
	all := auth.Roles

	// Each role acts on a participant of its own, enrolled in IBD with consent 1.0, and on
	// set-up with its own codes, so every allowed request succeeds.
	type fixture struct {
		pseudonym string
		// The consents the page and the API withdraw from.
		pageConsent, apiConsent int64
		// A participant for the API to enrol in RA (the page enrols the first).
		apiPseudonym string
	}
	mine := map[auth.Role]fixture{}
	for _, r := range auth.Roles {
		p := a.mustEnrol(t, "nurse", "IBD", "", 0)
		mine[r] = fixture{p, a.mustConsent(t, "nurse", p, "IBD", "1.0", "storage", "genetic"),
			a.mustConsent(t, "nurse", p, "IBD", "1.0", "storage", "genetic"), a.mustEnrol(t, "nurse", "IBD", "", 0)}
	}
	studiesFixture := func(r auth.Role) (code string) { return "S-" + strings.ToUpper(string(r[:3])) }

	type route struct {
		method, path string
		form         url.Values
		json         any
		ok           int
		roles        []auth.Role
	}
	routes := func(r auth.Role, api bool) []route {
		f := mine[r]
		pp := "/participants/" + f.pseudonym
		consent, suffix := f.pageConsent, "P"
		if api {
			consent, suffix = f.apiConsent, "J"
		}
		return []route{
			{method: "GET", path: "/studies", ok: 200, roles: all},
			{method: "GET", path: "/studies/IBD", ok: 200, roles: all},
			{method: "GET", path: "/participants", ok: 200, roles: all},
			{method: "GET", path: "/participants/new", ok: 200, roles: clinical},
			{method: "GET", path: pp, ok: 200, roles: all},
			{method: "POST", path: "/studies", ok: 303, roles: admin,
				form: url.Values{"code": {studiesFixture(r) + suffix}, "name": {"By " + string(r)}},
				json: map[string]any{"code": studiesFixture(r) + suffix, "name": "By " + string(r)}},
			{method: "POST", path: "/studies/IBD", ok: 303, roles: admin,
				form: url.Values{"name": {"Inflammatory bowel disease"}, "pseudonym_check": {"true"}, "active": {"true"}, "reason": {"matrix"}}},
			{method: "POST", path: "/studies/IBD/visits", ok: 303, roles: admin,
				form: url.Values{"code": {"V" + suffix}, "name": {"Visit"}, "day_offset": {"30"}},
				json: map[string]any{"code": "V" + suffix, "name": "Visit", "day_offset": 30}},
			{method: "POST", path: "/studies/IBD/consent-documents", ok: 303, roles: admin,
				form: url.Values{"version": {"9" + suffix}, "tiers": {"storage"}},
				json: map[string]any{"version": "9" + suffix, "tiers": []string{"storage"}}},
			{method: "POST", path: "/studies/IBD/consent-documents/9" + suffix + "/retire", ok: 303, roles: admin,
				form: url.Values{"reason": {"matrix"}}, json: map[string]any{"reason": "matrix"}},
			{method: "POST", path: "/participants", ok: 303, roles: clinical,
				form: url.Values{"study": {"IBD"}}, json: map[string]any{"study": "IBD"}},
			{method: "POST", path: pp + "/consents", ok: 303, roles: clinical,
				form: url.Values{"document": {"IBD|2.0"}, "signed_on": {today(0)}, "tiers": {"storage"}},
				json: map[string]any{"study": "IBD", "version": "2.0", "signed_on": today(0), "tiers": []string{"storage"}}},
			{method: "POST", path: fmt.Sprintf("%s/consents/%d/withdraw", pp, consent), ok: 303, roles: clinical,
				form: url.Values{"reason": {"matrix"}, "tiers": {"genetic"}},
				json: map[string]any{"reason": "matrix", "tiers": []string{"genetic"}}},
			{method: "POST", path: pp + "/visits", ok: 303, roles: clinical,
				form: url.Values{"visit": {"IBD|BASELINE"}, "date": {today(0)}},
				json: map[string]any{"study": "IBD", "visit": "M3", "date": today(0), "reason": "matrix"}},
			{method: "POST", path: pp + "/enrolments", ok: 303, roles: clinical,
				form: url.Values{"study": {"RA"}}, json: nil},
		}
	}
	allowed := func(rt route, role auth.Role) bool {
		for _, r := range rt.roles {
			if r == role {
				return true
			}
		}
		return false
	}

	for _, role := range auth.Roles {
		t.Run("pages/"+string(role), func(t *testing.T) {
			c := a.signedIn(t, string(role))
			for _, rt := range routes(role, false) {
				before := a.state(t)
				var p *page
				if rt.method == "GET" {
					p = c.get(t, rt.path)
				} else {
					p = c.submit(t, "/", rt.path, rt.form)
				}
				if !allowed(rt, role) {
					if p.StatusCode != http.StatusForbidden {
						t.Errorf("%s %s as %s: status %d, want 403", rt.method, rt.path, role, p.StatusCode)
						continue
					}
					p.wantTestID(t, "error-403")
					p.wantNoGoError(t)
					a.assertUnchanged(t, before)
					continue
				}
				if p.StatusCode != rt.ok {
					t.Errorf("%s %s as %s: status %d, want %d\n%s", rt.method, rt.path, role, p.StatusCode, rt.ok, excerpt(p.Body))
				}
			}
		})
		t.Run("api/"+string(role), func(t *testing.T) {
			token := a.usedToken(t, string(role))
			apiRoutes := []route{
				{method: "GET", path: "/studies", ok: 200, roles: all},
				{method: "GET", path: "/studies/IBD", ok: 200, roles: all},
				{method: "GET", path: "/participants/" + mine[role].pseudonym, ok: 200, roles: all},
				{method: "GET", path: "/consents?status=active", ok: 200, roles: all},
				{method: "PATCH", path: "/studies/IBD", json: map[string]any{"reason": "matrix"}, ok: 200, roles: admin},
				{method: "POST", path: "/participants/" + mine[role].apiPseudonym + "/enrolments", json: map[string]any{"study": "RA"}, ok: 201, roles: clinical},
			}
			for _, rt := range routes(role, true) {
				if rt.method == "POST" && rt.json != nil {
					rt.ok = 201
					if strings.HasSuffix(rt.path, "/retire") || strings.HasSuffix(rt.path, "/withdraw") {
						rt.ok = 200
					}
					apiRoutes = append(apiRoutes, rt)
				}
			}
			for _, rt := range apiRoutes {
				before := a.state(t)
				r := a.api(t, rt.method, "/api/v1"+rt.path, token, rt.json)
				if !allowed(rt, role) {
					r.wantError(t, http.StatusForbidden, "forbidden", "")
					a.assertUnchanged(t, before)
					continue
				}
				if r.Status != rt.ok {
					t.Errorf("%s /api/v1%s as %s: status %d, want %d: %s", rt.method, rt.path, role, r.Status, rt.ok, r.Body)
				}
			}
		})
	}

	// Signed out: pages send to the sign-in page, the API answers 401; nothing is written.
	before := a.state(t)
	for _, rt := range routes(auth.RoleNurse, false) {
		if rt.method == "GET" {
			a.newClient(t).get(t, rt.path).wantRedirect(t, "/login?next="+url.QueryEscape(rt.path))
			continue
		}
		a.newClient(t).submit(t, "/login", rt.path, rt.form).wantRedirect(t, "/login")
		if rt.json != nil {
			a.api(t, "POST", "/api/v1"+rt.path, "", rt.json).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		}
	}
	a.api(t, "GET", "/api/v1/participants/"+mine[auth.RoleNurse].pseudonym, "", nil).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
	a.assertUnchanged(t, before)
}
