package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/auth"
	"biobank/internal/study"
	"biobank/web"
)

// TestFederation_ShipsBetweenTwoInstances runs two instances — two databases, two servers
// on loopback, each with its own key and accession prefix — that register each other from
// their descriptors; Luxembourg ships aliquots to Berlin's site through the API, Berlin
// imports the signed manifest and receives the tubes by scanning. A replayed or changed
// manifest, or one from an unknown sender, imports nothing.
func TestFederation_ShipsBetweenTwoInstances(t *testing.T) {
	t.Parallel()
	lux := newApp(t, web.Config{})
	lux.seedLab(t)
	ber := newApp(t, web.Config{AccessionPrefix: "DE"})
	ber.mustSite(t, "DE-BER")
	ber.mustUser(t, "admin", auth.RoleAdmin, "DE-BER")
	ber.mustUser(t, "tech-ber", auth.RoleTechnician, "DE-BER")
	studies, _, _ := ber.services()
	if _, err := studies.Create(context.Background(), ber.actorOf(t, "admin"), study.Input{Code: "IBD", Name: "IBD"}); err != nil {
		t.Fatal(err)
	}
	if _, err := studies.AddVisit(context.Background(), ber.actorOf(t, "admin"), "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 7,
		Requirements: []study.RequirementInput{{SpecimenType: "whole_blood", Container: "PED", Volume: decimal.RequireFromString("9"), Unit: "mL"}}}); err != nil {
		t.Fatal(err)
	}
	luxAdmin, luxTech := lux.usedToken(t, "admin"), lux.usedToken(t, "technician")
	berAdmin, berTech := ber.usedToken(t, "admin"), ber.usedToken(t, "tech-ber")

	// Each registers the other from its descriptor.
	var luxDesc, berDesc map[string]any
	lux.api(t, "GET", "/api/v1/instance", luxTech, nil).wantStatus(t, http.StatusOK).decode(t, &luxDesc)
	ber.api(t, "GET", "/api/v1/instance", berTech, nil).wantStatus(t, http.StatusOK).decode(t, &berDesc)
	register := func(a *app, token string, desc map[string]any) {
		t.Helper()
		body := map[string]any{"reason": "partner in the network"}
		for k, v := range desc {
			body[k] = v
		}
		a.api(t, "POST", "/api/v1/peers", token, body).wantStatus(t, http.StatusCreated)
	}
	register(lux, luxAdmin, berDesc)
	register(ber, berAdmin, luxDesc)
	same := map[string]any{"instance": "copycat", "public_key": berDesc["public_key"], "accession_prefix": "AC", "sites": []string{"X-1"}, "reason": "x"}
	lux.api(t, "POST", "/api/v1/peers", luxAdmin, same).wantError(t, http.StatusUnprocessableEntity, "invalid", "accession_prefix")
	dup := map[string]any{"instance": berDesc["instance"], "public_key": berDesc["public_key"], "accession_prefix": "DE", "sites": []string{"X-2"}, "reason": "x"}
	lux.api(t, "POST", "/api/v1/peers", luxAdmin, dup).wantError(t, http.StatusConflict, "duplicate_peer", "instance")
	// Nobody works at a partner's site here.
	lux.api(t, "POST", "/api/v1/users", luxAdmin, map[string]any{"username": "intruder", "role": "technician", "site": "DE-BER",
		"password": "a-long-password-1", "reason": "x"}).wantError(t, http.StatusUnprocessableEntity, "invalid", "site")

	// Luxembourg packs and dispatches to Berlin's site.
	ids := lux.mustAliquots(t, "nurse", "technician", 3)
	var sh shipmentJSON
	lux.api(t, "POST", "/api/v1/shipments", luxTech, map[string]any{"destination": "DE-BER", "condition": "dry_ice", "dry_ice_kg": 3,
		"courier": "World Courier", "tracking": "WC1"}).wantStatus(t, http.StatusCreated).decode(t, &sh)
	for _, id := range ids {
		lux.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/items", luxTech, map[string]string{"sample": id}).wantStatus(t, http.StatusCreated)
	}
	lux.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/dispatch", luxTech, "{}").wantStatus(t, http.StatusOK)
	manifest := lux.api(t, "GET", "/api/v1/shipments/"+sh.Code+"/manifest", luxTech, nil).wantStatus(t, http.StatusOK).Body

	// Refused manifests import nothing.
	before := ber.state(t)
	tampered := bytes.Replace(manifest, []byte(`"volume":"0.5"`), []byte(`"volume":"5.0"`), 1)
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, string(tampered)).wantError(t, http.StatusUnprocessableEntity, "bad_signature", "manifest")
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, "{not json").wantError(t, http.StatusUnprocessableEntity, "malformed_manifest", "manifest")
	stranger := bytes.Replace(manifest, []byte(`"instance":"`+luxDesc["instance"].(string)+`"`), []byte(`"instance":"nobody"`), 1)
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, string(stranger)).wantError(t, http.StatusUnprocessableEntity, "unknown_sender", "manifest")
	ber.assertUnchanged(t, before)

	// Berlin imports it: the samples arrive pre-registered in transit, then are scanned in.
	var imported struct {
		Code   string
		Status string
		Items  int
	}
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, string(manifest)).wantStatus(t, http.StatusCreated).decode(t, &imported)
	if imported.Code != sh.Code || imported.Status != "dispatched" || imported.Items != 3 {
		t.Fatalf("imported %+v", imported)
	}
	before = ber.state(t)
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, string(manifest)).wantError(t, http.StatusConflict, "replayed_manifest", "manifest")
	// The same shipment's manifest fetched again (a new nonce) is the same shipment.
	again := lux.api(t, "GET", "/api/v1/shipments/"+sh.Code+"/manifest", luxTech, nil).wantStatus(t, http.StatusOK).Body
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, string(again)).wantError(t, http.StatusConflict, "replayed_manifest", "manifest")
	// A tube Luxembourg recorded as returned and sends again in another shipment exists in
	// Berlin already: that manifest is refused whole.
	luxManager := lux.usedToken(t, "manager")
	lux.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/discrepancies/"+ids[2]+"/resolve", luxManager,
		map[string]string{"resolution": "returned", "reason": "courier brought it back"}).wantStatus(t, http.StatusOK)
	var second shipmentJSON
	lux.api(t, "POST", "/api/v1/shipments", luxTech, map[string]any{"destination": "DE-BER", "condition": "ambient"}).
		wantStatus(t, http.StatusCreated).decode(t, &second)
	lux.api(t, "POST", "/api/v1/shipments/"+second.Code+"/items", luxTech, map[string]string{"sample": ids[2]}).wantStatus(t, http.StatusCreated)
	lux.api(t, "POST", "/api/v1/shipments/"+second.Code+"/dispatch", luxTech, "{}").wantStatus(t, http.StatusOK)
	secondDoc := lux.api(t, "GET", "/api/v1/shipments/"+second.Code+"/manifest", luxTech, nil).wantStatus(t, http.StatusOK).Body
	ber.api(t, "POST", "/api/v1/shipments/import", berTech, string(secondDoc)).wantError(t, http.StatusConflict, "accession_exists", "manifest")
	ber.assertUnchanged(t, before)
	var r receiptJSON
	ber.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/receive", berTech, map[string]any{"received": ids}).wantStatus(t, http.StatusOK).decode(t, &r)
	if r.Status != "received" || len(r.Received) != 3 {
		t.Fatalf("receipt %+v", r)
	}
	got := ber.mustSample(t, ids[0])
	if got.Status != "received" || got.Site.Code != "DE-BER" || got.Participant.Pseudonym == "" || got.ParentID == nil && got.SPREC == "" {
		t.Errorf("in Berlin %s is %s at %s (pseudonym %q)", ids[0], got.Status, got.Site.Code, got.Participant.Pseudonym)
	}
	var trail []string
	for _, e := range ber.events(t, "sample", ids[0]) {
		trail = append(trail, e.Action)
	}
	if len(trail) < 2 || trail[len(trail)-2] != "sample.import" && trail[0] != "sample.import" {
		t.Errorf("Berlin's trail of %s: %v", ids[0], trail)
	}

	// Berlin's signed receipt report, applied in Luxembourg on the shipment's page, brings
	// Luxembourg's records in line: the shipment received, its tubes in Berlin's custody.
	// A changed report or the same one twice is refused and changes nothing.
	report := ber.api(t, "GET", "/api/v1/shipments/"+sh.Code+"/receipt", berTech, nil).wantStatus(t, http.StatusOK).Body
	luxBefore := lux.state(t)
	tamperedReport := bytes.Replace(report, []byte(`"state":"received"`), []byte(`"state":"lost"`), 1)
	lux.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/receipt", luxTech, string(tamperedReport)).wantError(t, http.StatusUnprocessableEntity, "bad_signature", "receipt")
	lux.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/receipt", luxTech, string(manifest)).wantError(t, http.StatusUnprocessableEntity, "malformed_receipt", "receipt")
	lux.assertUnchanged(t, luxBefore)
	page := "/shipments/" + sh.Code
	luxBrowser := lux.signedIn(t, "technician")
	luxBrowser.get(t, page).wantStatus(t, http.StatusOK).wantTestID(t, "receipt-report-form")
	luxBrowser.upload(t, page, page+"/receipt", "file", sh.Code+".receipt.json", string(report)).wantRedirect(t, page)
	if st := luxBrowser.get(t, page).wantTestID(t, "shipment-status").Text(); st != "received" {
		t.Errorf("in Luxembourg after the receipt report the shipment is %q", st)
	}
	if got := lux.mustSample(t, ids[0]); got.Status != "received" || got.Site.Code != "DE-BER" {
		t.Errorf("in Luxembourg %s is %s at %s after Berlin's report", ids[0], got.Status, got.Site.Code)
	}
	luxBefore = lux.state(t)
	lux.api(t, "POST", "/api/v1/shipments/"+sh.Code+"/receipt", luxTech, string(report)).wantError(t, http.StatusConflict, "not_in_transit", "receipt")
	lux.assertUnchanged(t, luxBefore)

	// Berlin's chain of custody of the tube begins with Luxembourg's steps, carried in the
	// manifest and marked as such (the parent's collection included), then Berlin's own.
	var cust struct {
		Events []struct {
			Text, Sample, Instance, Action string
			Carried, Ancestor              bool
		}
	}
	ber.api(t, "GET", "/api/v1/samples/"+ids[0]+"/custody", berTech, nil).wantStatus(t, http.StatusOK).decode(t, &cust)
	var steps []string
	for _, e := range cust.Events {
		mark := ""
		if e.Carried {
			mark = "[" + e.Instance + "] "
		}
		steps = append(steps, mark+e.Text)
	}
	text := strings.Join(steps, "\n")
	luxName := luxDesc["instance"].(string)
	for _, want := range []string{"[" + luxName + "] collected (whole_blood", "[" + luxName + "] made from", "[" + luxName + "] shipped in " + sh.Code,
		"announced by " + luxName, "received at DE-BER from shipment " + sh.Code} {
		if !strings.Contains(text, want) {
			t.Errorf("Berlin's chain of custody of %s does not say %q:\n%s", ids[0], want, text)
		}
	}
	if len(cust.Events) == 0 || !cust.Events[0].Carried || cust.Events[len(cust.Events)-1].Carried {
		t.Errorf("carried steps come first, Berlin's own last:\n%s", text)
	}
}
