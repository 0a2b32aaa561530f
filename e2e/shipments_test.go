package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestShipment_PackDispatchReceiveResolveAndReadCustody is the shipping journey in the
// browser: a Luxembourg technician creates a shipment to Kiel, packs a box of three
// tubes and two loose tubes by scanning, and dispatches it; Kiel's technician scans the
// tubes out of the package — one is missing and a tube that was never packed turns up —
// and finishes the receipt; a manager resolves both discrepancies with a reason; and the
// chain of custody of a received tube reads as sentences from its placing in the box to
// its receipt in Kiel.
func TestShipment_PackDispatchReceiveResolveAndReadCustody(t *testing.T) {
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, technicianUser, "technician", siteCode, technicianPassword)
	a.cli(t, "", "site", "create", "--code", "DE-KIEL", "--name", "Kiel University Hospital", "--country", "DE")
	a.createUser(t, "kai", "technician", "DE-KIEL", "kiel-pass-1234")
	techToken := a.apiToken(t, technicianUser)
	tubes := a.receivedAliquots(t, v, techToken, 6)
	a.createBox(t, v.AdminToken, "BOX-SHIP", 9, 9)
	for i, pos := range []string{"A1", "A2", "A3"} {
		a.apiWant(t, techToken, "PUT", "/api/v1/boxes/BOX-SHIP/positions/"+pos, map[string]any{"sample": tubes[i]}, http.StatusOK, nil)
	}

	// Luxembourg packs a box and two tubes by scanning, and dispatches.
	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, technicianUser, technicianPassword)
	visit(t, ctx, a.URL+"/shipments")
	if status := submit(t, ctx, "create the shipment",
		chromedp.SetValue(chromedp.ID("f-destination"), "DE-KIEL"),
		chromedp.SetValue(chromedp.ID("f-condition"), "ambient"),
		chromedp.SendKeys(chromedp.ID("f-courier"), "World Courier"),
		chromedp.Click(chromedp.CSS(`[data-testid="shipment-form"] button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("create the shipment: status %d%s", status, pageState(ctx))
	}
	code := text(t, ctx, "shipment-code")
	shipmentURL := a.URL + "/shipments/" + code
	for _, scan := range []string{"BOX-SHIP", tubes[3], tubes[4]} {
		waitFocus(t, ctx, "pack-code", "before packing "+scan)
		if status := submit(t, ctx, "pack "+scan, chromedp.KeyEvent(scan), pressEnter()); status != http.StatusOK {
			t.Fatalf("pack %s: status %d%s", scan, status, pageState(ctx))
		}
	}
	if n := count(t, ctx, `[data-testid="items-box-BOX-SHIP"] tbody tr`); n != 3 {
		t.Errorf("the box's packing list has %d tubes, want 3%s", n, pageState(ctx))
	}
	if !exists(t, ctx, `[data-testid="packed-BOX-SHIP-A3"]`) || count(t, ctx, `[data-testid="items-loose"] tbody tr`) != 2 {
		t.Errorf("the packing list does not show the box's map and the two loose tubes%s", pageState(ctx))
	}
	if status := submit(t, ctx, "dispatch", chromedp.Click(testID("dispatch"))); status != http.StatusOK {
		t.Fatalf("dispatch: status %d%s", status, pageState(ctx))
	}
	if got := text(t, ctx, "shipment-status"); got != "dispatched" {
		t.Fatalf("after dispatch the shipment is %q%s", got, pageState(ctx))
	}

	// Kiel receives: four tubes scanned, one missing, one unexpected.
	kiel := newIncognito(t, ctx)
	signIn(t, kiel, a.URL, "kai", "kiel-pass-1234")
	visit(t, kiel, shipmentURL)
	for _, scan := range []string{tubes[0], tubes[1], tubes[2], tubes[3], tubes[5]} {
		waitFocus(t, kiel, "receive-code", "before receiving "+scan)
		if status := submit(t, kiel, "receive "+scan, chromedp.KeyEvent(scan), pressEnter()); status != http.StatusOK {
			t.Fatalf("receive %s: status %d%s", scan, status, pageState(kiel))
		}
	}
	if msg := text(t, kiel, "scan-ok"); !strings.Contains(msg, tubes[5]+" is not in this shipment") {
		t.Errorf("the stray tube's scan says %q", msg)
	}
	if status := submit(t, kiel, "finish the receipt",
		chromedp.SendKeys(chromedp.ID("f-finish-arrival_condition"), "box intact"),
		chromedp.SendKeys(chromedp.ID("f-finish-arrival_temperature"), "19"),
		chromedp.Click(testID("finish"))); status != http.StatusOK {
		t.Fatalf("finish the receipt: status %d%s", status, pageState(kiel))
	}
	if got := text(t, kiel, "shipment-status"); got != "partially received" {
		t.Fatalf("after the receipt the shipment is %q%s", got, pageState(kiel))
	}

	// A manager (the administrator here) resolves the missing and the unexpected tube.
	admin := newIncognito(t, ctx)
	signIn(t, admin, a.URL, adminUser, adminPassword)
	visit(t, admin, shipmentURL)
	for _, r := range []struct{ code, resolution, reason string }{
		{tubes[4], "found", "found in the outer box the next morning"}, {tubes[5], "returned", "not ours: sent back to Luxembourg"},
	} {
		form := `[data-testid="resolve-` + r.code + `"] `
		if status := submit(t, admin, "resolve "+r.code,
			chromedp.SetValue(chromedp.CSS(form+`select[name="resolution"]`), r.resolution),
			chromedp.SendKeys(chromedp.CSS(form+`[name="reason"]`), r.reason),
			chromedp.Click(chromedp.CSS(form+`button[type="submit"]`))); status != http.StatusOK {
			t.Fatalf("resolve %s: status %d%s", r.code, status, pageState(admin))
		}
	}
	if got := text(t, admin, "shipment-status"); got != "closed" {
		t.Errorf("after resolving both discrepancies the shipment is %q%s", got, pageState(admin))
	}

	// The chain of custody of a received tube, at Kiel.
	visit(t, kiel, a.URL+"/samples/"+tubes[0]+"/custody")
	steps := strings.Join(rowsText(t, kiel, `[data-testid="custody-row"]`), "\n")
	for _, want := range []string{"collected", "made from", "placed in BOX-SHIP A1", "shipped in " + code + " by World Courier to DE-KIEL",
		"received at DE-KIEL from shipment " + code} {
		if !strings.Contains(steps, want) {
			t.Errorf("the chain of custody of %s does not say %q:\n%s", tubes[0], want, steps)
		}
	}
}
