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

// fhirStore is a FHIR server's content as a loader leaves it after applying transaction
// Bundles of PUTs: the last resource put under each URL.
type fhirStore map[string]string

// load applies an NDJSON export, each line a transaction Bundle valid against the R4
// schema; it returns the pseudonyms whose Patient the feed carried.
func (st fhirStore) load(t *testing.T, ndjson []byte) []string {
	t.Helper()
	var patients []string
	for _, line := range strings.Split(strings.TrimSpace(string(ndjson)), "\n") {
		if line == "" {
			continue
		}
		fhirschema.Validate(t, []byte(line))
		var b struct {
			Type  string
			Entry []struct {
				Resource json.RawMessage
				Request  struct{ Method, URL string }
			}
		}
		if err := json.Unmarshal([]byte(line), &b); err != nil || b.Type != "transaction" {
			t.Fatalf("not a transaction bundle: %v %s", err, line)
		}
		for _, e := range b.Entry {
			if e.Request.Method != "PUT" {
				t.Errorf("entry %s is %s, want PUT (update as create)", e.Request.URL, e.Request.Method)
			}
			st[e.Request.URL] = string(e.Resource)
			if strings.HasPrefix(e.Request.URL, "Patient/") {
				patients = append(patients, strings.TrimPrefix(e.Request.URL, "Patient/"))
			}
		}
	}
	return patients
}

// TestFHIRExport_IncrementalRunConverges: a loader that applied the full feed and then
// the feed since its last run holds exactly what a fresh full load holds; the incremental
// feed carries the participants that changed and not the others.
func TestFHIRExport_IncrementalRunConverges(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	manager := a.usedToken(t, "manager")
	a.api(t, "PATCH", "/api/v1/studies/IBD", a.usedToken(t, "admin"), map[string]any{"default_diagnosis": "K51", "reason": "cohort"}).wantStatus(t, http.StatusOK)
	untouched := a.mustSample(t, a.mustAliquots(t, "nurse", "technician", 2)[0]).Participant.Pseudonym
	changing := a.mustAliquots(t, "nurse", "technician", 2)
	export := func(since string) []byte {
		t.Helper()
		path := "/api/v1/export/fhir?study=IBD"
		if since != "" {
			path += "&since=" + url.QueryEscape(since)
		}
		r := a.api(t, "GET", path, manager, nil).wantStatus(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/fhir+ndjson" {
			t.Errorf("Content-Type %q", ct)
		}
		return r.Body
	}
	loaded := fhirStore{}
	if got := loaded.load(t, export("")); len(got) != 2 {
		t.Fatalf("the full feed carries %d patients, want 2", len(got))
	}
	lastRun := time.Now().UTC()

	// Changes after the last run: a tube stored, a new participant with tubes.
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-FHIR", f, "", 9, 9)
	a.mustPlace(t, "technician", "BOX-FHIR", "", changing[0])
	newcomer := a.mustSample(t, a.mustAliquots(t, "nurse", "technician", 1)[0]).Participant.Pseudonym

	patients := loaded.load(t, export(lastRun.Format(time.RFC3339Nano)))
	if strings.Join(patients, ",") == "" || strings.Contains(strings.Join(patients, ","), untouched) {
		t.Errorf("the incremental feed carries %v: it must carry the changed participants and not %s", patients, untouched)
	}
	if !strings.Contains(strings.Join(patients, ","), newcomer) {
		t.Errorf("the incremental feed misses the new participant %s: %v", newcomer, patients)
	}
	fresh := fhirStore{}
	fresh.load(t, export(""))
	if len(fresh) != len(loaded) {
		t.Errorf("after the incremental run the loader holds %d resources, a fresh load %d", len(loaded), len(fresh))
	}
	for k, v := range fresh {
		if loaded[k] != v {
			t.Errorf("%s differs after the incremental run:\n%s\nfresh:\n%s", k, loaded[k], v)
		}
	}
	a.api(t, "GET", "/api/v1/export/fhir?since=last+week", manager, nil).wantStatus(t, http.StatusUnprocessableEntity)
	a.api(t, "GET", "/api/v1/export/fhir?study=NOPE", manager, nil).wantStatus(t, http.StatusUnprocessableEntity)
	a.api(t, "GET", "/api/v1/export/fhir?sutdy=IBD", manager, nil).wantStatus(t, http.StatusBadRequest)
	a.api(t, "GET", "/api/v1/export/fhir", a.usedToken(t, "technician"), nil).wantStatus(t, http.StatusForbidden)
}
