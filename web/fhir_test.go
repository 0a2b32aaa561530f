package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"biobank/internal/fhir/fhirschema"
	"biobank/web"
)

// fhirDoc checks a FHIR response: its status, FHIR's media type, and a body valid against
// the R4 schema; it returns the body decoded loosely.
func fhirDoc(t *testing.T, r *apiResp, status int) map[string]any {
	t.Helper()
	r.wantStatus(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("Content-Type %q, want application/fhir+json", ct)
	}
	fhirschema.Validate(t, r.Body)
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestFHIR_ReadsSearchesAndRefuses reads every resource kind the server emits through the
// API's tokens and validates each against the FHIR R4 schema: the CapabilityStatement, a
// Specimen and its parent, the Patient (pseudonym, sex, year of birth, nothing more), the
// Condition (the study's ICD-10 default), searchset Bundles paged by keyset through their
// next links, and OperationOutcomes for an unknown type, an unknown parameter, an unknown
// id, another site's specimen and a caller without a token.
func TestFHIR_ReadsSearchesAndRefuses(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	admin, tech, kiel := a.usedToken(t, "admin"), a.usedToken(t, "technician"), a.usedToken(t, "technician-kiel")
	a.api(t, "PATCH", "/api/v1/studies/IBD", admin, map[string]any{"default_diagnosis": "K50", "reason": "cohort diagnosis"}).wantStatus(t, http.StatusOK)
	aliquots := a.mustAliquots(t, "nurse", "technician", 3)
	child := a.mustSample(t, aliquots[0])
	parent := child.Parent.Accession
	pseudonym := child.Participant.Pseudonym

	fhirDoc(t, a.api(t, "GET", "/fhir/metadata", tech, nil), http.StatusOK)

	sp := fhirDoc(t, a.api(t, "GET", "/fhir/Specimen/"+aliquots[0], tech, nil), http.StatusOK)
	raw, _ := json.Marshal(sp)
	for _, want := range []string{`"Specimen/` + parent + `"`, `"Patient/` + pseudonym + `"`, `"code":"ALIQUOT"`, `"code":"119361006"`, `"code":"K50"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the Specimen lacks %s: %s", want, raw)
		}
	}
	fhirDoc(t, a.api(t, "GET", "/fhir/Specimen/"+parent, tech, nil), http.StatusOK)

	pt := fhirDoc(t, a.api(t, "GET", "/fhir/Patient/"+pseudonym, tech, nil), http.StatusOK)
	for k := range pt {
		if k != "resourceType" && k != "id" && k != "meta" && k != "identifier" && k != "gender" && k != "birthDate" {
			t.Errorf("the Patient carries %q: only the pseudonym, sex and year of birth may leave", k)
		}
	}
	cond := fhirDoc(t, a.api(t, "GET", "/fhir/Condition?subject=Patient/"+pseudonym, tech, nil), http.StatusOK)
	if raw, _ := json.Marshal(cond); !strings.Contains(string(raw), `"code":"K50"`) || cond["total"] != float64(1) {
		t.Errorf("conditions %s", raw)
	}

	// Paging by keyset: one specimen a page, following next links, finds all four.
	seen := map[string]bool{}
	next := "/fhir/Specimen?subject=" + url.QueryEscape("Patient/"+pseudonym) + "&_count=1"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("the next links never end")
		}
		b := fhirDoc(t, a.api(t, "GET", next, tech, nil), http.StatusOK)
		next = ""
		for _, l := range b["link"].([]any) {
			if l := l.(map[string]any); l["relation"] == "next" {
				u, _ := url.Parse(l["url"].(string))
				next = u.RequestURI()
			}
		}
		for _, e := range b["entry"].([]any) {
			seen[e.(map[string]any)["resource"].(map[string]any)["id"].(string)] = true
		}
	}
	if len(seen) != 4 || !seen[parent] || !seen[aliquots[2]] {
		t.Errorf("paging found %v, want the parent and its three aliquots", seen)
	}
	plasma := fhirDoc(t, a.api(t, "GET", "/fhir/Specimen?type="+url.QueryEscape("http://snomed.info/sct|119361006"), tech, nil), http.StatusOK)
	if n := len(plasma["entry"].([]any)); n != 3 {
		t.Errorf("plasma search found %d, want 3", n)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if b := fhirDoc(t, a.api(t, "GET", "/fhir/Specimen?_lastUpdated=gt"+url.QueryEscape(future), tech, nil), http.StatusOK); b["entry"] != nil {
		t.Errorf("specimens updated in the future: %v", b["entry"])
	}

	// Refusals are OperationOutcomes.
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/fhir/Observation", tech, http.StatusBadRequest},
		{"/fhir/Observation/1", tech, http.StatusBadRequest},
		{"/fhir/Specimen?colour=red", tech, http.StatusBadRequest},
		{"/fhir/Specimen?_count=0", tech, http.StatusBadRequest},
		{"/fhir/Specimen?type=blood", tech, http.StatusBadRequest},
		{"/fhir/Specimen?_lastUpdated=yesterday", tech, http.StatusBadRequest},
		{"/fhir/Specimen/AC0000000000", tech, http.StatusNotFound},
		{"/fhir/Patient/NOBODY000", tech, http.StatusNotFound},
		{"/fhir/Specimen/" + aliquots[0], kiel, http.StatusForbidden},
		{"/fhir/Patient/" + pseudonym, kiel, http.StatusForbidden},
		{"/fhir/Specimen/" + aliquots[0], "", http.StatusUnauthorized},
	} {
		doc := fhirDoc(t, a.api(t, "GET", tc.path, tc.token, nil), tc.status)
		if doc["resourceType"] != "OperationOutcome" {
			t.Errorf("%s: %v", tc.path, doc)
		}
	}
	if b := fhirDoc(t, a.api(t, "GET", "/fhir/Specimen", kiel, nil), http.StatusOK); b["entry"] != nil {
		t.Errorf("KIEL's technician finds LUX's specimens: %v", b["entry"])
	}
}
