package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"biobank/web"
)

// TestShipmentPages_BenchJourney ships through the pages as the bench uses them: a
// technician creates a shipment with the form, packs a box and two tubes by scanning
// (an unknown scan says so and packs nothing), takes one out, is refused dispatching an
// empty one, dispatches; KIEL's technician scans tubes in (received, damaged, unexpected,
// scanned again), finishes the receipt after a refused temperature, and a manager resolves
// every discrepancy with a reason until the shipment closes.
func TestShipmentPages_BenchJourney(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-PAGE", f, "", 9, 9)
	boxed := a.mustStored(t, "BOX-PAGE", 2)
	loose := a.mustAliquots(t, "nurse", "technician", 3)
	tech := a.signedIn(t, "technician")

	// Creating: a refusal keeps what was typed.
	tech.submit(t, "/shipments", "/shipments", url.Values{"destination": {"KIEL"}, "condition": {"dry_ice"}, "courier": {"World Courier"}}).
		wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "error-dry_ice_kg")
	r := tech.submit(t, "/shipments", "/shipments", url.Values{"destination": {"KIEL"}, "condition": {"dry_ice"}, "dry_ice_kg": {"4,5"},
		"courier": {"World Courier"}, "tracking": {"WC-77"}, "responsible": {"Study coordinator, +352 000"}}).wantStatus(t, http.StatusSeeOther)
	path := r.Header.Get("Location")
	if !strings.HasPrefix(path, "/shipments/SH") {
		t.Fatalf("created shipment at %q", path)
	}
	code := strings.TrimPrefix(path, "/shipments/")
	shown := tech.get(t, path).wantStatus(t, http.StatusOK)
	if route := shown.wantTestID(t, "shipment-route").Text(); !strings.Contains(route, "Site KIEL") || !strings.Contains(route, "World Courier") {
		t.Errorf("route line %q", route)
	}
	if !strings.Contains(shown.Body, "UN1845 Dry ice, 4.5 kg net") {
		t.Error("the page does not show the dry ice's UN line")
	}

	// Packing by scanning.
	scan := func(c *client, action, value string, extra ...string) *page {
		t.Helper()
		vals := url.Values{"code": {value}}
		for i := 0; i+1 < len(extra); i += 2 {
			vals.Set(extra[i], extra[i+1])
		}
		return c.submit(t, path, path+action, vals)
	}
	before := a.state(t)
	p := scan(tech, "/items", "NO-SUCH-THING").wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "scan-error").Text(); !strings.Contains(msg, "No tube has this code") {
		t.Errorf("unknown scan: %q", msg)
	}
	a.assertUnchanged(t, before)
	p = scan(tech, "/items", " BOX-PAGE\r\n").wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "scan-ok").Text(); !strings.Contains(msg, "2 tubes") {
		t.Errorf("box scan: %q", msg)
	}
	p.wantTestID(t, "packed-BOX-PAGE-A1")
	for _, c := range loose {
		scan(tech, "/items", " "+strings.ToLower(c)+"\r\n").wantStatus(t, http.StatusOK).wantTestID(t, "item-"+c)
	}
	p = scan(tech, "/items", loose[0]).wantStatus(t, http.StatusConflict)
	if msg := p.wantTestID(t, "scan-error").Text(); !strings.Contains(msg, "already in shipment") {
		t.Errorf("second scan of a packed tube: %q", msg)
	}
	tech.submit(t, path, path+"/items/"+loose[2]+"/remove", nil).wantRedirect(t, path)
	if tech.get(t, path).testid("item-"+loose[2]).Length() != 0 {
		t.Errorf("%s is still on the packing list", loose[2])
	}

	// An empty shipment is not dispatched; this one is.
	r = tech.submit(t, "/shipments", "/shipments", url.Values{"destination": {"KIEL"}, "condition": {"ambient"}}).wantStatus(t, http.StatusSeeOther)
	empty := r.Header.Get("Location")
	tech.submit(t, empty, empty+"/dispatch", nil).wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "scan-error")
	tech.submit(t, path, path+"/dispatch", nil).wantRedirect(t, path)
	p = tech.get(t, path)
	if st := p.wantTestID(t, "shipment-status").Text(); st != "dispatched" || p.testid("pack-form").Length() != 0 {
		t.Errorf("after dispatch: %q, pack form shown: %v", st, p.testid("pack-form").Length() > 0)
	}
	if p.testid("receive-form").Length() != 0 {
		t.Error("the sender is offered the receipt")
	}

	// Receiving at KIEL, one scan at a time.
	kiel := a.signedIn(t, "technician-kiel")
	if kiel.get(t, "/shipments").testid("shipment-"+code).Length() == 0 {
		t.Error("KIEL's shipments page does not list the incoming shipment")
	}
	for _, tc := range []struct {
		value, state, outcome string
	}{
		{boxed[0], "received", "received"}, {boxed[1], "received", "received"}, {loose[0], "damaged", "damaged"},
		{"STRAY-TUBE-9", "received", "unexpected"}, {boxed[0], "received", "again"},
	} {
		p := scan(kiel, "/receive", tc.value, "state", tc.state).wantStatus(t, http.StatusOK)
		if got, _ := p.wantTestID(t, "scan-ok").Attr("data-outcome"); got != tc.outcome {
			t.Errorf("scan %s as %s: outcome %q, want %q", tc.value, tc.state, got, tc.outcome)
		}
	}
	if smp := a.mustSample(t, boxed[0]); smp.Status != "received" || smp.Site.Code != "KIEL" {
		t.Errorf("%s after its scan: %s at %s", boxed[0], smp.Status, smp.Site.Code)
	}
	if st := kiel.get(t, path).wantTestID(t, "shipment-status").Text(); st != "dispatched" {
		t.Errorf("before the receipt is finished: %q", st)
	}
	before = a.state(t)
	kiel.submit(t, path, path+"/receive", url.Values{"finish": {"true"}, "arrival_condition": {"dry ice left"}, "arrival_temperature": {"cold"}}).
		wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "error-arrival_temperature")
	a.assertUnchanged(t, before)
	kiel.submit(t, path, path+"/receive", url.Values{"finish": {"true"}, "arrival_condition": {"dry ice left"}, "arrival_temperature": {"-68,5"}}).
		wantRedirect(t, path)
	p = a.signedIn(t, "manager").get(t, path)
	if st := p.wantTestID(t, "shipment-status").Text(); st != "partially received" {
		t.Errorf("after finishing: %q", st)
	}
	for _, id := range []string{loose[0], loose[1], "STRAY-TUBE-9"} {
		p.wantTestID(t, "discrepancy-"+id)
	}
	if !strings.Contains(p.wantTestID(t, "arrival").Text(), "-68.5 °C") {
		t.Errorf("arrival: %q", p.testid("arrival").Text())
	}

	// Resolving: a reason is required; every one settled closes the shipment.
	manager := a.signedIn(t, "manager")
	resolve := func(id, resolution, reason string) *page {
		return manager.submit(t, path, path+"/discrepancies/"+id+"/resolve", url.Values{"resolution": {resolution}, "reason": {reason}})
	}
	resolve(loose[1], "lost", "").wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "resolve-"+loose[1])
	resolve(loose[1], "found", "under the dry ice").wantRedirect(t, path)
	resolve(loose[0], "destroyed", "tube cracked in transit").wantRedirect(t, path)
	resolve("STRAY-TUBE-9", "returned", "not ours; sent back to LUX").wantRedirect(t, path)
	if st := manager.get(t, path).wantTestID(t, "shipment-status").Text(); st != "closed" {
		t.Errorf("after resolving everything: %q", st)
	}
	if smp := a.mustSample(t, loose[1]); smp.Status != "received" || smp.Site.Code != "KIEL" {
		t.Errorf("the found %s: %s at %s", loose[1], smp.Status, smp.Site.Code)
	}

	// The manifest's documents.
	for _, format := range []string{"pdf", "csv", "json"} {
		resp := tech.get(t, path+"/manifest?format="+format).wantStatus(t, http.StatusOK)
		if !strings.Contains(resp.Body, boxed[0]) && format != "pdf" || format == "pdf" && !strings.HasPrefix(resp.Body, "%PDF") {
			t.Errorf("manifest as %s: %.200q", format, resp.Body)
		}
	}
}

// TestShipmentPages_ImportRefusesABadManifest: an uploaded file that is not a signed
// manifest of a registered partner is refused with the reason, and nothing is imported.
func TestShipmentPages_ImportRefusesABadManifest(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.signedIn(t, "technician")
	before := a.state(t)
	for _, doc := range []string{"not json", `{"manifest":{"schema":"biobank-manifest-1","instance":"Nobody"},"signature":"AAAA"}`} {
		p := tech.upload(t, "/shipments/import", "/shipments/import", "file", "x.manifest.json", doc)
		if p.StatusCode < 400 || p.StatusCode >= 500 {
			t.Errorf("manifest %q: status %d", doc, p.StatusCode)
		}
		p.wantTestID(t, "import-error")
		p.wantNoGoError(t)
	}
	tech.upload(t, "/shipments/import", "/shipments/import", "", "", "").wantStatus(t, http.StatusUnprocessableEntity).wantTestID(t, "import-error")
	a.assertUnchanged(t, before)
}
