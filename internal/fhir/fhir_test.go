package fhir_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/auth"
	"biobank/internal/fhir"
	"biobank/internal/fhir/fhirschema"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/sprec"
	"biobank/internal/study"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// demoSerum is a serum aliquot as the demo data makes them: a participant of the IBD
// cohort at the Luxembourg site, a serum tube spun at room temperature and split, the
// aliquot frozen at −80 °C.
func demoSerum() (sample.Sample, sample.Sample, participant.Participant) {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	sex, year := "female", 1972
	p := participant.Participant{ID: 7, Pseudonym: "N7K2QX4TRM", Sex: &sex, BirthYear: &year, UpdatedAt: at("2026-10-02T08:00:00Z")}
	site := auth.Site{ID: 1, Code: "LUX", Name: "Luxembourg — integrated biobank site", Country: "LU"}
	ibd := study.Study{ID: 1, Code: "IBD"}
	received := at("2026-10-02T09:40:00Z")
	parent := sample.Sample{ID: 100, Accession: "AC0000010041", ParticipantID: 7, Participant: p, StudyID: 1, Study: ibd, SpecimenType: "serum",
		Container: "SST", Volume: decimal.RequireFromString("0"), InitialVolume: decimal.RequireFromString("7.5"), Unit: "mL",
		CollectedAt: at("2026-10-02T08:55:00Z"), ReceivedAt: &received, Status: sample.Consumed, SiteID: 1, Site: site,
		SPREC: "SER-SST-A-B-N-B-A", UpdatedAt: at("2026-10-02T11:00:00Z")}
	started, ended, frozen := at("2026-10-02T09:50:00Z"), at("2026-10-02T10:05:00Z"), at("2026-10-02T10:30:00Z")
	g, min, brake := 2000, 10, true
	proc, _ := json.Marshal(sample.Processing{PrimaryContainer: "SST", StartedAt: &started, PreCentrifugationTemp: sprec.TempRoom,
		Centrifugation: &sample.Spin{Temp: sprec.TempRoom, G: &g, Minutes: &min, Brake: &brake}, CentrifugationEndedAt: &ended,
		FrozenAt: &frozen, StorageTemperature: sprec.StoreMinus80})
	tube := "FX10004711"
	aliquot := sample.Sample{ID: 101, Accession: "AC00000101X3", TubeBarcode: &tube, ParticipantID: 7, Participant: p, StudyID: 1, Study: ibd,
		SpecimenType: "serum", Container: "CRY", Volume: decimal.RequireFromString("0.5"), InitialVolume: decimal.RequireFromString("0.5"),
		Unit: "mL", CollectedAt: parent.CollectedAt, ReceivedAt: &received, Status: sample.Stored, SiteID: 1, Site: site, ParentID: &parent.ID,
		Parent: &parent, Processing: proc, SPREC: "SER-SST-A-B-N-B-A", UpdatedAt: at("2026-10-02T10:31:00Z")}
	return aliquot, parent, p
}

// TestSpecimenOf_Golden renders the demo serum aliquot, its parent, its Patient and its
// Condition and compares them with the golden files; every one validates against the R4
// schema.
func TestSpecimenOf_Golden(t *testing.T) {
	s := fhir.NewService(nil, nil, "AC")
	aliquot, parent, p := demoSerum()
	for name, res := range map[string]any{
		"specimen-aliquot": s.SpecimenOf(aliquot, "K50"),
		"specimen-parent":  s.SpecimenOf(parent, "K50"),
		"patient":          s.PatientOf(p),
		"condition":        fhir.ConditionOf(p.Pseudonym, "IBD", "K50", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)),
	} {
		got, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fhirschema.Validate(t, got)
		path := filepath.Join("testdata", "golden", name+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if string(want) != string(got)+"\n" {
			t.Errorf("%s differs from %s:\n%s", name, path, got)
		}
	}
}

// TestSpecimenType_TakesEveryCodingOfAType: a search's type token may be the SNOMED code,
// the BBMRI material type, with or without their systems, or the biobank's own type.
func TestSpecimenType_TakesEveryCodingOfAType(t *testing.T) {
	for _, token := range []string{"serum", "119364003", fhir.SNOMED + "|119364003", "blood-serum", fhir.SystemMaterialType + "|blood-serum"} {
		if got, ok := fhir.SpecimenType(token); !ok || got != "serum" {
			t.Errorf("SpecimenType(%q) = %q, %v", token, got, ok)
		}
	}
	for _, token := range []string{"", "blood", fhir.ICD10 + "|119364003", "http://loinc.org|blood-serum"} {
		if got, ok := fhir.SpecimenType(token); ok {
			t.Errorf("SpecimenType(%q) = %q, want refused", token, got)
		}
	}
}

// TestOutcomeAndCapability_Validate: the error body and the CapabilityStatement are valid R4.
func TestOutcomeAndCapability_Validate(t *testing.T) {
	for _, res := range []any{fhir.Outcome("not-found", "No Specimen AC0000000000 was found."), fhir.Capability("2026-11-30")} {
		doc, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		fhirschema.Validate(t, doc)
	}
}

// TestSchema_RefusesInvalidResources: the schema check is not a formality.
func TestSchema_RefusesInvalidResources(t *testing.T) {
	for _, doc := range []string{
		`{"resourceType":"Specimen","id":"A1","status":"bogus"}`,
		`{"resourceType":"Specimen","id":"has space"}`,
		`{"resourceType":"Patient","id":"P1","gender":"m"}`,
		`{"resourceType":"Observation","id":"O1"}`,
		`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Specimen","id":"A1","unknownElement":1}}]}`,
	} {
		if err := fhirschema.Check([]byte(doc)); err == nil {
			t.Errorf("the schema accepted %s", doc)
		}
	}
}
