package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"biobank/internal/checkcode"
)

// accessionPattern finds this instance's accession IDs (prefix AC, 8 digits, 2 check
// symbols) in a text.
var accessionPattern = regexp.MustCompile(`\bAC[0-9]{8}[` + checkcode.Alphabet + `]{2}\b`)

// byID selects the element with that id. The collection form's ids hold brackets and
// dots ("f-tubes[0].volume"), which chromedp.ID would read as CSS (#f-tubes[0].volume).
func byID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[id=%q]", id)) }

// fieldValue is the current value of the input or select with that id.
func fieldValue(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Value(byID(id)))
	if err != nil {
		t.Fatalf("value of [id=%q]: %v%s", id, err, pageState(ctx))
	}
	return s
}

// checked reports whether the element matching css is a ticked checkbox.
func checked(t *testing.T, ctx context.Context, css string) bool {
	t.Helper()
	sel := fmt.Sprintf("%q", css)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(el => !!el && el.checked)(document.querySelector(`+sel+`))`))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return ok
}

// count is how many elements match css.
func count(t *testing.T, ctx context.Context, css string) int {
	t.Helper()
	return len(rowsText(t, ctx, css))
}

// waitFocus waits up to 5 s for the element with that id to have the keyboard focus
// (autofocus applies once the page has loaded) and fails the test otherwise.
func waitFocus(t *testing.T, ctx context.Context, id, when string) {
	t.Helper()
	js := fmt.Sprintf(`document.activeElement !== null && document.activeElement.id === %q`, id)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("%s the focus is on %q, want #%s: the next scan would land elsewhere (%v)%s",
			when, activeID(t, ctx), id, err, pageState(ctx))
	}
}

// receiveScan scans code on the receive page as a barcode reader does: it types into
// whatever has the focus, which must be the scan field, and ends with Enter. It returns
// the HTTP status of the page that comes back.
func receiveScan(t *testing.T, ctx context.Context, code string) int64 {
	t.Helper()
	waitFocus(t, ctx, "receive-code", "before scanning "+code)
	return submit(t, ctx, "receive "+code, chromedp.KeyEvent(code), chromedp.KeyEvent(kb.Enter))
}

// collectTubes registers tubes of the opened baseline visit through the JSON API as the
// nurse (token) and returns their accession IDs in order.
func collectTubes(t *testing.T, a *app, v openedVisit, collectedAt time.Time, tubes ...map[string]any) []string {
	t.Helper()
	var out struct {
		Samples []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"samples"`
	}
	a.apiWant(t, v.NurseToken, "POST", "/api/v1/samples", map[string]any{"participant": v.Pseudonym, "study": v.Study,
		"visit": "BASELINE", "collected_at": collectedAt.Format(time.RFC3339), "tubes": tubes}, http.StatusCreated, &out)
	if len(out.Samples) != len(tubes) {
		t.Fatalf("e2e: registering %d tubes gave %d samples", len(tubes), len(out.Samples))
	}
	ids := make([]string, len(out.Samples))
	for i, s := range out.Samples {
		if s.Status != "collected" || !checkcode.Valid(s.ID) {
			t.Fatalf("e2e: registered tube %d is %q with status %q", i, s.ID, s.Status)
		}
		ids[i] = s.ID
	}
	return ids
}

// edtaTube is the EDTA blood tube of bloodBaseline as POST /api/v1/samples takes it, with
// the volume actually drawn.
func edtaTube(volume float64, barcode string) map[string]any {
	return map[string]any{"specimen_type": "whole_blood", "container": "PED", "volume": volume, "unit": "mL", "tube_barcode": barcode}
}

func TestNurse_RegistersVisitTubes(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, nurseUser, nursePassword)
	participantURL := a.URL + "/participants/" + v.Pseudonym
	visit(t, ctx, participantURL)
	if !exists(t, ctx, `[data-testid="no-samples"]`) {
		t.Errorf("the participant page lists samples before any tube was registered%s", pageState(ctx))
	}

	status := submit(t, ctx, "follow Register tubes drawn", chromedp.Click(testID("collect-BASELINE")))
	if status != http.StatusOK {
		t.Fatalf("the collection form: status %d%s", status, pageState(ctx))
	}
	if got, want := location(t, ctx), participantURL+"/visits/CRC/BASELINE/collect"; got != want {
		t.Errorf("Register tubes drawn led to %s, want %s", got, want)
	}

	// The visit's requirements come pre-filled: both ticked, planned volumes, now.
	if got := fieldValue(t, ctx, "f-collected_at"); !strings.HasPrefix(got, today()+"T") {
		t.Errorf("collection time pre-filled as %q, want now (%sT…)", got, today())
	}
	for i, want := range []struct{ kind, volume string }{{"Whole blood", "9"}, {"Serum", "7.5"}} {
		row := fmt.Sprintf(`[data-testid="tube-%d"]`, i)
		if got := text(t, ctx, fmt.Sprintf("tube-%d", i)); !strings.Contains(got, want.kind) {
			t.Errorf("tube row %d reads %q, want %q", i, got, want.kind)
		}
		if !checked(t, ctx, row+fmt.Sprintf(` [data-testid="drawn-%d"]`, i)) {
			t.Errorf("tube row %d (%s) is not ticked", i, want.kind)
		}
		if got := fieldValue(t, ctx, fmt.Sprintf("f-tubes[%d].volume", i)); got != want.volume {
			t.Errorf("tube row %d volume pre-filled as %q, want the planned %q", i, got, want.volume)
		}
		if got := fieldValue(t, ctx, fmt.Sprintf("f-tubes[%d].tube_barcode", i)); got != "" {
			t.Errorf("tube row %d barcode pre-filled as %q, want empty", i, got)
		}
	}

	// Only 8.5 mL of EDTA blood came, in a pre-labelled 2D cryovial whose barcode is
	// scanned into the row. A scanner ends with Enter: on this form Enter moves on to the
	// next field instead of submitting, so the nurse submits with the button once she has
	// looked the form over.
	barcode := "FR0042-7731"
	if err := chromedp.Do(ctx,
		clearInput("f-tubes[0].volume"),
		chromedp.SendKeys(byID("f-tubes[0].volume"), "8.5"),
		chromedp.Click(byID("f-tubes[0].tube_barcode")),
		chromedp.KeyEvent(barcode), pressEnter(),
	); err != nil {
		t.Fatalf("scan the tube barcode: %v", err)
	}
	if got := location(t, ctx); got == participantURL {
		t.Fatal("the scanner's Enter submitted the collection form")
	}
	if got := activeID(t, ctx); got != "f-tubes[1].volume" {
		t.Errorf("after the scan the focus is on %q, want the next row's volume", got)
	}
	status = submit(t, ctx, "register the tubes", chromedp.Click(testID("collect-submit")))
	if status != http.StatusOK {
		t.Fatalf("register the tubes: status %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); got != participantURL {
		t.Errorf("after registering the tubes the browser is at %s, want %s", got, participantURL)
	}
	flash := text(t, ctx, "flash-success")
	ids := accessionPattern.FindAllString(flash, -1)
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("the flash reads %q, want it to list 2 accession IDs", flash)
	}
	for _, id := range ids {
		if !checkcode.Valid(id) {
			t.Errorf("accession ID %s in the flash has wrong check characters", id)
		}
	}

	// The participant's Samples table lists both tubes, collected.
	rows := rowsText(t, ctx, `[data-testid="samples-table"] [data-testid="sample-row"]`)
	if len(rows) != 2 {
		t.Fatalf("the participant's Samples table has %d rows, want 2: %q%s", len(rows), rows, pageState(ctx))
	}
	statuses := rowsText(t, ctx, `[data-testid="sample-row"] [data-testid="sample-status"]`)
	for i, s := range statuses {
		if s != "collected" {
			t.Errorf("sample row %d has status %q, want collected", i, s)
		}
	}
	want := map[string][]string{ids[0]: {barcode, "whole_blood", "8.5 mL", "CRC · BASELINE"}, ids[1]: {"serum", "7.5 mL"}}
	for id, parts := range want {
		var row string
		for _, r := range rows {
			if strings.Contains(r, id) {
				row = r
			}
		}
		if row == "" {
			t.Errorf("no row of the Samples table names %s: %q", id, rows)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(row, p) {
				t.Errorf("the row of %s reads %q, want it to include %q", id, row, p)
			}
		}
	}
}

func TestTechnician_ReceivesProcessesAliquotsSeesLineage(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, technicianUser, "technician", siteCode, technicianPassword)
	// Drawn three hours ago, to the minute (the processing form counts in minutes).
	collected := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	barcode := "FR0042-7731"
	ids := collectTubes(t, a, v, collected, edtaTube(8.5, barcode),
		map[string]any{"specimen_type": "serum", "container": "SST", "volume": 7.5, "unit": "mL"})
	blood, serum := ids[0], ids[1]

	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, technicianUser, technicianPassword)
	submit(t, ctx, "open Samples", chromedp.Click(chromedp.CSS(`nav a[href="/samples"]`)))
	submit(t, ctx, "follow Receive tubes", chromedp.Click(testID("receive-link")))
	if got := location(t, ctx); got != a.URL+"/samples/receive" {
		t.Fatalf("Receive tubes led to %s, want %s/samples/receive", got, a.URL)
	}
	received := func() []string {
		return rowsText(t, ctx, `[data-testid="samples-table"] [data-testid="sample-row"]`)
	}

	// The EDTA tube by its 2D barcode.
	if status := receiveScan(t, ctx, barcode); status != http.StatusOK {
		t.Fatalf("receive %s: status %d%s", barcode, status, pageState(ctx))
	}
	if got := text(t, ctx, "receive-ok"); !strings.Contains(got, blood) || !strings.Contains(got, "whole_blood") {
		t.Errorf("after scanning %s the page says %q, want %s received", barcode, got, blood)
	}
	if rows := received(); len(rows) != 1 || !strings.Contains(rows[0], blood) || !strings.Contains(rows[0], v.Pseudonym) {
		t.Errorf("the running list reads %q, want %s of %s", rows, blood, v.Pseudonym)
	}

	// The serum tube by its accession ID, read in lower case.
	if status := receiveScan(t, ctx, strings.ToLower(serum)); status != http.StatusOK {
		t.Fatalf("receive %s in lower case: status %d%s", serum, status, pageState(ctx))
	}
	if got := text(t, ctx, "receive-ok"); !strings.Contains(got, serum) || !strings.Contains(got, "serum") {
		t.Errorf("after scanning %s in lower case the page says %q, want %s received", serum, got, serum)
	}
	rows := received()
	if len(rows) != 2 || !strings.Contains(strings.Join(rows, "\n"), serum) || !strings.Contains(strings.Join(rows, "\n"), blood) {
		t.Errorf("the running list reads %q, want both %s and %s", rows, blood, serum)
	}

	// The EDTA tube again: a warning, nothing changed.
	if status := receiveScan(t, ctx, blood); status != http.StatusOK {
		t.Errorf("scanning %s a second time: status %d, want 200 with a warning", blood, status)
	}
	if got := text(t, ctx, "receive-warning-already_received"); !strings.Contains(got, blood) || !strings.Contains(got, "already received") {
		t.Errorf("the second scan of %s says %q, want it already received", blood, got)
	}
	if exists(t, ctx, `[data-testid="receive-ok"]`) {
		t.Errorf("the second scan of %s reports a fresh receipt%s", blood, pageState(ctx))
	}
	if rows := received(); len(rows) != 2 {
		t.Errorf("after a repeat scan the running list has %d rows, want still 2: %q", len(rows), rows)
	}

	// A misread accession ID: refused by its check characters before anything happens.
	wrong := mistype(t, blood)
	if status := receiveScan(t, ctx, wrong); status != http.StatusUnprocessableEntity {
		t.Errorf("scanning the misread %s: status %d, want %d", wrong, status, http.StatusUnprocessableEntity)
	}
	if got := text(t, ctx, "receive-error"); !strings.Contains(got, wrong) || !strings.Contains(got, "wrong check character") {
		t.Errorf("the misread scan says %q, want it to name %s and its wrong check character", got, wrong)
	}
	if exists(t, ctx, `[data-testid="receive-ok"]`) {
		t.Errorf("the misread scan reports a receipt%s", pageState(ctx))
	}
	waitFocus(t, ctx, "receive-code", "after the refused scan")

	// The EDTA tube's page, by scanning its barcode into the header box.
	if status := scan(t, ctx, barcode); status != http.StatusOK {
		t.Fatalf("scanning %s into the header box: status %d%s", barcode, status, pageState(ctx))
	}
	bloodURL := a.URL + "/samples/" + blood
	if got := location(t, ctx); got != bloodURL {
		t.Fatalf("scanning %s into the header box led to %s, want %s", barcode, got, bloodURL)
	}
	if got := text(t, ctx, "sample-status"); got != "received" {
		t.Errorf("%s has status %q, want received", blood, got)
	}

	// Processing: started 1 h after collection, kept at room temperature; spun 2000 g for
	// 10 min at room temperature with the brake; no second spin; centrifugation ended
	// 15 min later; frozen 30 min after that (kept at room temperature meanwhile) in
	// polypropylene 0.5–2 mL tubes at −80 °C.
	started := collected.Add(time.Hour)
	ended := started.Add(15 * time.Minute)
	frozen := ended.Add(30 * time.Minute)
	const dt = "2006-01-02T15:04"
	submit(t, ctx, "follow Record processing", chromedp.Click(testID("processing-link")))
	status := submit(t, ctx, "record processing",
		chromedp.SetValue(byID("f-started_at"), started.Format(dt)),
		chromedp.SetValue(byID("f-pre_centrifugation_temp"), "rt"),
		chromedp.SendKeys(byID("f-spin1_g"), "2000"),
		chromedp.SendKeys(byID("f-spin1_minutes"), "10"),
		chromedp.SetValue(byID("f-spin1_temp"), "rt"),
		chromedp.SetValue(byID("f-spin1_brake"), "yes"),
		chromedp.Click(chromedp.CSS(`[data-testid="processing-form"] input[name="spin2_none"]`)),
		chromedp.SetValue(byID("f-centrifugation_ended_at"), ended.Format(dt)),
		chromedp.SetValue(byID("f-post_centrifugation_temp"), "rt"),
		chromedp.SetValue(byID("f-frozen_at"), frozen.Format(dt)),
		chromedp.SetValue(byID("f-storage_container"), "pp_0.5-2ml"),
		chromedp.SetValue(byID("f-storage_temperature"), "-80"),
		chromedp.Click(testID("processing-submit")),
	)
	if status != http.StatusOK {
		t.Fatalf("record processing: status %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); got != bloodURL {
		t.Errorf("after recording processing the browser is at %s, want %s", got, bloodURL)
	}
	const bloodSPREC = "BLD-PED-A-B-N-B-A"
	if got := text(t, ctx, "sample-sprec"); !strings.HasPrefix(got, bloodSPREC) {
		t.Errorf("SPREC shown as %q, want %s…", got, bloodSPREC)
	}

	// Aliquoting: the form proposes the visit's plan, 6 × 0.5 mL of plasma.
	submit(t, ctx, "follow Aliquot or derive", chromedp.Click(testID("aliquot-link")))
	for id, want := range map[string]string{"f-specimen_type": "plasma", "f-count": "6", "f-volume": "0.5", "f-unit": "mL"} {
		if got := fieldValue(t, ctx, id); got != want {
			t.Errorf("aliquot form: #%s pre-filled as %q, want the visit's plan, %q", id, got, want)
		}
	}
	status = submit(t, ctx, "create the aliquots", chromedp.Click(testID("aliquot-submit")))
	if status != http.StatusOK {
		t.Fatalf("create the aliquots: status %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); got != bloodURL {
		t.Errorf("after aliquoting the browser is at %s, want %s", got, bloodURL)
	}
	children := rowsText(t, ctx, `[data-testid="lineage-child"]`)
	if len(children) != 6 {
		t.Fatalf("%s shows %d children, want 6: %q%s", blood, len(children), children, pageState(ctx))
	}
	if got := text(t, ctx, "flash-success"); !strings.Contains(got, "6 aliquots") || !strings.Contains(got, children[0]) {
		t.Errorf("the flash after aliquoting reads %q, want 6 aliquots from %s", got, children[0])
	}
	if got := text(t, ctx, "sample-volume"); !strings.HasPrefix(got, "5.5 mL") {
		t.Errorf("%s has %q left, want 5.5 mL (8.5 − 6 × 0.5)", blood, got)
	}

	// One child: its parent, its own SPREC (plasma from the same processing), and a
	// history that reaches back to the parent's collection and receipt.
	child := children[0]
	submit(t, ctx, "open aliquot "+child, chromedp.Click(chromedp.CSS(`[data-testid="lineage-child"]`)))
	if got := location(t, ctx); got != a.URL+"/samples/"+child {
		t.Fatalf("following the first child led to %s, want %s/samples/%s", got, a.URL, child)
	}
	if got := text(t, ctx, "lineage-parent"); got != blood {
		t.Errorf("%s names its parent %q, want %s", child, got, blood)
	}
	if n := count(t, ctx, `[data-testid="lineage-sibling"]`); n != 5 {
		t.Errorf("%s lists %d siblings, want 5", child, n)
	}
	if got := text(t, ctx, "sample-sprec"); !strings.HasPrefix(got, "PL1-PED-A-B-N-B-A") {
		t.Errorf("%s has SPREC %q, want PL1-PED-A-B-N-B-A…", child, got)
	}
	history := rowsText(t, ctx, `[data-testid="custody-table"] [data-testid="custody-row"]`)
	for _, want := range []struct{ sentence, entity string }{
		{"collected (whole_blood", blood}, {"received at the laboratory", blood}, {"processing recorded; SPREC", blood},
		{"split into", blood}, {"made from " + blood, child},
	} {
		found := false
		for _, row := range history {
			if strings.Contains(row, want.sentence) && strings.Contains(row, want.entity) {
				found = true
			}
		}
		if !found {
			t.Errorf("the chain of custody of %s has no %q of %s: %q", child, want.sentence, want.entity, history)
		}
	}
}

func TestTechnician_AliquotRefusedKeepsForm(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, technicianUser, "technician", siteCode, technicianPassword)
	blood := collectTubes(t, a, v, time.Now().UTC().Add(-time.Hour).Truncate(time.Minute), edtaTube(8.5, "FR0042-7731"))[0]
	techToken := a.apiToken(t, technicianUser)
	a.apiWant(t, techToken, "POST", "/api/v1/samples/"+blood+"/receive", nil, http.StatusOK, nil)

	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, technicianUser, technicianPassword)
	aliquotURL := a.URL + "/samples/" + blood + "/aliquot"
	visit(t, ctx, aliquotURL)

	// 12 × 0.75 mL is 9 mL; the tube holds 8.5.
	status := submit(t, ctx, "ask for 12 × 0.75 mL",
		clearInput("f-count"),
		chromedp.SendKeys(byID("f-count"), "12"),
		clearInput("f-volume"),
		chromedp.SendKeys(byID("f-volume"), "0.75"),
		chromedp.Click(testID("aliquot-submit")),
	)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("aliquots exceeding the volume: status %d, want %d", status, http.StatusUnprocessableEntity)
	}
	if got := location(t, ctx); got != aliquotURL {
		t.Errorf("after the refused aliquoting the browser is at %s, want the form back at %s", got, aliquotURL)
	}
	if msg := text(t, ctx, "error-volume"); !strings.Contains(msg, "8.5 mL left") || !strings.Contains(msg, "needs 9 mL") {
		t.Errorf("message beside the volume = %q, want it to say 8.5 mL is left and 9 mL is needed", msg)
	}
	for id, want := range map[string]string{"f-specimen_type": "plasma", "f-count": "12", "f-volume": "0.75", "f-unit": "mL"} {
		if got := fieldValue(t, ctx, id); got != want {
			t.Errorf("refused form: #%s = %q, want what was entered, %q", id, got, want)
		}
	}

	// Nothing was created or taken.
	visit(t, ctx, a.URL+"/samples/"+blood)
	if n := count(t, ctx, `[data-testid="lineage-child"]`); n != 0 {
		t.Errorf("%s shows %d children after the refused aliquoting, want none", blood, n)
	}
	if got := text(t, ctx, "sample-volume"); !strings.HasPrefix(got, "8.5 mL") {
		t.Errorf("%s has %q left after the refused aliquoting, want 8.5 mL", blood, got)
	}
	if exists(t, ctx, `[data-testid="flash-success"]`) {
		t.Errorf("a success message shows after the refused aliquoting%s", pageState(ctx))
	}
	var got struct {
		Children []string    `json:"children"`
		Volume   json.Number `json:"volume"`
	}
	a.apiWant(t, techToken, "GET", "/api/v1/samples/"+blood, nil, http.StatusOK, &got)
	if len(got.Children) != 0 || got.Volume.String() != "8.5" {
		t.Errorf("GET %s after the refused aliquoting: children %q, volume %q; want none and 8.5", blood, got.Children, got.Volume)
	}
}
