package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"biobank/internal/checkcode"
)

// gridCell is one position of the box grid as the page shows it.
type gridCell struct {
	Class string `json:"class"`
	Text  string `json:"text"`
	Href  string `json:"href"`
	Label string `json:"label"`
}

// occupied reports whether the cell links to a sample.
func (c gridCell) occupied() bool { return strings.HasPrefix(c.Href, "/samples/") }

// gridCells reads every cell of the box grid on the current page, by position ("A1").
func gridCells(t *testing.T, ctx context.Context) map[string]gridCell {
	t.Helper()
	type row struct {
		ID string `json:"id"`
		gridCell
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]row](`Array.from(
		document.querySelectorAll('[data-testid="box-grid"] td[data-testid^="cell-"]'), td => {
			const a = td.querySelector("a");
			return {id: td.dataset.testid, class: td.className, text: td.innerText.trim(),
				href: a ? a.getAttribute("href") : "", label: a ? (a.getAttribute("aria-label") || "") : ""};
		})`))
	if err != nil {
		t.Fatalf("read the box grid: %v%s", err, pageState(ctx))
	}
	cells := make(map[string]gridCell, len(rows))
	for _, r := range rows {
		cells[strings.TrimPrefix(r.ID, "cell-")] = r.gridCell
	}
	return cells
}

// gridContent is what the grid holds, position by position, leaving out the classes that
// only mark the cell chosen or the tube last scanned.
func gridContent(cells map[string]gridCell) map[string]string {
	out := make(map[string]string, len(cells))
	for pos, c := range cells {
		out[pos] = c.Text + " " + c.Href
	}
	return out
}

// hasClass reports whether the space-separated class list holds class.
func hasClass(classes, class string) bool {
	for _, c := range strings.Fields(classes) {
		if c == class {
			return true
		}
	}
	return false
}

// placeScan scans code on the box page as a barcode reader does: into whatever has the
// focus, which must be the place field, ending with Enter. It returns the HTTP status of
// the page that comes back.
func placeScan(t *testing.T, ctx context.Context, code string) int64 {
	t.Helper()
	waitFocus(t, ctx, "place-sample", "before scanning "+code)
	return submit(t, ctx, "place "+code, chromedp.KeyEvent(code), chromedp.KeyEvent(kb.Enter))
}

// chooseCell clicks the free cell at pos of the box grid, choosing it for the next scan.
func chooseCell(t *testing.T, ctx context.Context, pos string) {
	t.Helper()
	if status := submit(t, ctx, "choose "+pos, chromedp.Click(chromedp.CSS(`[data-testid="cell-`+pos+`"] a`))); status != http.StatusOK {
		t.Fatalf("choosing the free cell %s: status %d%s", pos, status, pageState(ctx))
	}
}

// freezeThaw is the freeze–thaw count shown on the current sample page.
func freezeThaw(t *testing.T, ctx context.Context) string {
	t.Helper()
	m := regexp.MustCompile(`Freeze–thaw cycles\s*(\d+)`).FindStringSubmatch(text(t, ctx, "sample-material"))
	if m == nil {
		t.Fatalf("the sample page shows no freeze–thaw count%s", pageState(ctx))
	}
	return m[1]
}

func TestTechnician_ScansBoxAndTenTubesFillingTheGrid(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, technicianUser, "technician", siteCode, technicianPassword)
	box := a.createBox(t, v.AdminToken, "BX-LUX-0042", 10, 10)
	tubes := a.receivedAliquots(t, v, a.apiToken(t, technicianUser), 11)

	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, technicianUser, technicianPassword)

	// The box, by scanning its label into the header scan box.
	if status := scan(t, ctx, box.Barcode); status != http.StatusOK {
		t.Fatalf("scanning box %s into the header box: status %d%s", box.Barcode, status, pageState(ctx))
	}
	boxURL := a.URL + "/boxes/" + box.Barcode
	if got := location(t, ctx); got != boxURL {
		t.Fatalf("scanning box %s led to %s, want %s", box.Barcode, got, boxURL)
	}
	if got := text(t, ctx, "box-free"); got != "100" {
		t.Errorf("the empty 10 × 10 box shows %q free, want 100", got)
	}
	if n := len(gridCells(t, ctx)); n != 100 {
		t.Fatalf("the grid of the 10 × 10 box has %d cells, want 100%s", n, pageState(ctx))
	}
	waitFocus(t, ctx, "place-sample", "on opening the box")

	// Ten tubes, one after another: each goes into the next free position and shows there
	// at once, and the focus is back in the place field for the next.
	for i, tube := range tubes[:10] {
		pos := fmt.Sprintf("A%d", i+1)
		if status := placeScan(t, ctx, tube); status != http.StatusOK {
			t.Fatalf("placing %s: status %d%s", tube, status, pageState(ctx))
		}
		if got := text(t, ctx, "place-ok"); !strings.Contains(got, tube) || !strings.Contains(got, "placed at "+pos+".") {
			t.Errorf("after scanning tube %d (%s) the page says %q, want it placed at %s", i+1, tube, got, pos)
		}
		if c := gridCells(t, ctx)[pos]; c.Href != "/samples/"+tube || !hasClass(c.Class, "cell-highlight") {
			t.Errorf("after scanning %s cell %s links to %q with classes %q, want it highlighted, linking to the sample",
				tube, pos, c.Href, c.Class)
		}
		waitFocus(t, ctx, "place-sample", "after placing "+tube)
	}
	if got := location(t, ctx); got != boxURL {
		t.Errorf("after the scans the browser is at %s, want still %s", got, boxURL)
	}
	cells := gridCells(t, ctx)
	occupied := 0
	for _, c := range cells {
		if c.occupied() {
			occupied++
		}
	}
	if occupied != 10 {
		t.Errorf("the grid shows %d occupied cells after ten scans, want 10", occupied)
	}
	for i, tube := range tubes[:10] {
		pos := fmt.Sprintf("A%d", i+1)
		c := cells[pos]
		// Type and status at a glance: a text and a shape, not colour alone.
		if c.Href != "/samples/"+tube || !hasClass(c.Class, "cell-stored") || !strings.Contains(c.Text, "PL") ||
			!strings.Contains(c.Text, "●") || !strings.Contains(c.Label, tube) || !strings.Contains(c.Label, "plasma") {
			t.Errorf("cell %s = %+v, want a stored plasma tube (● PL) linking to /samples/%s", pos, c, tube)
		}
	}
	if c := cells["B1"]; c.occupied() || c.Text != "+" || !hasClass(c.Class, "cell-free") {
		t.Errorf("cell B1 = %+v, want a free cell (+)", c)
	}
	if got := text(t, ctx, "box-free"); got != "90" {
		t.Errorf("after ten tubes the box shows %q free, want 90", got)
	}

	// A chosen position: click the free B5, scan a tube, and it lands there rather than at
	// the next free position (B1).
	chooseCell(t, ctx, "B5")
	if got := location(t, ctx); got != boxURL+"?position=B5" {
		t.Errorf("clicking the free cell B5 led to %s, want %s?position=B5", got, boxURL)
	}
	label, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`label[for="place-sample"]`)))
	if err != nil || !strings.Contains(label, "position B5") {
		t.Errorf("with B5 chosen the place field is labelled %q (%v), want it to name position B5", label, err)
	}
	if c := gridCells(t, ctx)["B5"]; !hasClass(c.Class, "cell-selected") {
		t.Errorf("the chosen cell B5 has classes %q, want cell-selected", c.Class)
	}
	waitFocus(t, ctx, "place-sample", "after choosing B5")
	if status := placeScan(t, ctx, tubes[10]); status != http.StatusOK {
		t.Fatalf("placing %s at B5: status %d%s", tubes[10], status, pageState(ctx))
	}
	if got := text(t, ctx, "place-ok"); !strings.Contains(got, tubes[10]) || !strings.Contains(got, "placed at B5.") {
		t.Errorf("after scanning %s for B5 the page says %q, want it placed at B5", tubes[10], got)
	}
	cells = gridCells(t, ctx)
	if c := cells["B5"]; c.Href != "/samples/"+tubes[10] {
		t.Errorf("cell B5 links to %q, want /samples/%s", c.Href, tubes[10])
	}
	if cells["B1"].occupied() {
		t.Errorf("the tube for B5 also shows at B1: %+v", cells["B1"])
	}
	if got := text(t, ctx, "box-free"); got != "89" {
		t.Errorf("after eleven tubes the box shows %q free, want 89", got)
	}

	// A tube already in the box, scanned for another chosen position, moves there.
	waitFocus(t, ctx, "place-sample", "after placing at B5")
	chooseCell(t, ctx, "C3")
	if status := placeScan(t, ctx, tubes[0]); status != http.StatusOK {
		t.Fatalf("moving %s to C3: status %d%s", tubes[0], status, pageState(ctx))
	}
	if got := text(t, ctx, "place-ok"); !strings.Contains(got, tubes[0]) || !strings.Contains(got, "moved") ||
		!strings.Contains(got, "A1") || !strings.Contains(got, "C3") {
		t.Errorf("after scanning %s (at A1) for C3 the page says %q, want it moved from A1 to C3", tubes[0], got)
	}
	cells = gridCells(t, ctx)
	if c := cells["C3"]; c.Href != "/samples/"+tubes[0] {
		t.Errorf("after the move cell C3 links to %q, want /samples/%s", c.Href, tubes[0])
	}
	if c := cells["A1"]; c.occupied() || c.Text != "+" {
		t.Errorf("after the move cell A1 = %+v, want it free (+)", c)
	}
	if got := text(t, ctx, "box-free"); got != "89" {
		t.Errorf("after a move within the box it shows %q free, want still 89", got)
	}

	// A position that holds a tube: refused, naming the occupant; nothing moves.
	before := gridContent(cells)
	visit(t, ctx, boxURL+"?position=A2")
	if status := placeScan(t, ctx, tubes[10]); status != http.StatusConflict {
		t.Errorf("scanning %s for the occupied A2: status %d, want %d", tubes[10], status, http.StatusConflict)
	}
	if got := text(t, ctx, "place-error"); !strings.Contains(got, "A2") || !strings.Contains(got, tubes[1]) {
		t.Errorf("scanning a tube for the occupied A2 says %q, want it to name A2 and its occupant %s", got, tubes[1])
	}
	if after := gridContent(gridCells(t, ctx)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the refused placement into A2 changed the grid:\nbefore %v\nafter  %v", before, after)
	}

	// A code nobody knows (well formed, with correct check characters): refused, the grid
	// as it was, the focus back for the next scan.
	unknown, err := checkcode.Append("AC99999999")
	if err != nil {
		t.Fatal(err)
	}
	visit(t, ctx, boxURL)
	if status := placeScan(t, ctx, unknown); status != http.StatusNotFound {
		t.Errorf("scanning the unknown %s: status %d, want %d", unknown, status, http.StatusNotFound)
	}
	if got := text(t, ctx, "place-error"); !strings.Contains(got, unknown) {
		t.Errorf("scanning the unknown %s says %q, want it to name the code", unknown, got)
	}
	if exists(t, ctx, `[data-testid="place-ok"]`) {
		t.Errorf("scanning the unknown %s reports a placement%s", unknown, pageState(ctx))
	}
	if after := gridContent(gridCells(t, ctx)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("scanning the unknown %s changed the grid:\nbefore %v\nafter  %v", unknown, before, after)
	}
	if got := text(t, ctx, "box-free"); got != "89" {
		t.Errorf("after the refused scans the box shows %q free, want still 89", got)
	}
	waitFocus(t, ctx, "place-sample", "after the refused scan")

	// The box page as a person sees it.
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot of the box page: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot of the box page is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("the screenshot of the box page is %v, want a whole window", b)
	}
}

func TestTechnician_FindsTubeAgainByScanningIt(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, technicianUser, "technician", siteCode, technicianPassword)
	box := a.createBox(t, v.AdminToken, "BX-LUX-0043", 10, 10)
	techToken := a.apiToken(t, technicianUser)
	tubes := a.receivedAliquots(t, v, techToken, 3)
	for _, tube := range tubes {
		a.apiWant(t, techToken, "POST", "/api/v1/boxes/"+box.Barcode+"/next", map[string]any{"sample": tube}, http.StatusOK, nil)
	}
	tube := tubes[2] // at A3
	where := box.Freezer + " › " + box.Rack + " › " + box.Barcode + " › A3"
	boxURL := a.URL + "/boxes/" + box.Barcode
	sampleURL := a.URL + "/samples/" + tube

	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, technicianUser, technicianPassword)

	// Months later: scan the tube, read where it lives.
	if status := scan(t, ctx, tube); status != http.StatusOK {
		t.Fatalf("scanning %s into the header box: status %d%s", tube, status, pageState(ctx))
	}
	if got := location(t, ctx); got != sampleURL {
		t.Fatalf("scanning %s led to %s, want %s", tube, got, sampleURL)
	}
	if got := text(t, ctx, "sample-location"); got != where {
		t.Errorf("%s is shown at %q, want %q", tube, got, where)
	}
	if got := freezeThaw(t, ctx); got != "0" {
		t.Errorf("%s shows %s freeze–thaw cycles before any check-out, want 0", tube, got)
	}

	// The location opens the box with the tube's cell highlighted, and only that one.
	submit(t, ctx, "follow the location", chromedp.Click(chromedp.CSS(`[data-testid="sample-location"] a`)))
	if got := location(t, ctx); got != boxURL+"?sample="+tube {
		t.Errorf("the location led to %s, want %s?sample=%s", got, boxURL, tube)
	}
	cells := gridCells(t, ctx)
	if c := cells["A3"]; c.Href != "/samples/"+tube || !hasClass(c.Class, "cell-highlight") {
		t.Errorf("cell A3 = %+v, want %s highlighted (cell-highlight)", c, tube)
	}
	if n := count(t, ctx, ".cell-highlight"); n != 1 {
		t.Errorf("%d cells are highlighted, want only A3", n)
	}

	// Taken out for use: checked out, its position kept for it.
	if status := scan(t, ctx, tube); status != http.StatusOK {
		t.Fatalf("scanning %s again: status %d%s", tube, status, pageState(ctx))
	}
	status := submit(t, ctx, "check out "+tube,
		chromedp.SendKeys(byID("f-storage-reason"), "ELISA run"),
		chromedp.Click(testID("checkout-submit")),
	)
	if status != http.StatusOK {
		t.Fatalf("check out %s: status %d%s", tube, status, pageState(ctx))
	}
	if got := location(t, ctx); got != sampleURL {
		t.Errorf("after checking out the browser is at %s, want %s", got, sampleURL)
	}
	if got := text(t, ctx, "flash-success"); !strings.Contains(got, "Checked out") {
		t.Errorf("after checking out the page says %q, want it checked out", got)
	}
	if got := text(t, ctx, "sample-status"); got != "checked out" {
		t.Errorf("%s has status %q after check-out, want checked out", tube, got)
	}
	if got := text(t, ctx, "sample-location"); !strings.Contains(got, where) || !strings.Contains(got, "reserved") {
		t.Errorf("the checked-out %s is shown at %q, want %q, reserved", tube, got, where)
	}

	// The grid keeps its position, marked reserved (◌), not free.
	submit(t, ctx, "follow the location", chromedp.Click(chromedp.CSS(`[data-testid="sample-location"] a`)))
	if c := gridCells(t, ctx)["A3"]; c.Href != "/samples/"+tube || !hasClass(c.Class, "cell-reserved") || !strings.Contains(c.Text, "◌") {
		t.Errorf("with %s checked out cell A3 = %+v, want it reserved (cell-reserved, ◌) for it", tube, c)
	}
	if got := text(t, ctx, "box-free"); got != "97" {
		t.Errorf("with one of three tubes checked out the box shows %q free, want 97", got)
	}

	// Who has it and since when.
	visit(t, ctx, a.URL+"/storage/checked-out")
	if got := text(t, ctx, "checked-out-table"); !strings.Contains(got, tube) || !strings.Contains(got, technicianUser) ||
		!strings.Contains(got, "ELISA run") || !strings.Contains(got, box.Barcode+" A3") {
		t.Errorf("the checked-out list reads %q, want %s taken by %s for ELISA run, from %s A3", got, tube, technicianUser, box.Barcode)
	}

	// Back in its position: one more freeze–thaw cycle.
	visit(t, ctx, sampleURL)
	if status := submit(t, ctx, "check in "+tube, chromedp.Click(testID("checkin-submit"))); status != http.StatusOK {
		t.Fatalf("check in %s: status %d%s", tube, status, pageState(ctx))
	}
	if got := text(t, ctx, "flash-success"); !strings.Contains(got, "Checked in") {
		t.Errorf("after checking in the page says %q, want it checked in", got)
	}
	if got := text(t, ctx, "sample-status"); got != "stored" {
		t.Errorf("%s has status %q after check-in, want stored", tube, got)
	}
	if got := freezeThaw(t, ctx); got != "1" {
		t.Errorf("%s shows %s freeze–thaw cycles after check-in, want 1", tube, got)
	}
	if got := text(t, ctx, "sample-location"); got != where {
		t.Errorf("after check-in %s is shown at %q, want %q", tube, got, where)
	}
	history := strings.Join(rowsText(t, ctx, `[data-testid="custody-table"] [data-testid="custody-row"]`), "\n")
	for _, sentence := range []string{"placed in " + box.Barcode + " A3", "checked out of", "checked back in to"} {
		if !strings.Contains(history, sentence) {
			t.Errorf("the chain of custody of %s does not say %q:\n%s", tube, sentence, history)
		}
	}
	var got struct {
		Status          string `json:"status"`
		FreezeThawCount int    `json:"freeze_thaw_count"`
		Location        struct {
			Box      string `json:"box"`
			Position string `json:"position"`
		} `json:"location"`
	}
	a.apiWant(t, techToken, "GET", "/api/v1/samples/"+tube, nil, http.StatusOK, &got)
	if got.Status != "stored" || got.FreezeThawCount != 1 || got.Location.Box != box.Barcode || got.Location.Position != "A3" {
		t.Errorf("GET %s after check-in: %+v, want stored at %s A3 with 1 freeze–thaw cycle", tube, got, box.Barcode)
	}
}
