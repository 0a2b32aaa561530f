package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"biobank/internal/instance"
	"biobank/internal/participant"
	"biobank/internal/shipment"
	"biobank/web"
)

type shipmentJSON struct {
	Code, Status, Origin, Destination, Condition string
	DryIceKg                                     *float64 `json:"dry_ice_kg"`
	Items                                        []struct {
		Sample, Box, Position, State string
	}
	Boxes []string
}

type receiptJSON struct {
	Status                                 string
	Received, Damaged, Missing, Unexpected []string
}

// TestShipments_SameInstance ships samples from LUX to KIEL through the API: packed by
// tube and by box, refused per sample with the reason, dispatched all at once (in transit,
// out of their positions, still in LUX's custody), received by KIEL's technician with a
// damaged tube, a missing one and an unexpected scan, and closed when a manager has
// resolved every discrepancy with a reason.
func TestShipments_SameInstance(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	kielTech := a.usedToken(t, "technician-kiel")
	manager := a.usedToken(t, "manager")
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-SHIP", f, "", 9, 9)
	boxed := a.mustStored(t, "BOX-SHIP", 3)
	loose := a.mustAliquots(t, "nurse", "technician", 2)
	pseudonym, consentID := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	withdrawing := a.mustAliquot(t, "technician", blood, 1, "0.5", "plasma")[0]
	noSharing, _ := a.mustReadyParticipant(t, "nurse", "storage")
	private := a.mustCollect(t, "nurse", noSharing, bloodTube)[0]
	a.mustReceive(t, "technician", private)

	var sh shipmentJSON
	a.api(t, "POST", "/api/v1/shipments", tech, map[string]any{"destination": "KIEL", "condition": "dry_ice", "dry_ice_kg": 5,
		"courier": "World Courier", "tracking": "WC123456", "responsible": "Dr. Example, +352 000"}).wantStatus(t, http.StatusCreated).decode(t, &sh)
	if !strings.HasPrefix(sh.Code, "SH") || sh.Status != "draft" || sh.Origin != "LUX" || sh.Destination != "KIEL" {
		t.Fatalf("created %+v", sh)
	}
	path := "/api/v1/shipments/" + sh.Code
	for _, tc := range []struct {
		body        map[string]any
		field, code string
	}{
		{map[string]any{"destination": "KIEL", "condition": "dry_ice"}, "dry_ice_kg", "invalid"},
		{map[string]any{"destination": "LUX", "condition": "ambient"}, "destination", "invalid"},
		{map[string]any{"destination": "NOWHERE", "condition": "ambient"}, "destination", "invalid"},
		{map[string]any{"condition": "ambient"}, "destination", "invalid"},
		{map[string]any{"destination": "KIEL", "condition": "warm"}, "condition", "invalid"},
	} {
		a.api(t, "POST", "/api/v1/shipments", tech, tc.body).wantError(t, http.StatusUnprocessableEntity, tc.code, tc.field)
	}

	// Packing: a whole box keeps its map; refusals name the reason.
	a.api(t, "POST", path+"/items", tech, map[string]string{"box": "BOX-SHIP"}).wantStatus(t, http.StatusCreated)
	for _, code := range append(loose, withdrawing) {
		a.api(t, "POST", path+"/items", tech, map[string]string{"sample": code}).wantStatus(t, http.StatusCreated)
	}
	before := a.state(t)
	a.api(t, "POST", path+"/items", tech, map[string]string{"sample": loose[0]}).wantError(t, http.StatusConflict, "already_in_shipment", "sample")
	if e := a.api(t, "POST", path+"/items", tech, map[string]string{"sample": private}).wantError(t, http.StatusConflict, "consent_forbids_sharing", "sample"); !strings.Contains(e.Message, "sharing") {
		t.Errorf("the refusal %q does not name the tier", e.Message)
	}
	a.api(t, "POST", path+"/items", kielTech, map[string]string{"sample": loose[0]}).wantStatus(t, http.StatusForbidden)
	a.assertUnchanged(t, before)
	a.api(t, "GET", path, tech, nil).wantStatus(t, http.StatusOK).decode(t, &sh)
	if len(sh.Items) != 6 || len(sh.Boxes) != 1 || sh.Items[0].Box != "BOX-SHIP" || sh.Items[0].Position != "A1" {
		t.Fatalf("packing list %+v", sh)
	}

	// The manifest: signed JSON that verifies with the instance's public key and fails with
	// one changed byte; CSV for people.
	var d map[string]any
	a.api(t, "GET", "/api/v1/instance", tech, nil).wantStatus(t, http.StatusOK).decode(t, &d)
	pub, err := instance.ParsePublicKey(fmt.Sprint(d["public_key"]))
	if err != nil || d["accession_prefix"] != "AC" {
		t.Fatalf("instance descriptor %v: %v", d, err)
	}
	doc := a.api(t, "GET", path+"/manifest", tech, nil).wantStatus(t, http.StatusOK).Body
	m, err := shipment.VerifySigned(doc, pub)
	if err != nil {
		t.Fatalf("the manifest does not verify: %v", err)
	}
	if m.Shipment != sh.Code || len(m.Items) != 6 || len(m.Boxes) != 1 || m.Items[0].Box != "BOX-SHIP" || m.Items[0].Position != "A1" ||
		m.Items[0].Pseudonym == "" || m.Items[0].Parent == "" || len(m.UNLines) != 2 || !strings.Contains(m.UNLines[1], "UN1845") {
		t.Errorf("manifest %+v", m)
	}
	tampered := bytes.Replace(doc, []byte(`"volume":"0.5"`), []byte(`"volume":"0.6"`), 1)
	if bytes.Equal(tampered, doc) {
		t.Fatal("test data: no volume to change")
	}
	if _, err := shipment.VerifySigned(tampered, pub); err == nil {
		t.Error("a manifest with a changed byte verified")
	}
	csvDoc := a.api(t, "GET", path+"/manifest?format=csv", tech, nil).wantStatus(t, http.StatusOK).Body
	if !bytes.Contains(csvDoc, []byte(boxed[0])) || !bytes.Contains(csvDoc, []byte("UN3373")) {
		t.Errorf("CSV manifest:\n%s", csvDoc)
	}

	// An empty shipment is not dispatched.
	var empty shipmentJSON
	a.api(t, "POST", "/api/v1/shipments", tech, map[string]any{"destination": "KIEL", "condition": "ambient"}).decode(t, &empty)
	a.api(t, "POST", "/api/v1/shipments/"+empty.Code+"/dispatch", tech, "{}").wantError(t, http.StatusUnprocessableEntity, "empty_shipment", "shipment")
	a.api(t, "POST", "/api/v1/shipments/"+empty.Code+"/cancel", tech, map[string]string{}).wantError(t, http.StatusUnprocessableEntity, "reason_required", "reason")
	a.api(t, "POST", "/api/v1/shipments/"+empty.Code+"/cancel", tech, map[string]string{"reason": "courier cancelled"}).wantStatus(t, http.StatusOK)

	// Consent withdrawn between packing and dispatch: the dispatch is refused naming the
	// sample, nothing moves; without it, everything leaves at once.
	a.mustWithdraw(t, "nurse", pseudonym, consentID, "sharing")
	before = a.state(t)
	if e := a.api(t, "POST", path+"/dispatch", tech, "{}").wantError(t, http.StatusConflict, "cannot_dispatch", "shipment"); !strings.Contains(e.Message, withdrawing) {
		t.Errorf("the refusal %q does not name %s", e.Message, withdrawing)
	}
	a.assertUnchanged(t, before)
	a.api(t, "DELETE", path+"/items/"+withdrawing, tech, nil).wantStatus(t, http.StatusNoContent)
	a.api(t, "POST", path+"/dispatch", tech, "{}").wantStatus(t, http.StatusOK).decode(t, &sh)
	if sh.Status != "dispatched" {
		t.Fatalf("after dispatch: %+v", sh)
	}
	for _, code := range append(boxed, loose...) {
		smp := a.mustSample(t, code)
		if smp.Status != "in_transit" || a.whereIs(t, code) != "" {
			t.Errorf("%s after dispatch: %s at %q", code, smp.Status, a.whereIs(t, code))
		}
	}
	a.api(t, "POST", path+"/items", tech, map[string]string{"sample": withdrawing}).wantError(t, http.StatusConflict, "not_draft", "shipment")

	// Receipt: only at the destination; scans are received, damaged, or unexpected.
	a.api(t, "POST", path+"/receive", tech, map[string]any{"received": boxed}).wantStatus(t, http.StatusForbidden)
	var r receiptJSON
	a.api(t, "POST", path+"/receive", kielTech, map[string]any{"received": append(boxed, " "+strings.ToLower(loose[0])+"\r\n", "FX-NOT-PACKED"),
		"damaged": []string{loose[0]}, "arrival_condition": "dry ice left", "arrival_temperature": -70}).wantStatus(t, http.StatusOK).decode(t, &r)
	if r.Status != "partially_received" || len(r.Received) != 3 || len(r.Damaged) != 1 || r.Damaged[0] != loose[0] ||
		len(r.Missing) != 1 || r.Missing[0] != loose[1] || len(r.Unexpected) != 1 || r.Unexpected[0] != "FX-NOT-PACKED" {
		t.Fatalf("receipt %+v", r)
	}
	for _, code := range boxed {
		if smp := a.mustSample(t, code); smp.Status != "received" || smp.Site.Code != "KIEL" {
			t.Errorf("%s after receipt: %s at %s", code, smp.Status, smp.Site.Code)
		}
	}
	if smp := a.mustSample(t, loose[1]); smp.Status != "in_transit" || smp.Site.Code != "LUX" {
		t.Errorf("the missing %s: %s at %s", loose[1], smp.Status, smp.Site.Code)
	}
	var trail []string
	for _, e := range a.events(t, "sample", boxed[0]) {
		trail = append(trail, e.Action+" by "+e.Actor)
	}
	if got := strings.Join(trail, ", "); !strings.Contains(got, "sample.dispatch by technician") || !strings.Contains(got, "sample.arrive by technician-kiel") {
		t.Errorf("the trail of %s: %s", boxed[0], got)
	}

	// Discrepancies: resolved by a manager with a reason; then the shipment closes.
	resolve := path + "/discrepancies/"
	a.api(t, "POST", resolve+loose[1]+"/resolve", manager, map[string]string{"resolution": "lost"}).wantError(t, http.StatusUnprocessableEntity, "reason_required", "reason")
	a.api(t, "POST", resolve+loose[1]+"/resolve", kielTech, map[string]string{"resolution": "lost", "reason": "x"}).wantStatus(t, http.StatusForbidden)
	a.api(t, "POST", resolve+loose[1]+"/resolve", manager, map[string]string{"resolution": "found", "reason": "in the dry ice at the bottom"}).
		wantStatus(t, http.StatusOK).decode(t, &sh)
	if sh.Status != "partially_received" {
		t.Errorf("with the damaged tube still open: %s", sh.Status)
	}
	a.api(t, "POST", resolve+loose[0]+"/resolve", manager, map[string]string{"resolution": "destroyed", "reason": "tube cracked"}).
		wantStatus(t, http.StatusOK).decode(t, &sh)
	if sh.Status != "partially_received" {
		t.Errorf("with the unexpected scan still open: %s", sh.Status)
	}
	a.api(t, "POST", resolve+"FX-NOT-PACKED/resolve", manager, map[string]string{"resolution": "returned", "reason": "belongs to another study; sent back"}).
		wantStatus(t, http.StatusOK).decode(t, &sh)
	if sh.Status != "closed" {
		t.Errorf("after every discrepancy was resolved: %s", sh.Status)
	}
	if smp := a.mustSample(t, loose[1]); smp.Status != "received" || smp.Site.Code != "KIEL" {
		t.Errorf("the found %s: %s at %s", loose[1], smp.Status, smp.Site.Code)
	}
	if smp := a.mustSample(t, loose[0]); smp.Status != "destroyed" {
		t.Errorf("the cracked %s: %s", loose[0], smp.Status)
	}
	var list struct{ Shipments []shipmentJSON }
	a.api(t, "GET", "/api/v1/shipments?direction=in", kielTech, nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Shipments) != 1 || list.Shipments[0].Code != sh.Code {
		t.Errorf("KIEL's incoming shipments: %+v", list.Shipments)
	}
}

// TestShipments_OutsideEEANeedsTheStudysTier: a study that asks for the outside_eea tier
// keeps samples of participants who did not grant it from going to a Swiss site or an
// external recipient in Switzerland (the refusal names the tier), lets those who granted
// it go, and leaves destinations inside the EU/EEA as they were.
func TestShipments_OutsideEEANeedsTheStudysTier(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	admin, tech := a.usedToken(t, "admin"), a.usedToken(t, "technician")
	a.api(t, "POST", "/api/v1/sites", admin, map[string]string{"code": "BASEL", "name": "Basel", "country": "CH", "reason": "partner"}).
		wantStatus(t, http.StatusCreated)
	a.api(t, "POST", "/api/v1/studies/IBD/consent-documents", admin, map[string]any{"version": "2.0",
		"tiers": []string{"storage", "sharing", "outside_eea"}}).wantStatus(t, http.StatusCreated)
	a.api(t, "PATCH", "/api/v1/studies/IBD", admin, map[string]any{"name": "IBD cohort", "outside_eea_consent": true, "reason": "ethics: transfers to CH"}).
		wantStatus(t, http.StatusOK)

	withoutTier, _ := a.mustReadyParticipant(t, "nurse") // 1.0: storage, genetic, sharing, recontact
	inEU := a.mustCollect(t, "nurse", withoutTier, bloodTube)[0]
	a.mustReceive(t, "technician", inEU)
	withTier := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustConsent(t, "nurse", withTier, "IBD", "2.0", "storage", "sharing", "outside_eea")
	_, ps, _ := a.services()
	if _, err := ps.OpenVisit(context.Background(), a.actorOf(t, "nurse"), withTier, participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE"}); err != nil {
		t.Fatal(err)
	}
	toCH := a.mustCollect(t, "nurse", withTier, bloodTube)[0]
	a.mustReceive(t, "technician", toCH)

	ship := func(body map[string]any) string {
		t.Helper()
		var sh shipmentJSON
		a.api(t, "POST", "/api/v1/shipments", tech, body).wantStatus(t, http.StatusCreated).decode(t, &sh)
		return "/api/v1/shipments/" + sh.Code + "/items"
	}
	basel := ship(map[string]any{"destination": "BASEL", "condition": "ambient"})
	before := a.state(t)
	e := a.api(t, "POST", basel, tech, map[string]string{"sample": inEU}).wantError(t, http.StatusConflict, "consent_forbids_sharing", "sample")
	if !strings.Contains(e.Message, "outside_eea") || !strings.Contains(e.Message, "CH") {
		t.Errorf("the refusal %q does not name the tier and the country", e.Message)
	}
	a.assertUnchanged(t, before)
	a.api(t, "POST", basel, tech, map[string]string{"sample": toCH}).wantStatus(t, http.StatusCreated)
	a.api(t, "POST", ship(map[string]any{"destination": "KIEL", "condition": "ambient"}), tech, map[string]string{"sample": inEU}).
		wantStatus(t, http.StatusCreated)

	a.api(t, "POST", "/api/v1/shipments", tech, map[string]any{"destination": map[string]string{"external": "Reference lab, Zürich"}, "condition": "ambient"}).
		wantError(t, http.StatusUnprocessableEntity, "invalid", "country")
	zurich := ship(map[string]any{"destination": map[string]string{"external": "Reference lab, Zürich", "country": "ch"}, "condition": "ambient"})
	a.api(t, "POST", zurich, tech, map[string]string{"sample": inEU}).wantError(t, http.StatusConflict, "already_in_shipment", "sample")
	other := a.mustCollect(t, "nurse", withoutTier, serumTube)[0]
	a.mustReceive(t, "technician", other)
	a.api(t, "POST", zurich, tech, map[string]string{"sample": other}).wantError(t, http.StatusConflict, "consent_forbids_sharing", "sample")
}
