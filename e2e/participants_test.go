package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"biobank/internal/checkcode"
)

// ibdBaseline is the IBD baseline visit as the JSON API takes it (study.VisitInput): day 0,
// up to 14 days late, EDTA whole blood in 6 aliquots and a stool sample.
var ibdBaseline = map[string]any{
	"code": "BASELINE", "name": "Baseline", "day_offset": 0, "window_before": 0, "window_after": 14,
	"requirements": []map[string]any{
		{"specimen_type": "whole_blood", "container": "PED", "volume": 9, "unit": "mL",
			"aliquots": 6, "aliquot_volume": 0.5, "storage_temperature": "-80"},
		{"specimen_type": "stool", "container": "STL", "volume": 2000, "unit": "mg", "storage_temperature": "-80"},
	},
}

// setUpIBD creates study IBD with its BASELINE visit through the JSON API as the admin,
// and returns the admin's token.
func setUpIBD(t *testing.T, a *app) string {
	t.Helper()
	token := a.apiToken(t, adminUser)
	a.createStudy(t, token, "IBD", "Inflammatory bowel disease cohort", ibdBaseline)
	return token
}

// today is the date the server takes as today (it counts in UTC), as a date input wants it.
func today() string { return time.Now().UTC().Format("2006-01-02") }

// mistype changes the third symbol of a pseudonym to another symbol of the alphabet: one
// substitution, which the check characters always catch.
func mistype(t *testing.T, pseudonym string) string {
	t.Helper()
	i := strings.IndexByte(checkcode.Alphabet, pseudonym[2])
	if i < 0 {
		t.Fatalf("pseudonym %q has %q outside the alphabet", pseudonym, pseudonym[2])
	}
	wrong := pseudonym[:2] + string(checkcode.Alphabet[(i+7)%len(checkcode.Alphabet)]) + pseudonym[3:]
	if checkcode.ValidPID(wrong) {
		t.Fatalf("the mistyped %q passes the check: the test would prove nothing", wrong)
	}
	return wrong
}

// scan types code into the header scan box as a barcode reader does, Enter at the end,
// and returns the HTTP status of the page that comes back.
func scan(t *testing.T, ctx context.Context, code string) int64 {
	t.Helper()
	return submit(t, ctx, "scan "+code,
		clearInput("scan-q"),
		chromedp.SendKeys(chromedp.ID("scan-q"), code+kb.Enter),
	)
}

// rowsText is the visible text of every element matching css.
func rowsText(t *testing.T, ctx context.Context, css string) []string {
	t.Helper()
	sel := fmt.Sprintf("%q", css)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+sel+`), el => el.innerText.trim())`))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return rows
}

// visibleTexts is the text of every element matching css that a person can see: inside
// a folded <details> or hidden by CSS it does not count.
func visibleTexts(t *testing.T, ctx context.Context, css string) []string {
	t.Helper()
	sel := fmt.Sprintf("%q", css)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+sel+`)).filter(el => el.checkVisibility()).map(el => el.innerText.trim())`))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return got
}

func TestNurse_EnrolsConsentsOpensBaselineVisit(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	setUpIBD(t, a)
	ctx := newBrowser(t)

	// The admin adds consent version 1.0 on the study page, which already shows the
	// baseline visit set up through the API.
	signIn(t, ctx, a.URL, adminUser, adminPassword)
	visit(t, ctx, a.URL+"/studies/IBD")
	if rows := rowsText(t, ctx, `[data-testid="visit-BASELINE"] [data-testid="requirement-row"]`); len(rows) != 2 {
		t.Fatalf("the study page lists %d specimens for BASELINE, want 2: %q", len(rows), rows)
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.ID("f-version"), "1.0")}
	for _, tier := range []string{"storage", "genetic", "sharing", "recontact"} {
		steps = append(steps, chromedp.Click(chromedp.CSS(`[data-testid="document-form"] [data-testid="tiers-`+tier+`"]`)))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(`[data-testid="document-form"] button[type="submit"]`)))
	if status := submit(t, ctx, "add consent version 1.0", steps...); status != http.StatusOK {
		t.Fatalf("add consent version 1.0: status %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); got != a.URL+"/studies/IBD" {
		t.Errorf("after adding a consent version the browser is at %s, want the study page", got)
	}
	doc := text(t, ctx, "document-1.0")
	for _, want := range []string{"Storage and research use", "Genetic analysis", "Sharing with partner sites", "Re-contact", "in use"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the row of consent version 1.0 reads %q, want it to include %q", doc, want)
		}
	}

	// The nurse, at her own PC: Participants → Enrol a participant, IBD, no pseudonym.
	nurse := newIncognito(t, ctx)
	signIn(t, nurse, a.URL, nurseUser, nursePassword)
	submit(t, nurse, "open Participants", chromedp.Click(chromedp.CSS(`nav a[href="/participants"]`)))
	submit(t, nurse, "follow Enrol a participant", chromedp.Click(testID("enrol-link")))
	if got := location(t, nurse); got != a.URL+"/participants/new" {
		t.Fatalf("Enrol a participant led to %s, want %s/participants/new", got, a.URL)
	}
	status := submit(t, nurse, "enrol in IBD",
		chromedp.SetValue(chromedp.ID("f-study"), "IBD"),
		chromedp.Click(testID("enrol-submit")),
	)
	if status != http.StatusOK {
		t.Fatalf("enrol: status %d%s", status, pageState(nurse))
	}
	pseudonym := text(t, nurse, "participant-pseudonym")
	if len(pseudonym) != 8 || !checkcode.ValidPID(pseudonym) {
		t.Fatalf("generated pseudonym %q: want 8 symbols with valid check characters", pseudonym)
	}
	participantURL := a.URL + "/participants/" + pseudonym
	if got := location(t, nurse); got != participantURL {
		t.Errorf("after enrolling the browser is at %s, want %s", got, participantURL)
	}
	if got := text(t, nurse, "flash-success"); !strings.Contains(got, pseudonym) {
		t.Errorf("the flash after enrolling reads %q, want it to give the pseudonym %s", got, pseudonym)
	}
	if got := text(t, nurse, "consent-status-IBD"); got != "no consent recorded" {
		t.Errorf("consent status before any consent = %q, want %q", got, "no consent recorded")
	}

	// Consent version 1.0, signed today, storage and sharing only.
	status = submit(t, nurse, "record consent",
		chromedp.SetValue(chromedp.ID("f-document"), "IBD|1.0"),
		chromedp.SetValue(chromedp.ID("f-signed_on"), today()),
		chromedp.Click(chromedp.CSS(`[data-testid="consent-form"] [data-testid="tiers-storage"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="consent-form"] [data-testid="tiers-sharing"]`)),
		chromedp.Click(testID("consent-submit")),
	)
	if status != http.StatusOK {
		t.Fatalf("record consent: status %d%s", status, pageState(nurse))
	}
	if got := text(t, nurse, "consent-status-IBD"); got != "active" {
		t.Errorf("consent status = %q, want %q", got, "active")
	}
	tiers := text(t, nurse, "consent-tiers-IBD")
	for _, want := range []string{"Storage and research use", "Sharing with partner sites"} {
		if !strings.Contains(tiers, want) {
			t.Errorf("tiers in force read %q, want %q among them", tiers, want)
		}
	}
	for _, not := range []string{"Genetic analysis", "Re-contact"} {
		if strings.Contains(tiers, not) {
			t.Errorf("tiers in force read %q, but %q was not granted", tiers, not)
		}
	}

	// The baseline visit, today: inside its window, so no reason is needed.
	status = submit(t, nurse, "open the baseline visit",
		chromedp.SetValue(chromedp.ID("f-visit"), "IBD|BASELINE"),
		chromedp.SetValue(chromedp.ID("f-date"), today()),
		chromedp.Click(testID("visit-submit")),
	)
	if status != http.StatusOK {
		t.Fatalf("open the baseline visit: status %d%s", status, pageState(nurse))
	}
	if card := text(t, nurse, "visit-BASELINE"); !strings.Contains(card, today()) || strings.Contains(card, "outside window") {
		t.Errorf("the baseline visit reads %q, want it dated %s and inside its window", card, today())
	}
	rows := rowsText(t, nurse, `[data-testid="visit-BASELINE"] [data-testid="requirement-row"]`)
	if len(rows) != 2 {
		t.Fatalf("the baseline visit expects %d specimens, want 2: %q%s", len(rows), rows, pageState(nurse))
	}
	for i, want := range [][]string{{"whole_blood", "PED", "9 mL", "6 × 0.5 mL"}, {"stool", "STL", "2000 mg"}} {
		for _, w := range want {
			if !strings.Contains(rows[i], w) {
				t.Errorf("expected specimen %d reads %q, want it to include %q", i+1, rows[i], w)
			}
		}
	}

	// A mistyped pseudonym in the header scan box: caught by the check characters, the
	// right one suggested, and the browser stays on the scan page.
	wrong := mistype(t, pseudonym)
	if status := scan(t, nurse, wrong); status != http.StatusUnprocessableEntity {
		t.Errorf("scanning the mistyped %s: status %d, want %d", wrong, status, http.StatusUnprocessableEntity)
	}
	if got := location(t, nurse); !strings.HasPrefix(got, a.URL+"/scan?") {
		t.Errorf("after scanning a mistyped pseudonym the browser is at %s, want the scan page", got)
	}
	msg := text(t, nurse, "scan-result")
	if !strings.Contains(msg, "wrong check character") || !strings.Contains(msg, "Did you mean") || !strings.Contains(msg, pseudonym) {
		t.Errorf("scan message = %q, want it to say the check character is wrong and suggest %s", msg, pseudonym)
	}
	if got := value(t, nurse, "scan-q"); got != wrong {
		t.Errorf("the scan box holds %q after the refused scan, want %q", got, wrong)
	}

	// The right pseudonym, typed in lower case, goes straight to the participant.
	if status := scan(t, nurse, strings.ToLower(pseudonym)); status != http.StatusOK {
		t.Errorf("scanning %s in lower case: status %d, want 200", pseudonym, status)
	}
	if got := location(t, nurse); got != participantURL {
		t.Errorf("after scanning %s in lower case the browser is at %s, want %s", pseudonym, got, participantURL)
	}
	if got := text(t, nurse, "participant-pseudonym"); got != pseudonym {
		t.Errorf("the page shows participant %q, want %s", got, pseudonym)
	}
}

func TestNurse_WithdrawalAndOtherSiteRefused(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminToken := setUpIBD(t, a)
	a.addConsentDocument(t, adminToken, "IBD", "1.0", "storage", "genetic", "sharing", "recontact")

	// Enrolment and consent are the previous journey; here the nurse's script does them.
	nurseToken := a.apiToken(t, nurseUser)
	var enrolled struct {
		Pseudonym string `json:"pseudonym"`
	}
	a.apiWant(t, nurseToken, "POST", "/api/v1/participants", map[string]any{"study": "IBD"}, http.StatusCreated, &enrolled)
	pseudonym := enrolled.Pseudonym
	var recorded struct {
		ID int64 `json:"id"`
	}
	a.apiWant(t, nurseToken, "POST", "/api/v1/participants/"+pseudonym+"/consents",
		map[string]any{"study": "IBD", "version": "1.0", "signed_on": today(), "tiers": []string{"storage", "genetic", "sharing"}},
		http.StatusCreated, &recorded)

	ctx := newBrowser(t)
	dialogs := acceptDialogs(t, ctx)
	signIn(t, ctx, a.URL, nurseUser, nursePassword)
	participantURL := a.URL + "/participants/" + pseudonym
	visit(t, ctx, participantURL)
	if got := text(t, ctx, "consent-status-IBD"); got != "active" {
		t.Fatalf("consent status before the withdrawal = %q, want active", got)
	}

	// The participant withdraws from genetic analysis. The form is folded away in a
	// <details>: unfold it, tick the tier, give the reason, confirm.
	card := fmt.Sprintf(`[data-testid="consent-%d"]`, recorded.ID)
	form := fmt.Sprintf(`[data-testid="withdraw-form-%d"]`, recorded.ID)
	reason := "Participant called: no genetic analysis"
	do(t, ctx, "unfold the withdrawal form",
		chromedp.Click(chromedp.CSS(card+" details > summary")),
		chromedp.WaitVisible(chromedp.CSS(form)),
	)
	// First without a reason (the browser would insist on the required field: take the
	// attribute away to hear the server). It is refused, and the form comes back unfolded
	// with the message beside the reason and the tier still ticked.
	status := submit(t, ctx, "record a withdrawal without a reason",
		chromedp.Click(chromedp.CSS(form+` [data-testid="tiers-genetic"]`)),
		chromedp.RemoveAttribute(chromedp.CSS(form+` input[name="reason"]`), "required"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
	)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("a withdrawal without a reason: status %d, want %d", status, http.StatusUnprocessableEntity)
	}
	refused := visibleTexts(t, ctx, card+` [data-testid="error-reason"]`)
	if len(refused) != 1 || !strings.Contains(strings.ToLower(refused[0]), "reason") {
		t.Fatalf("visible messages beside the withdrawal's reason = %q, want one asking for the reason "+
			"(a refused withdrawal must come back unfolded)%s", refused, pageState(ctx))
	}
	if got := rowsText(t, ctx, form+` input[name="tiers"]:checked`); len(got) != 1 {
		t.Errorf("the refused withdrawal form has %d tiers ticked, want the one ticked before", len(got))
	} else if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(form+` input[name="tiers"]:checked`))); v != "genetic" {
		t.Errorf("the refused withdrawal form has %q ticked, want genetic", v)
	}
	if got := text(t, ctx, "consent-status-IBD"); got != "active" {
		t.Errorf("consent status after the refused withdrawal = %q, want it still active", got)
	}
	if got := dialogs(); len(got) != 1 || !strings.Contains(got[0], "withdrawal") {
		t.Errorf("confirmation dialogs = %q, want one asking to confirm the withdrawal", got)
	}

	// Now with the reason, on the form as it came back.
	status = submit(t, ctx, "record the withdrawal",
		chromedp.SendKeys(chromedp.CSS(form+` input[name="reason"]`), reason),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
	)
	if status != http.StatusOK {
		t.Fatalf("record the withdrawal: status %d%s", status, pageState(ctx))
	}
	if got := dialogs(); len(got) != 2 {
		t.Errorf("confirmation dialogs = %q, want one for each of the two withdrawals submitted", got)
	}
	if got := location(t, ctx); got != participantURL {
		t.Errorf("after the withdrawal the browser is at %s, want %s", got, participantURL)
	}
	if got := text(t, ctx, "consent-status-IBD"); got != "partially withdrawn" {
		t.Errorf("consent status after withdrawing one tier = %q, want %q", got, "partially withdrawn")
	}
	if got := text(t, ctx, "consent-tiers-IBD"); strings.Contains(got, "Genetic analysis") ||
		!strings.Contains(got, "Storage and research use") || !strings.Contains(got, "Sharing with partner sites") {
		t.Errorf("tiers in force after withdrawing genetic analysis read %q", got)
	}
	if got := text(t, ctx, fmt.Sprintf("consent-%d", recorded.ID)); !strings.Contains(got, reason) {
		t.Errorf("the consent history reads %q, want the withdrawal with its reason %q", got, reason)
	}

	// A nurse of another site.
	a.cli(t, "", "site", "create", "--code", "DE-KIEL", "--name", "Kiel University Hospital", "--country", "DE")
	a.createUser(t, "klara", "nurse", "DE-KIEL", "klara-pass-1234")
	kiel := newIncognito(t, ctx)
	signIn(t, kiel, a.URL, "klara", "klara-pass-1234")
	if status := scan(t, kiel, pseudonym); status != http.StatusForbidden {
		t.Errorf("the Kiel nurse scanning %s: status %d, want %d", pseudonym, status, http.StatusForbidden)
	}
	if got := location(t, kiel); !strings.HasPrefix(got, a.URL+"/scan?") {
		t.Errorf("after the Kiel nurse's scan the browser is at %s, want the scan page", got)
	}
	if got := text(t, kiel, "scan-result"); !strings.Contains(got, "another site") {
		t.Errorf("the Kiel nurse's scan says %q, want it to say the participant belongs to another site", got)
	}
	if status := visitStatus(t, kiel, participantURL); status != http.StatusForbidden {
		t.Errorf("the Kiel nurse opening %s: status %d, want %d", participantURL, status, http.StatusForbidden)
	}
	if !exists(t, kiel, `[data-testid="error-403"]`) {
		t.Errorf("the Kiel nurse does not get the 403 page%s", pageState(kiel))
	}
	if exists(t, kiel, `[data-testid="consent-status-IBD"]`) || exists(t, kiel, `[data-testid="participant-pseudonym"]`) {
		t.Errorf("the 403 page shows the participant's data%s", pageState(kiel))
	}
}

func TestNurse_FormKeepsValuesOnError(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminToken := setUpIBD(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, nurseUser, nursePassword)

	// A pseudonym from the trusted third party's letter, one symbol mistyped.
	right, err := checkcode.AppendPID("K3X7Q2")
	if err != nil {
		t.Fatal(err)
	}
	wrong := mistype(t, right)
	visit(t, ctx, a.URL+"/participants/new")
	status := submit(t, ctx, "enrol with a mistyped pseudonym",
		chromedp.SetValue(chromedp.ID("f-study"), "IBD"),
		chromedp.SendKeys(chromedp.ID("f-pseudonym"), wrong),
		chromedp.SetValue(chromedp.ID("f-sex"), "female"),
		chromedp.SendKeys(chromedp.ID("f-birth_year"), "1975"),
		chromedp.Click(testID("enrol-submit")),
	)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("enrol with the mistyped %s: status %d, want %d", wrong, status, http.StatusUnprocessableEntity)
	}
	if got := location(t, ctx); got != a.URL+"/participants" {
		t.Errorf("after the refused enrolment the browser is at %s, want the form back at %s/participants", got, a.URL)
	}
	msg := text(t, ctx, "error-pseudonym")
	if !strings.Contains(msg, "wrong check character") || !strings.Contains(msg, right) {
		t.Errorf("message beside the pseudonym = %q, want it to say the check character is wrong and suggest %s", msg, right)
	}
	for id, want := range map[string]string{"f-pseudonym": wrong, "f-study": "IBD", "f-sex": "female", "f-birth_year": "1975"} {
		if got := value(t, ctx, id); got != want {
			t.Errorf("refused form: #%s = %q, want what was entered, %q", id, got, want)
		}
	}

	// Nothing was enrolled: neither the typed pseudonym nor its correction exists, and the
	// participants list has nobody.
	visit(t, ctx, a.URL+"/participants")
	if !exists(t, ctx, `[data-testid="consents-empty"]`) || exists(t, ctx, `[data-testid="consent-row"]`) {
		t.Errorf("the participants list is not empty after a refused enrolment%s", pageState(ctx))
	}
	if status, body := a.api(t, adminToken, "GET", "/api/v1/participants/"+url.PathEscape(right), nil); status != http.StatusNotFound {
		t.Errorf("GET participant %s after the refused enrolment: status %d, want 404\n%s", right, status, body)
	}
	var list struct {
		Consents []any `json:"consents"`
	}
	a.apiWant(t, adminToken, "GET", "/api/v1/consents", nil, http.StatusOK, &list)
	if len(list.Consents) != 0 {
		t.Errorf("GET /api/v1/consents lists %d consents, want none", len(list.Consents))
	}
}
