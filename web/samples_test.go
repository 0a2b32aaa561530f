package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"biobank/internal/auth"
	"biobank/internal/sample"
	"biobank/internal/study"
	"biobank/web"
)

// datetimeLocal is the format of an HTML datetime-local input.
const datetimeLocal = "2006-01-02T15:04"

// collectURL is the collection form of a participant's IBD BASELINE visit.
func collectURL(pseudonym string) string {
	return "/participants/" + pseudonym + "/visits/IBD/BASELINE/collect"
}

// samplesOf lists a participant's samples, oldest first, as the administrator sees them.
func (a *app) samplesOf(tb testing.TB, pseudonym string) []string {
	tb.Helper()
	rows, _, err := a.sampleService().List(context.Background(), a.actorOf(tb, "admin"), sample.Filter{Participant: pseudonym})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i].Accession)
	}
	return out
}

// texts returns the trimmed text of each element.
func texts(p *page, testid string) []string {
	var out []string
	p.testid(testid).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func TestCollectPage_RegistersTheTickedTubes(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	nurse := a.signedIn(t, "nurse")

	// The participant page leads to the form, which proposes the visit's tubes.
	nurse.get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK).wantTestID(t, "collect-BASELINE")
	p := nurse.get(t, collectURL(pseudonym)).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "collect-form")
	for i, want := range []string{"9", "7.5"} {
		if _, ticked := p.wantTestID(t, "drawn-"+strconv.Itoa(i)).Attr("checked"); !ticked {
			t.Errorf("row %d is not ticked", i)
		}
		if got := p.inputValue(t, "tubes["+strconv.Itoa(i)+"].volume"); got != want {
			t.Errorf("row %d volume %q, want %q", i, got, want)
		}
	}
	if fs := p.wantTestID(t, "tube-0").Text(); !strings.Contains(fs, "Whole blood") || !strings.Contains(fs, "EDTA") {
		t.Errorf("row 0 reads %q", fs)
	}
	if got := p.inputValue(t, "collected_at"); got == "" {
		t.Error("no collection time proposed")
	}
	p.wantNoGoError(t)

	at := collectedAt().Format(datetimeLocal)
	form := func(over map[string]string) url.Values {
		v := url.Values{"collected_at": {at}, "tubes[0].drawn": {"true"}, "tubes[0].volume": {"9"},
			"tubes[1].drawn": {"true"}, "tubes[1].volume": {"7.5"}}
		for k, x := range over {
			if x == "-" {
				v.Del(k)
			} else {
				v.Set(k, x)
			}
		}
		return v
	}

	// A bad volume in the second row comes back beside that row, values kept, nothing written.
	for _, tc := range []struct {
		name string
		over map[string]string
	}{
		{"zero", map[string]string{"tubes[1].volume": "0"}},
		{"not a number", map[string]string{"tubes[1].volume": "lots"}},
		{"too much, first row not drawn", map[string]string{"tubes[0].drawn": "-", "tubes[1].volume": "2000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			vals := form(tc.over)
			p := nurse.submit(t, collectURL(pseudonym), collectURL(pseudonym), vals).wantStatus(t, http.StatusUnprocessableEntity)
			if msg := p.wantTestID(t, "error-tubes[1].volume").Text(); msg == "" {
				t.Error("no message beside the second row's volume")
			}
			if p.testid("error-tubes[0].volume").Length() > 0 {
				t.Error("the first row is blamed")
			}
			if got := p.inputValue(t, "tubes[1].volume"); got != vals.Get("tubes[1].volume") {
				t.Errorf("second row's volume came back as %q", got)
			}
			if got := p.inputValue(t, "collected_at"); got != at {
				t.Errorf("collection time came back as %q", got)
			}
			_, ticked := p.wantTestID(t, "drawn-0").Attr("checked")
			if ticked != (vals.Get("tubes[0].drawn") == "true") {
				t.Errorf("first row ticked %v", ticked)
			}
			p.wantNoGoError(t)
			a.assertUnchanged(t, before)
		})
	}
	// Nothing ticked, or a collection time in the future.
	before := a.state(t)
	p = nurse.submit(t, collectURL(pseudonym), collectURL(pseudonym), form(map[string]string{"tubes[0].drawn": "-", "tubes[1].drawn": "-"})).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "form-error")
	p = nurse.submit(t, collectURL(pseudonym), collectURL(pseudonym),
		form(map[string]string{"collected_at": time.Now().UTC().Add(2 * time.Hour).Format(datetimeLocal)})).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-collected_at")
	a.assertUnchanged(t, before)

	// Both tubes registered: back to the participant, with their accession IDs.
	nurse.submit(t, collectURL(pseudonym), collectURL(pseudonym), form(map[string]string{"tubes[1].volume": "6,5"})).
		wantRedirect(t, "/participants/"+pseudonym)
	ids := a.samplesOf(t, pseudonym)
	if len(ids) != 2 {
		t.Fatalf("%d samples registered, want 2", len(ids))
	}
	p = nurse.get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK)
	flash := p.wantTestID(t, "flash-success").Text()
	for _, id := range ids {
		if !strings.Contains(flash, id) {
			t.Errorf("flash %q does not name %s", flash, id)
		}
	}
	if rows := p.testid("sample-row").Length(); rows != 2 {
		t.Errorf("participant page lists %d samples, want 2", rows)
	}
	blood, serum := a.mustSample(t, ids[0]), a.mustSample(t, ids[1])
	if blood.SpecimenType != "whole_blood" || blood.Container != "PED" || blood.Volume.String() != "9" ||
		serum.SpecimenType != "serum" || serum.Volume.String() != "6.5" || !serum.CollectedAt.Equal(collectedAt()) {
		t.Errorf("registered %s %s %s and %s %s %s at %s", blood.SpecimenType, blood.Container, blood.Volume,
			serum.SpecimenType, serum.Container, serum.Volume, serum.CollectedAt)
	}
	a.wantEvent(t, "sample", ids[1], "sample.collect", "nurse")

	// Without a consent granting storage, the form says so and writes nothing.
	noConsent, _ := a.mustReadyParticipant(t, "nurse", "-")
	before = a.state(t)
	p = nurse.submit(t, collectURL(noConsent), collectURL(noConsent), form(nil)).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "form-error").Text(); !strings.Contains(msg, "consent") || !strings.Contains(msg, noConsent) {
		t.Errorf("refusal %q", msg)
	}
	a.assertUnchanged(t, before)

	// Another site's participant.
	kiel, _ := a.mustReadyParticipant(t, "nurse-kiel")
	nurse.get(t, collectURL(kiel)).wantStatus(t, http.StatusForbidden)
	before = a.state(t)
	nurse.submit(t, collectURL(pseudonym), collectURL(kiel), form(nil)).wantStatus(t, http.StatusForbidden)
	a.assertUnchanged(t, before)
	nurse.get(t, "/participants/"+pseudonym+"/visits/IBD/M99/collect").wantStatus(t, http.StatusNotFound)
}

// A visit that is happening needs no separate step: the participant page lists the visits
// not yet opened with their windows, and registering the tubes opens the visit; outside
// its window the form asks for a reason and keeps what was typed.
func TestCollectPage_FirstCollectionOpensTheVisit(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	studies, _, _ := a.services()
	if _, err := studies.AddVisit(context.Background(), a.actorOf(t, "admin"), "IBD", study.VisitInput{Code: "M3", Name: "Month 3",
		DayOffset: 90, WindowBefore: 14, WindowAfter: 14,
		Requirements: []study.RequirementInput{{SpecimenType: "serum", Container: "SST", Volume: decimal.RequireFromString("5"), Unit: "mL"}}}); err != nil {
		t.Fatal(err)
	}
	pseudonym := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustConsent(t, "nurse", pseudonym, "IBD", "1.0", "storage")
	nurse := a.signedIn(t, "nurse")

	p := nurse.get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK)
	due := p.wantTestID(t, "due-IBD-BASELINE")
	if due.Find(`[data-testid="collect-BASELINE"]`).Length() != 1 || !strings.Contains(due.Text(), today(0)) {
		t.Errorf("the baseline visit's row reads %q, want its window from today and a link to register tubes", due.Text())
	}
	p = nurse.get(t, collectURL(pseudonym)).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "collect-opens-visit")
	at := collectedAt().Format(datetimeLocal)
	nurse.submit(t, collectURL(pseudonym), collectURL(pseudonym), url.Values{"collected_at": {at},
		"tubes[0].drawn": {"true"}, "tubes[0].volume": {"9"}}).wantRedirect(t, "/participants/"+pseudonym)
	p = nurse.get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "visit-BASELINE")
	if p.testid("due-IBD-BASELINE").Length() != 0 {
		t.Error("the opened baseline visit is still listed as not yet opened")
	}
	a.wantEvent(t, "participant", pseudonym, "visit.open", "nurse")

	// Month 3 today is outside its window: the form says so beside the collection time,
	// keeps the volume typed, and writes nothing; with a reason it goes through.
	m3 := "/participants/" + pseudonym + "/visits/IBD/M3/collect"
	before := a.state(t)
	vals := url.Values{"collected_at": {at}, "tubes[0].drawn": {"true"}, "tubes[0].volume": {"4.5"}}
	p = nurse.submit(t, m3, m3, vals).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "error-collected_at").Text(); !strings.Contains(msg, "outside the Month 3 window") {
		t.Errorf("message %q", msg)
	}
	if got := p.inputValue(t, "tubes[0].volume"); got != "4.5" {
		t.Errorf("volume came back as %q", got)
	}
	a.assertUnchanged(t, before)
	vals.Set("reason", "seen early: travelling at month 3")
	nurse.submit(t, m3, m3, vals).wantRedirect(t, "/participants/"+pseudonym)
	p = nurse.get(t, "/participants/"+pseudonym).wantStatus(t, http.StatusOK)
	if got := p.wantTestID(t, "visit-M3").Text(); !strings.Contains(got, "travelling at month 3") {
		t.Errorf("the month 3 visit reads %q, want its reason", got)
	}
}

func TestReceivePage_ReceivesScannedTubes(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	labelled := serumTube
	labelled.TubeBarcode = "FX00077777"
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, labelled)
	blood, serum := ids[0], ids[1]
	tech := a.signedIn(t, "technician")

	// The page's own scan field has the focus, and only it.
	wantFocus := func(t *testing.T, p *page) {
		t.Helper()
		if _, ok := p.wantTestID(t, "receive-input").Attr("autofocus"); !ok {
			t.Error("the receive field is not autofocused")
		}
		if n := p.Doc.Find("[autofocus]").Length(); n != 1 {
			t.Errorf("%d autofocused elements, want only the receive field", n)
		}
	}
	p := tech.get(t, "/samples/receive").wantStatus(t, http.StatusOK)
	wantFocus(t, p)

	scan := func(code string) *page {
		return tech.submit(t, "/samples/receive", "/samples/receive", url.Values{"code": {code}})
	}
	p = scan("  "+strings.ToLower(blood)+" ").wantStatus(t, http.StatusOK)
	if ok := p.wantTestID(t, "receive-ok").Text(); !strings.Contains(ok, blood) || !strings.Contains(ok, "whole_blood") {
		t.Errorf("receipt reads %q", ok)
	}
	wantFocus(t, p)
	if got := texts(p, "sample-row"); len(got) != 1 || !strings.Contains(got[0], blood) || !strings.Contains(got[0], pseudonym) {
		t.Errorf("running list %q", got)
	}
	if smp := a.mustSample(t, blood); smp.Status != sample.Received || smp.ReceivedAt == nil {
		t.Errorf("%s is %s", blood, smp.Status)
	}
	a.wantEvent(t, "sample", blood, "sample.receive", "technician")

	// By tube barcode.
	p = scan("FX00077777").wantStatus(t, http.StatusOK)
	if ok := p.wantTestID(t, "receive-ok").Text(); !strings.Contains(ok, serum) {
		t.Errorf("receipt reads %q", ok)
	}
	if n := p.testid("sample-row").Length(); n != 2 {
		t.Errorf("running list has %d rows, want 2", n)
	}

	// Refused or repeated scans change nothing.
	unknown, err := sample.Accession(sample.DefaultPrefix, 99999)
	if err != nil {
		t.Fatal(err)
	}
	wrong := misreadAccession(t, blood)
	for _, tc := range []struct {
		name, code string
		status     int
		testid     string
		message    string
	}{
		{"repeat", blood, 200, "receive-warning-already_received", "already received"},
		{"unknown accession", unknown, 404, "receive-error", unknown},
		{"unknown barcode", "FX404", 404, "receive-error", "FX404"},
		{"wrong check character", wrong, 422, "receive-error", blood},
		{"nothing", " ", 422, "receive-error", "Scan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			p := scan(tc.code).wantStatus(t, tc.status)
			if msg := p.wantTestID(t, tc.testid).Text(); !strings.Contains(msg, tc.message) {
				t.Errorf("%s reads %q, want it to mention %q", tc.testid, msg, tc.message)
			}
			if p.testid("receive-ok").Length() > 0 {
				t.Error("a receipt is reported")
			}
			wantFocus(t, p)
			p.wantNoGoError(t)
			a.assertUnchanged(t, before)
		})
	}

	// Another site's technician and a nurse are refused.
	kiel := a.signedIn(t, "technician-kiel")
	nurse := a.signedIn(t, "nurse")
	before := a.state(t)
	p = kiel.submit(t, "/samples/receive", "/samples/receive", url.Values{"code": {serum}}).wantStatus(t, http.StatusForbidden)
	p.wantTestID(t, "receive-error")
	nurse.get(t, "/samples/receive").wantStatus(t, http.StatusForbidden).wantTestID(t, "error-403")
	nurse.submit(t, "/", "/samples/receive", url.Values{"code": {serum}}).wantStatus(t, http.StatusForbidden)
	a.assertUnchanged(t, before)

	// A mistaken receipt is taken back with a reason.
	tech.submit(t, "/samples/"+serum, "/samples/"+serum+"/undo-receive", url.Values{"reason": {"scanned the wrong rack"}}).
		wantRedirect(t, "/samples/"+serum)
	if smp := a.mustSample(t, serum); smp.Status != sample.Collected || smp.ReceivedAt != nil {
		t.Errorf("after undo %s is %s", serum, smp.Status)
	}
}

func TestProcessingPage_RecordsAndShowsSPREC(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	serum := a.mustCollect(t, "nurse", pseudonym, serumTube)[0]
	a.mustReceive(t, "technician", serum)
	t0 := a.mustSample(t, serum).CollectedAt
	tech := a.signedIn(t, "technician")
	formURL := "/samples/" + serum + "/processing"

	p := tech.get(t, formURL).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "processing-form")
	if got := p.wantTestID(t, "current-sprec").Text(); got != "SER-SST-X-X-X-X-X" {
		t.Errorf("current SPREC %q before processing", got)
	}

	// Frozen before it was collected: refused beside the field, values kept.
	before := a.state(t)
	frozen := t0.Add(-time.Hour).Format(datetimeLocal)
	p = tech.submit(t, formURL, formURL, url.Values{"frozen_at": {frozen}, "storage_temperature": {"-80"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-frozen_at")
	if got := p.inputValue(t, "frozen_at"); got != frozen {
		t.Errorf("frozen_at came back as %q", got)
	}
	if got := p.inputValue(t, "storage_temperature"); got != "-80" {
		t.Errorf("storage temperature came back as %q", got)
	}
	p = tech.submit(t, formURL, formURL, url.Values{"started_at": {"yesterday"}}).wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-started_at")
	p.wantNoGoError(t)
	a.assertUnchanged(t, before)

	// The worked example of STANDARDS.md, as typed into the form.
	worked := url.Values{
		"started_at": {t0.Add(time.Hour).Format(datetimeLocal)}, "pre_centrifugation_temp": {"rt"},
		"spin1_g": {"2000"}, "spin1_minutes": {"10"}, "spin1_temp": {"rt"}, "spin1_brake": {"yes"},
		"spin2_none":              {"true"},
		"centrifugation_ended_at": {t0.Add(70 * time.Minute).Format(datetimeLocal)}, "post_centrifugation_temp": {"rt"},
		"frozen_at":         {t0.Add(100 * time.Minute).Format(datetimeLocal)},
		"storage_container": {"pp_0.5-2ml"}, "storage_temperature": {"-80"},
	}
	tech.submit(t, formURL, formURL, worked).wantRedirect(t, "/samples/"+serum)
	p = tech.get(t, "/samples/"+serum).wantStatus(t, http.StatusOK)
	if got := p.wantTestID(t, "sample-sprec").Text(); !strings.Contains(got, "SER-SST-A-B-N-B-A") {
		t.Errorf("sample page SPREC %q, want SER-SST-A-B-N-B-A", got)
	}
	if flash := p.wantTestID(t, "flash-success").Text(); !strings.Contains(flash, "SER-SST-A-B-N-B-A") {
		t.Errorf("flash %q", flash)
	}
	a.wantEvent(t, "sample", serum, "sample.process", "technician")

	// The form comes back with what was recorded.
	p = tech.get(t, formURL).wantStatus(t, http.StatusOK)
	for name, want := range map[string]string{"started_at": worked.Get("started_at"), "frozen_at": worked.Get("frozen_at"),
		"spin1_g": "2000", "spin1_brake": "yes", "storage_container": "pp_0.5-2ml"} {
		if got := p.inputValue(t, name); got != want {
			t.Errorf("%s pre-filled as %q, want %q", name, got, want)
		}
	}
	a.signedIn(t, "nurse").get(t, formURL).wantStatus(t, http.StatusForbidden)
}

func TestAliquotPage_FollowsTheVisitPlan(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	tech := a.signedIn(t, "technician")
	formURL := "/samples/" + blood + "/aliquot"

	p := tech.get(t, formURL).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "aliquot-form")
	for name, want := range map[string]string{"count": "6", "volume": "0.5", "specimen_type": "plasma", "unit": "mL"} {
		if got := p.inputValue(t, name); got != want {
			t.Errorf("%s pre-filled as %q, want %q", name, got, want)
		}
	}

	// More than the tube holds: refused beside the volume, values kept, nothing written.
	before := a.state(t)
	p = tech.submit(t, formURL, formURL, url.Values{"count": {"6"}, "volume": {"2"}, "unit": {"mL"}, "specimen_type": {"plasma"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "error-volume").Text(); !strings.Contains(msg, "9 mL left") {
		t.Errorf("refusal %q does not say what is left", msg)
	}
	for name, want := range map[string]string{"count": "6", "volume": "2", "specimen_type": "plasma"} {
		if got := p.inputValue(t, name); got != want {
			t.Errorf("%s came back as %q, want %q", name, got, want)
		}
	}
	p = tech.submit(t, formURL, formURL, url.Values{"count": {"0"}, "volume": {"0.5"}, "unit": {"mL"}, "specimen_type": {"plasma"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-count")
	p.wantNoGoError(t)
	a.assertUnchanged(t, before)

	// The plan as proposed: six plasma aliquots, listed on the parent's page.
	tech.submit(t, formURL, formURL, url.Values{"count": {"6"}, "volume": {"0.5"}, "unit": {"mL"}, "specimen_type": {"plasma"}}).
		wantRedirect(t, "/samples/"+blood)
	p = tech.get(t, "/samples/"+blood).wantStatus(t, http.StatusOK)
	kids := texts(p, "lineage-child")
	if len(kids) != 6 {
		t.Fatalf("the sample page lists %d children, want 6", len(kids))
	}
	if got := p.wantTestID(t, "sample-volume").Text(); !strings.HasPrefix(strings.TrimSpace(got), "6 mL") {
		t.Errorf("remaining volume %q, want 6 mL", got)
	}
	if flash := p.wantTestID(t, "flash-success").Text(); !strings.Contains(flash, kids[0]) || !strings.Contains(flash, kids[5]) {
		t.Errorf("flash %q does not name the aliquots", flash)
	}
	if want := a.mustSample(t, blood).Children; len(want) != 6 || want[0].Accession != kids[0] {
		t.Errorf("children in the database %v", want)
	}

	// An aliquot's page shows its parent and siblings, and its history includes the parent's.
	p = tech.get(t, "/samples/"+kids[2]).wantStatus(t, http.StatusOK)
	if got := strings.TrimSpace(p.wantTestID(t, "lineage-parent").Text()); got != blood {
		t.Errorf("parent %q, want %s", got, blood)
	}
	if sibs := texts(p, "lineage-sibling"); len(sibs) != 5 || slices.Contains(sibs, kids[2]) {
		t.Errorf("siblings %v", sibs)
	}
	if !strings.Contains(p.Body, "sample.collect") || !strings.Contains(p.Body, "sample.create_aliquot") {
		t.Error("the history does not include the parent's collection and the aliquot's creation")
	}
}

func TestSamplePage_EndAndHold(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, serumTube)
	blood, serum := ids[0], ids[1]
	a.mustReceive(t, "technician", blood)
	tech := a.signedIn(t, "technician")
	manager := a.signedIn(t, "manager")
	page := "/samples/" + serum

	p := tech.get(t, page).wantStatus(t, http.StatusOK)
	if got := strings.TrimSpace(p.wantTestID(t, "sample-accession").Text()); got != serum {
		t.Errorf("accession %q", got)
	}
	p.wantTestID(t, "end-form")
	if p.testid("hold-form").Length() > 0 {
		t.Error("a technician is offered the hold form")
	}
	if p := a.signedIn(t, "nurse").get(t, page).wantStatus(t, http.StatusOK); p.testid("end-form").Length() > 0 {
		t.Error("a nurse is offered the end form")
	}

	// No reason: refused beside the end form's reason field, nothing written.
	before := a.state(t)
	p = tech.submit(t, page, page+"/end", url.Values{"action": {"destroy"}, "reason": {" "}}).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.Doc.Find("#e-f-end-reason").Text(); msg == "" {
		t.Error("no message beside f-end-reason")
	}
	if d, _ := p.Doc.Find("#f-end-reason").Attr("aria-describedby"); d != "e-f-end-reason" {
		t.Errorf("f-end-reason described by %q", d)
	}
	if got := p.inputValue(t, "action"); got != "destroy" {
		t.Errorf("action came back as %q", got)
	}
	p = tech.submit(t, page, page+"/end", url.Values{"action": {"evaporate"}, "reason": {"gone"}}).wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-action")

	// Holds are the manager's.
	p = tech.submit(t, page, "/samples/"+blood+"/hold", url.Values{"on": {"true"}, "reason": {"haemolysed"}}).wantStatus(t, http.StatusForbidden)
	p.wantTestID(t, "error-403")
	p = manager.submit(t, "/samples/"+blood, "/samples/"+blood+"/hold", url.Values{"on": {"true"}, "reason": {""}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "hold-form")
	if msg := p.Doc.Find("#e-f-hold-reason").Text(); msg == "" {
		t.Error("no message beside the hold reason")
	}
	a.assertUnchanged(t, before)

	manager.submit(t, "/samples/"+blood, "/samples/"+blood+"/hold", url.Values{"on": {"true"}, "reason": {"haemolysed"}}).
		wantRedirect(t, "/samples/"+blood)
	p = manager.get(t, "/samples/"+blood).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "hold-reason").Text(); !strings.Contains(msg, "haemolysed") {
		t.Errorf("hold reason %q", msg)
	}
	p.wantTestID(t, "sample-hold")
	a.wantEvent(t, "sample", blood, "sample.quarantine", "manager")
	// A held tube is not aliquoted.
	before = a.state(t)
	p = tech.submit(t, "/samples/"+blood+"/aliquot", "/samples/"+blood+"/aliquot",
		url.Values{"count": {"1"}, "volume": {"0.5"}, "unit": {"mL"}, "specimen_type": {"plasma"}}).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "form-error").Text(); !strings.Contains(msg, "on hold") {
		t.Errorf("refusal %q", msg)
	}
	a.assertUnchanged(t, before)
	manager.submit(t, "/samples/"+blood, "/samples/"+blood+"/hold", url.Values{"on": {"false"}, "reason": {"re-tested, fine"}}).
		wantRedirect(t, "/samples/"+blood)
	p = manager.get(t, "/samples/"+blood).wantStatus(t, http.StatusOK)
	if p.testid("hold-reason").Length() > 0 || p.testid("sample-hold").Length() > 0 {
		t.Error("still shown on hold after the release")
	}

	// Destroyed, with a reason: the page shows the status and offers no more actions.
	tech.submit(t, page, page+"/end", url.Values{"action": {"destroy"}, "reason": {"tube cracked"}}).wantRedirect(t, page)
	p = tech.get(t, page).wantStatus(t, http.StatusOK)
	if got := p.wantTestID(t, "sample-status").First().Text(); got != "destroyed" {
		t.Errorf("status %q, want destroyed", got)
	}
	if p.testid("end-form").Length() > 0 || p.testid("processing-link").Length() > 0 {
		t.Error("a destroyed sample still offers actions")
	}
	if ev := a.wantEvent(t, "sample", serum, "sample.destroy", "technician"); ev.Reason != "tube cracked" {
		t.Errorf("audited reason %q", ev.Reason)
	}
	// Again, by a form left open in another tab: refused with the status.
	before = a.state(t)
	p = tech.post(t, page+"/end", url.Values{"action": {"destroy"}, "reason": {"again"}, "_csrf": {tech.csrf(t, "/samples/"+blood)}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "form-error").Text(); !strings.Contains(msg, "destroyed") {
		t.Errorf("refusal %q", msg)
	}
	a.assertUnchanged(t, before)
}

func TestConsentActionsPage_ManagerDecides(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, consentID := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, serumTube)
	blood, serum := ids[0], ids[1]
	a.mustReceive(t, "technician", blood)
	kids := a.mustAliquot(t, "technician", blood, 2, "0.5", "plasma")
	manager := a.signedIn(t, "manager")

	manager.get(t, "/consent-actions").wantStatus(t, http.StatusOK).wantTestID(t, "consent-actions-empty")
	a.mustWithdraw(t, "nurse", pseudonym, consentID, "genetic")

	p := manager.get(t, "/consent-actions").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "consent-actions")
	rows := texts(p, "sample-row")
	if len(rows) != 4 {
		t.Fatalf("%d samples await a decision, want 4: %v", len(rows), rows)
	}
	for _, id := range []string{blood, serum, kids[0], kids[1]} {
		if !strings.Contains(strings.Join(rows, "\n"), id) {
			t.Errorf("%s is not listed", id)
		}
	}
	for _, who := range []string{"nurse", "technician"} {
		a.signedIn(t, who).get(t, "/consent-actions").wantStatus(t, http.StatusForbidden).wantTestID(t, "error-403")
	}

	// The sample page offers the decision, not the quality hold.
	p = manager.get(t, "/samples/"+serum).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "decision-form")
	if p.testid("hold-form").Length() > 0 {
		t.Error("a consent-held sample offers the quality hold form")
	}
	if msg := p.wantTestID(t, "hold-reason").Text(); !strings.Contains(msg, "consent withdrawn") {
		t.Errorf("hold reason %q", msg)
	}

	tech, nurse := a.signedIn(t, "technician"), a.signedIn(t, "nurse")
	before := a.state(t)
	p = manager.submit(t, "/samples/"+serum, "/samples/"+serum+"/decision", url.Values{"decision": {"destroy"}, "reason": {""}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "decision-form")
	p.wantTestID(t, "error-reason")
	tech.submit(t, "/", "/samples/"+serum+"/decision", url.Values{"decision": {"destroy"}, "reason": {"x"}}).
		wantStatus(t, http.StatusForbidden)
	nurse.submit(t, "/", "/samples/"+serum+"/decision", url.Values{"decision": {"destroy"}, "reason": {"x"}}).
		wantStatus(t, http.StatusForbidden)
	a.assertUnchanged(t, before)

	manager.submit(t, "/samples/"+serum, "/samples/"+serum+"/decision", url.Values{"decision": {"destroy"}, "reason": {"committee decision"}}).
		wantRedirect(t, "/samples/"+serum)
	manager.submit(t, "/samples/"+kids[0], "/samples/"+kids[0]+"/decision", url.Values{"decision": {"keep"}, "reason": {"storage still granted"}}).
		wantRedirect(t, "/samples/"+kids[0])
	if smp := a.mustSample(t, serum); smp.Status != sample.Destroyed {
		t.Errorf("%s is %s after destroy", serum, smp.Status)
	}
	if smp := a.mustSample(t, kids[0]); smp.Hold || smp.Status != sample.Received {
		t.Errorf("%s after keep: hold %v, %s", kids[0], smp.Hold, smp.Status)
	}
	a.wantEvent(t, "sample", kids[0], "sample.consent_decision", "manager")
	rows = texts(manager.get(t, "/consent-actions").wantStatus(t, http.StatusOK), "sample-row")
	if len(rows) != 2 || strings.Contains(strings.Join(rows, "\n"), serum) || strings.Contains(strings.Join(rows, "\n"), kids[0]) {
		t.Errorf("after two decisions the list holds %v", rows)
	}
}

func TestScan_FindsSamples(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	labelled := bloodTube
	labelled.TubeBarcode = "FX00055555"
	acc := a.mustCollect(t, "nurse", pseudonym, labelled)[0]
	kielP, _ := a.mustReadyParticipant(t, "nurse-kiel")
	kiel := a.mustCollect(t, "nurse-kiel", kielP, serumTube)[0]
	nurse := a.signedIn(t, "nurse")

	// What scanners send: a trailing CR, LF or tab, an AIM symbology identifier in front.
	for _, q := range []string{acc, " " + strings.ToLower(acc) + "  ", strings.ToLower(acc[:4] + " " + acc[4:8] + " " + acc[8:]), "FX00055555",
		acc + "\r\n", acc + "\t", "]d2" + acc, "]C1FX00055555\r", "]Q1" + strings.ToLower(acc)} {
		nurse.get(t, "/scan?q="+url.QueryEscape(q)).wantRedirect(t, "/samples/"+acc)
	}
	// A sample's address in lower case leads to the canonical page.
	nurse.get(t, "/samples/"+strings.ToLower(acc)).wantRedirect(t, "/samples/"+acc)
	nurse.get(t, "/samples/FX00055555").wantRedirect(t, "/samples/"+acc)

	wrong := strings.ToLower(misreadAccession(t, acc))
	p := nurse.get(t, "/scan?q="+url.QueryEscape(wrong)).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, acc) || !strings.Contains(msg, "check character") {
		t.Errorf("scan result %q does not suggest %s", msg, acc)
	}
	if got, _ := p.wantTestID(t, "scan-input").Attr("value"); got != wrong {
		t.Errorf("scan box holds %q", got)
	}

	p = nurse.get(t, "/scan?q="+kiel).wantStatus(t, http.StatusForbidden)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, "another site") {
		t.Errorf("scan result %q", msg)
	}
	p.wantNoGoError(t)
	a.signedIn(t, "manager").get(t, "/scan?q="+kiel).wantRedirect(t, "/samples/"+kiel)

	unknown, err := sample.Accession(sample.DefaultPrefix, 99999)
	if err != nil {
		t.Fatal(err)
	}
	p = nurse.get(t, "/scan?q="+unknown).wantStatus(t, http.StatusNotFound)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, unknown) {
		t.Errorf("scan result %q does not echo %s", msg, unknown)
	}
	// Pseudonyms are still found.
	nurse.get(t, "/scan?q="+pseudonym).wantRedirect(t, "/participants/"+pseudonym)
}

func TestSamplesPage_FiltersAndPages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, serumTube, serumTube)
	a.mustReceive(t, "technician", ids[0])
	tech := a.signedIn(t, "technician")

	p := tech.get(t, "/samples").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "sample-filter")
	p.wantTestID(t, "receive-link")
	if n := p.testid("sample-row").Length(); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
	p = tech.get(t, "/samples?status=received").wantStatus(t, http.StatusOK)
	if rows := texts(p, "sample-row"); len(rows) != 1 || !strings.Contains(rows[0], ids[0]) {
		t.Errorf("received: %v", rows)
	}
	if got := p.inputValue(t, "status"); got != "received" {
		t.Errorf("status filter shows %q", got)
	}
	tech.get(t, "/samples?specimen_type=plasma").wantStatus(t, http.StatusOK).wantTestID(t, "samples-empty")
	tech.get(t, "/samples?status=gone").wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "error-status")

	// Pages of one, newest first, linked on.
	var seen []string
	next := "/samples?limit=1"
	for range 4 {
		p = tech.get(t, next).wantStatus(t, http.StatusOK)
		seen = append(seen, texts(p, "sample-row")...)
		link, ok := p.testid("samples-next").Attr("href")
		if !ok {
			break
		}
		next = link
	}
	if len(seen) != 3 || !strings.Contains(seen[0], ids[2]) || !strings.Contains(seen[2], ids[0]) {
		t.Errorf("paged rows %v", seen)
	}
	if a.signedIn(t, "nurse").get(t, "/samples").wantStatus(t, http.StatusOK).testid("receive-link").Length() > 0 {
		t.Error("a nurse is offered the receive page")
	}
	if n := a.signedIn(t, "nurse-kiel").get(t, "/samples").wantStatus(t, http.StatusOK).testid("sample-row").Length(); n != 0 {
		t.Errorf("another site's nurse sees %d of LUX's samples", n)
	}
}

// TestRoleMatrix_SamplePages checks every sample page and form for every role: who gets
// the page (or, for a form post, a refusal of what was entered, which shows the form was
// reached) and who gets the friendly 403 page; no post writes anything.
func TestRoleMatrix_SamplePages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	smp := "/samples/" + blood

	all := auth.Roles
	lab := []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleTechnician}
	managers := []auth.Role{auth.RoleAdmin, auth.RoleManager}
	routes := []struct {
		method, path string
		form         url.Values
		ok           int
		roles        []auth.Role
	}{
		{"GET", "/samples", nil, 200, all},
		{"GET", smp, nil, 200, all},
		{"GET", "/samples/receive", nil, 200, lab},
		{"GET", smp + "/processing", nil, 200, lab},
		{"GET", smp + "/aliquot", nil, 200, lab},
		{"GET", "/consent-actions", nil, 200, managers},
		{"GET", collectURL(pseudonym), nil, 200, all},
		{"POST", collectURL(pseudonym), url.Values{"collected_at": {collectedAt().Format(datetimeLocal)}}, 422, all},
		{"POST", "/samples/receive", url.Values{"code": {blood}}, 200, lab}, // a repeat scan: changes nothing
		{"POST", smp + "/undo-receive", url.Values{"reason": {""}}, 422, lab},
		{"POST", smp + "/processing", url.Values{"frozen_at": {"2000-01-01T00:00"}}, 422, lab},
		{"POST", smp + "/aliquot", url.Values{"count": {"0"}, "volume": {"0.5"}}, 422, lab},
		{"POST", smp + "/end", url.Values{"action": {"destroy"}, "reason": {""}}, 422, lab},
		{"POST", smp + "/hold", url.Values{"on": {"true"}, "reason": {""}}, 422, managers},
		{"POST", smp + "/decision", url.Values{"decision": {"keep"}, "reason": {""}}, 422, managers},
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			c := a.signedIn(t, string(role))
			for _, rt := range routes {
				before := a.state(t)
				var p *page
				if rt.method == "GET" {
					p = c.get(t, rt.path)
				} else {
					p = c.submit(t, "/", rt.path, rt.form)
				}
				if !slices.Contains(rt.roles, role) {
					if p.StatusCode != http.StatusForbidden {
						t.Errorf("%s %s as %s: status %d, want 403", rt.method, rt.path, role, p.StatusCode)
					} else {
						p.wantTestID(t, "error-403")
					}
				} else if p.StatusCode != rt.ok {
					t.Errorf("%s %s as %s: status %d, want %d\n%s", rt.method, rt.path, role, p.StatusCode, rt.ok, excerpt(p.Body))
				}
				p.wantNoGoError(t)
				if rt.method == "POST" {
					a.assertUnchanged(t, before)
				}
			}
		})
	}
	for _, path := range []string{"/samples", smp, "/samples/receive", smp + "/processing", smp + "/aliquot", "/consent-actions", collectURL(pseudonym)} {
		a.newClient(t).get(t, path).wantRedirect(t, "/login?next="+url.QueryEscape(path))
	}
}
