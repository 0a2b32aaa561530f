package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"biobank/internal/printing/printtest"
)

// TestTechnician_PrintsAliquotLabelsAndVerifiesOne: after aliquoting, the next page offers
// the new aliquots' labels; one click sends them to the site's printer (a real TCP
// listener here), one label per aliquot; then the technician scans one printed label back
// and the application confirms it names that tube.
func TestTechnician_PrintsAliquotLabelsAndVerifiesOne(t *testing.T) {
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, technicianUser, "technician", siteCode, technicianPassword)
	techToken := a.apiToken(t, technicianUser)
	printer := printtest.New(t, printtest.Ready)
	a.apiWant(t, v.AdminToken, "POST", "/api/v1/printers", map[string]any{"name": "Bench printer", "kind": "zpl",
		"address": printer.Addr(), "site_default": true, "reason": "the bench's label printer"}, http.StatusCreated, nil)
	blood := collectTubes(t, a, v, time.Now().UTC().Add(-2*time.Hour).Truncate(time.Minute),
		map[string]any{"specimen_type": "whole_blood", "container": "PED", "volume": 9, "unit": "mL"})[0]
	a.apiWant(t, techToken, "POST", "/api/v1/samples/"+blood+"/receive", nil, http.StatusOK, nil)

	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, technicianUser, technicianPassword)
	visit(t, ctx, a.URL+"/samples/"+blood+"/aliquot")
	if status := submit(t, ctx, "create the aliquots", chromedp.Click(testID("aliquot-submit"))); status != http.StatusOK {
		t.Fatalf("create the aliquots: status %d%s", status, pageState(ctx))
	}
	offer := text(t, ctx, "print-offer-submit")
	if !strings.Contains(offer, "Print 6 labels") {
		t.Fatalf("after aliquoting the page offers %q, want to print the 6 aliquots' labels%s", offer, pageState(ctx))
	}
	if status := submit(t, ctx, "print the labels", chromedp.Click(testID("print-offer-submit"))); status != http.StatusOK {
		t.Fatalf("print: status %d%s", status, pageState(ctx))
	}
	got := printer.Received(t)
	if n := bytes.Count(got, []byte("^XA")); n != 6 {
		t.Errorf("the printer received %d labels, want one per aliquot (6)", n)
	}
	if msg := text(t, ctx, "flash-success"); !strings.Contains(msg, "6 labels sent to Bench printer") {
		t.Errorf("after printing the page says %q", msg)
	}
	var out struct {
		Children []string `json:"children"`
	}
	a.apiWant(t, techToken, "GET", "/api/v1/samples/"+blood, nil, http.StatusOK, &out)
	if len(out.Children) != 6 {
		t.Fatalf("%s has %d children", blood, len(out.Children))
	}
	child := out.Children[0]
	if !bytes.Contains(got, []byte("^FD"+child+"^FS")) {
		t.Errorf("no label of %s among what the printer received", child)
	}

	// Scan the printed label back, as a scanner sends it (symbology prefix and Enter).
	visit(t, ctx, a.URL+"/labels/verify?expected="+child)
	waitFocus(t, ctx, "verify-scan", "on the verify page")
	if status := submit(t, ctx, "scan the label", chromedp.KeyEvent("]d2"+child), pressEnter()); status != http.StatusOK {
		t.Fatalf("verify: status %d%s", status, pageState(ctx))
	}
	if !exists(t, ctx, `[data-testid="verify-match"]`) {
		t.Errorf("the printed label of %s is not confirmed%s", child, pageState(ctx))
	}
}
