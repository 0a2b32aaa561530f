package study_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"biobank/internal/checkcode"
	"biobank/internal/study"
)

// studyTables are the tables a study's set-up writes to.
var studyTables = []string{"studies", "visit_definitions", "specimen_requirements", "consent_documents", "audit_events"}

func TestCreate_AdministratorCreatesStudyAndIsAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.Studies.Create(ctx, f.Admin, study.Input{Code: " ibd ", Name: " Inflammatory bowel disease ", Reason: "new cohort"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ID == 0 || st.Code != "IBD" || st.Name != "Inflammatory bowel disease" || !st.Active || st.PseudonymScheme != checkcode.SchemeMainzelliste {
		t.Errorf("created %+v; want code IBD, trimmed name, active, Mainzelliste check", st)
	}
	got, err := f.Studies.ByCode(ctx, "ibd")
	if err != nil || got.ID != st.ID {
		t.Fatalf("ByCode(ibd) = %+v, %v", got, err)
	}
	ev := lastEvent(t, f.DB, "IBD", "study.create")
	if ev.Actor != "admin" || ev.ActorID == nil || *ev.ActorID != f.Admin.UserID || ev.Site != "LUX" || ev.Reason != "new cohort" {
		t.Errorf("audit event %+v: want actor admin (%d) at LUX with the reason", ev, f.Admin.UserID)
	}
}

func TestCreate_NurseIsForbidden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	check := unchanged(t, f.DB, studyTables...)
	_, err := f.Studies.Create(context.Background(), f.Nurse, study.Input{Code: "IBD", Name: "IBD"})
	wantForbidden(t, err)
	check()
}

func TestCreate_RefusesDuplicateCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustStudy(t, "IBD")
	check := unchanged(t, f.DB, studyTables...)
	_, err := f.Studies.Create(context.Background(), f.Admin, study.Input{Code: "ibd", Name: "Another"})
	c := wantConflict(t, err, "duplicate_study")
	if c.Field != "code" {
		t.Errorf("conflict field = %q, want code", c.Field)
	}
	check()
}

func TestCreate_RefusesBadCodeNameOrPattern(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name  string
		in    study.Input
		field string
	}{
		{"empty code", study.Input{Code: "", Name: "IBD"}, "code"},
		{"one-letter code", study.Input{Code: "X", Name: "IBD"}, "code"},
		{"code with a space", study.Input{Code: "IB D", Name: "IBD"}, "code"},
		{"code too long", study.Input{Code: strings.Repeat("A", 17), Name: "IBD"}, "code"},
		{"code starting with a dash", study.Input{Code: "-IBD", Name: "IBD"}, "code"},
		{"empty name", study.Input{Code: "IBD", Name: "  "}, "name"},
		{"name too long", study.Input{Code: "IBD", Name: strings.Repeat("n", 201)}, "name"},
		{"pattern not a regular expression", study.Input{Code: "IBD", Name: "IBD", PseudonymPattern: "TTP-[0-9"}, "pseudonym_pattern"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := unchanged(t, f.DB, studyTables...)
			_, err := f.Studies.Create(context.Background(), f.Admin, tc.in)
			wantValidation(t, err, tc.field)
			check()
		})
	}
}

func TestUpdate_ClosesStudyWithReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustStudy(t, "RA")
	closed := false
	check := unchanged(t, f.DB, studyTables...)
	_, err := f.Studies.Update(ctx, f.Admin, "RA", study.Input{Name: "Rheumatoid arthritis", Active: &closed})
	wantValidation(t, err, "reason")
	_, err = f.Studies.Update(ctx, f.Nurse, "RA", study.Input{Name: "Rheumatoid arthritis", Active: &closed, Reason: "x"})
	wantForbidden(t, err)
	check()

	st, err := f.Studies.Update(ctx, f.Admin, "ra", study.Input{Name: "Rheumatoid arthritis", Active: &closed, Reason: "recruitment ended"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Active || st.Name != "Rheumatoid arthritis" {
		t.Errorf("updated %+v; want closed and renamed", st)
	}
	ev := lastEvent(t, f.DB, "RA", "study.update")
	var before, after study.Study
	if err := json.Unmarshal(ev.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if ev.Reason != "recruitment ended" || !before.Active || after.Active || after.Name != "Rheumatoid arthritis" {
		t.Errorf("audit event reason %q before %s after %s", ev.Reason, ev.Before, ev.After)
	}
}

func TestAddVisit_StoresRequirementsConvertingMicrolitresToMillilitres(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustStudy(t, "MS")
	v, err := f.Studies.AddVisit(ctx, f.Admin, "ms", study.VisitInput{
		Code: "baseline", Name: "Baseline", DayOffset: 0, WindowBefore: 0, WindowAfter: 14,
		Requirements: []study.RequirementInput{
			{SpecimenType: "csf", Container: "pps", Volume: dec("500"), Unit: "µL", Aliquots: 5, AliquotVolume: decPtr("100"), StorageTemperature: "-80"},
			{SpecimenType: "serum", Container: "SST", Volume: dec("2.5"), Unit: "uL"},
			{SpecimenType: "stool", Container: "STL", Volume: dec("250"), Unit: "mg", StorageTemperature: "-20"},
			{SpecimenType: "whole_blood", Container: "", Volume: dec("9"), Unit: "", Aliquots: 2, AliquotVolume: decPtr("1.5"), AliquotType: "plasma"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.Code != "BASELINE" || v.ID == 0 {
		t.Errorf("visit %+v: want code BASELINE and an ID", v)
	}
	st, err := f.Studies.ByCode(ctx, "MS")
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := st.Visit("baseline")
	if !ok || len(stored.Requirements) != 4 {
		t.Fatalf("stored visit %+v, found %v; want 4 requirements", stored, ok)
	}
	want := []struct {
		typ, container, volume, unit, aliquotVolume, temperature string
		aliquots, position                                       int
	}{
		{"csf", "PPS", "0.5", "mL", "0.1", "-80", 5, 1},
		{"serum", "SST", "0.0025", "mL", "", "-80", 0, 2},
		{"stool", "STL", "250", "mg", "", "-20", 0, 3},
		{"whole_blood", "ZZZ", "9", "mL", "1.5", "-80", 2, 4},
	}
	for i, w := range want {
		r := stored.Requirements[i]
		if r.SpecimenType != w.typ || r.Container != w.container || !r.Volume.Equal(dec(w.volume)) || r.Unit != w.unit ||
			r.Aliquots != w.aliquots || r.StorageTemperature != w.temperature || r.Position != w.position {
			t.Errorf("requirement %d = %+v (volume %s); want %+v", i, r, r.Volume, w)
		}
		switch {
		case w.aliquotVolume == "" && r.AliquotVolume != nil:
			t.Errorf("requirement %d: aliquot volume %s, want none", i, r.AliquotVolume)
		case w.aliquotVolume != "" && (r.AliquotVolume == nil || !r.AliquotVolume.Equal(dec(w.aliquotVolume))):
			t.Errorf("requirement %d: aliquot volume %v, want %s", i, r.AliquotVolume, w.aliquotVolume)
		}
	}
	if r := stored.Requirements[3]; r.AliquotType == nil || *r.AliquotType != "plasma" {
		t.Errorf("aliquot type = %v, want plasma", r.AliquotType)
	}
	ev := lastEvent(t, f.DB, "MS", "study.add_visit")
	var after study.VisitDefinition
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if after.Code != "BASELINE" || len(after.Requirements) != 4 || !after.Requirements[0].Volume.Equal(dec("0.5")) {
		t.Errorf("audited visit %s: want BASELINE with 4 requirements, the first 0.5 mL", ev.After)
	}
}

func TestAddVisit_RefusesBadVisitsAndRequirementsNamingTheField(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustStudy(t, "IBD")
	with := func(change func(r *study.RequirementInput)) []study.RequirementInput {
		r := blood()
		change(&r)
		return []study.RequirementInput{r}
	}
	cases := []struct {
		name  string
		in    study.VisitInput
		field string
	}{
		{"bad visit code", study.VisitInput{Code: "month 3", Name: "Month 3"}, "code"},
		{"empty visit code", study.VisitInput{Code: "", Name: "Month 3"}, "code"},
		{"empty visit name", study.VisitInput{Code: "M3", Name: ""}, "name"},
		{"negative day offset", study.VisitInput{Code: "M3", Name: "Month 3", DayOffset: -1}, "day_offset"},
		{"negative window", study.VisitInput{Code: "M3", Name: "Month 3", WindowBefore: -1}, "window_before"},
		{"volume zero", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Volume = dec("0") })}, "requirements[0].volume"},
		{"volume negative", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Volume = dec("-2") })}, "requirements[0].volume"},
		{"volume over 1000 mL", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Volume = dec("1000.5") })}, "requirements[0].volume"},
		{"stool over 1 kg", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) {
			r.SpecimenType, r.Container, r.Volume, r.Unit = "stool", "STL", dec("1000001"), "mg"
		})}, "requirements[0].volume"},
		{"DNA over 1 g", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) {
			r.SpecimenType, r.Container, r.Volume, r.Unit = "dna", "PPS", dec("1000001"), "ug"
		})}, "requirements[0].volume"},
		{"too many decimals", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Volume = dec("0.00001") })}, "requirements[0].volume"},
		{"unknown unit", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Unit = "gallon" })}, "requirements[0].volume"},
		{"unknown specimen type", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.SpecimenType = "blood" })}, "requirements[0].specimen_type"},
		{"unknown container", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Container = "XYZ" })}, "requirements[0].container"},
		{"aliquots without aliquot volume", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Aliquots = 4 })}, "requirements[0].aliquot_volume"},
		{"aliquot volume zero", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Aliquots, r.AliquotVolume = 4, decPtr("0") })}, "requirements[0].aliquot_volume"},
		{"201 aliquots", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Aliquots, r.AliquotVolume = 201, decPtr("0.01") })}, "requirements[0].aliquots"},
		{"negative aliquots", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.Aliquots = -1 })}, "requirements[0].aliquots"},
		{"unknown aliquot type", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) {
			r.Aliquots, r.AliquotVolume, r.AliquotType = 2, decPtr("1"), "juice"
		})}, "requirements[0].aliquot_type"},
		{"unknown storage temperature", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: with(func(r *study.RequirementInput) { r.StorageTemperature = "-70" })}, "requirements[0].storage_temperature"},
		{"second requirement bad", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: []study.RequirementInput{blood(), {SpecimenType: "serum", Container: "SST", Volume: dec("0"), Unit: "mL"}}}, "requirements[1].volume"},
		{"too many requirements", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: make([]study.RequirementInput, 51)}, "requirements"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := unchanged(t, f.DB, studyTables...)
			_, err := f.Studies.AddVisit(context.Background(), f.Admin, "IBD", tc.in)
			wantValidation(t, err, tc.field)
			check()
		})
	}
}

func TestAddVisit_MaxAliquotsAndLargestVolumeAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustStudy(t, "IBD")
	f.mustVisit(t, "IBD", study.VisitInput{Code: "M3", Name: "Month 3", Requirements: []study.RequirementInput{
		{SpecimenType: "urine", Container: "PPS", Volume: dec("1000"), Unit: "mL", Aliquots: 200, AliquotVolume: decPtr("5")},
		{SpecimenType: "serum", Container: "SST", Volume: dec("1000000"), Unit: "µL"},
		{SpecimenType: "stool", Container: "STL", Volume: dec("1000000"), Unit: "mg"},
	}})
}

func TestAddVisit_RefusesDuplicateVisitCodeNurseAndUnknownStudy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustStudy(t, "IBD")
	f.mustStudy(t, "RA")
	f.mustVisit(t, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", Requirements: []study.RequirementInput{blood()}})
	// Another study may use the same visit code.
	f.mustVisit(t, "RA", study.VisitInput{Code: "BASELINE", Name: "Baseline"})

	check := unchanged(t, f.DB, studyTables...)
	_, err := f.Studies.AddVisit(ctx, f.Admin, "IBD", study.VisitInput{Code: "baseline", Name: "Again", Requirements: []study.RequirementInput{blood()}})
	if c := wantConflict(t, err, "duplicate_visit"); c.Field != "code" {
		t.Errorf("conflict field = %q, want code", c.Field)
	}
	_, err = f.Studies.AddVisit(ctx, f.Nurse, "IBD", study.VisitInput{Code: "M3", Name: "Month 3"})
	wantForbidden(t, err)
	_, err = f.Studies.AddVisit(ctx, f.Admin, "NOPE", study.VisitInput{Code: "M3", Name: "Month 3"})
	wantNotFound(t, err)
	check()
}

func TestAddDocument_StoresTiersAsASetInDisplayOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustStudy(t, "IBD")
	doc, err := f.Studies.AddDocument(ctx, f.Admin, "IBD", study.DocumentInput{Version: "2.1",
		Tiers: []string{"Recontact", " storage ", "storage", ""}, Reason: "ethics approval 2024-17"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"storage", "recontact"}
	if got := doc.Tiers.Strings(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("tiers = %v, want %v", got, want)
	}
	st, err := f.Studies.ByCode(ctx, "IBD")
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := st.Document("2.1")
	if !ok || strings.Join(stored.Tiers.Strings(), ",") != "storage,recontact" || stored.RetiredAt != nil {
		t.Errorf("stored document %+v (found %v)", stored, ok)
	}
	ev := lastEvent(t, f.DB, "IBD", "study.add_consent_document")
	var after study.ConsentDocument
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if ev.Reason != "ethics approval 2024-17" || after.Version != "2.1" || strings.Join(after.Tiers.Strings(), ",") != "storage,recontact" {
		t.Errorf("audit event reason %q after %s", ev.Reason, ev.After)
	}
}

func TestAddDocument_RefusesBadTiersVersionsAndDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustStudy(t, "IBD")
	f.mustDocument(t, "IBD", "1.0", "storage", "genetic")
	cases := []struct {
		name     string
		in       study.DocumentInput
		field    string
		conflict string
	}{
		{"unknown tier", study.DocumentInput{Version: "2.0", Tiers: []string{"storage", "marketing"}}, "tiers", ""},
		{"no tiers", study.DocumentInput{Version: "2.0", Tiers: nil}, "tiers", ""},
		{"only blank tiers", study.DocumentInput{Version: "2.0", Tiers: []string{" ", ""}}, "tiers", ""},
		{"empty version", study.DocumentInput{Version: "", Tiers: []string{"storage"}}, "version", ""},
		{"version with a space", study.DocumentInput{Version: "v 2", Tiers: []string{"storage"}}, "version", ""},
		{"duplicate version", study.DocumentInput{Version: " 1.0 ", Tiers: []string{"storage"}}, "version", "duplicate_version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := unchanged(t, f.DB, studyTables...)
			_, err := f.Studies.AddDocument(context.Background(), f.Admin, "IBD", tc.in)
			if tc.conflict != "" {
				if c := wantConflict(t, err, tc.conflict); c.Field != tc.field {
					t.Errorf("conflict field = %q, want %q", c.Field, tc.field)
				}
			} else {
				wantValidation(t, err, tc.field)
			}
			check()
		})
	}
	t.Run("nurse", func(t *testing.T) {
		check := unchanged(t, f.DB, studyTables...)
		_, err := f.Studies.AddDocument(context.Background(), f.Nurse, "IBD", study.DocumentInput{Version: "3", Tiers: []string{"storage"}})
		wantForbidden(t, err)
		check()
	})
}

func TestRetireDocument_NeedsReasonAndHappensOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustStudy(t, "IBD")
	f.mustDocument(t, "IBD", "1.0", "storage")
	f.mustDocument(t, "IBD", "2.0", "storage", "sharing")

	check := unchanged(t, f.DB, studyTables...)
	_, err := f.Studies.RetireDocument(ctx, f.Admin, "IBD", "1.0", "  ")
	if v := wantValidation(t, err, "reason"); v.Code != "reason_required" {
		t.Errorf("code = %q, want reason_required", v.Code)
	}
	_, err = f.Studies.RetireDocument(ctx, f.Nurse, "IBD", "1.0", "superseded")
	wantForbidden(t, err)
	_, err = f.Studies.RetireDocument(ctx, f.Admin, "IBD", "9.9", "superseded")
	wantNotFound(t, err)
	check()

	doc, err := f.Studies.RetireDocument(ctx, f.Admin, "ibd", "1.0", "superseded by 2.0")
	if err != nil {
		t.Fatal(err)
	}
	if doc.RetiredAt == nil {
		t.Fatalf("retired document %+v has no retired_at", doc)
	}
	ev := lastEvent(t, f.DB, "IBD", "study.retire_consent_document")
	if ev.Reason != "superseded by 2.0" || ev.Actor != "admin" {
		t.Errorf("audit event actor %q reason %q", ev.Actor, ev.Reason)
	}

	check = unchanged(t, f.DB, studyTables...)
	_, err = f.Studies.RetireDocument(ctx, f.Admin, "IBD", "1.0", "again")
	wantConflict(t, err, "already_retired")
	check()

	st, err := f.Studies.ByCode(ctx, "IBD")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := st.Document("1.0"); d.RetiredAt == nil {
		t.Error("version 1.0 is not stored as retired")
	}
	if d, _ := st.Document("2.0"); d.RetiredAt != nil {
		t.Error("version 2.0 was retired too")
	}
}

func TestList_ReturnsStudiesWithSchedulesByCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustStudy(t, "RA")
	f.mustStudy(t, "IBD")
	f.mustVisit(t, "IBD", study.VisitInput{Code: "M3", Name: "Month 3", DayOffset: 90})
	f.mustVisit(t, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", DayOffset: 0})
	studies, err := f.Studies.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(studies) != 2 || studies[0].Code != "IBD" || studies[1].Code != "RA" {
		t.Fatalf("studies = %+v, want IBD then RA", studies)
	}
	if v := studies[0].Visits; len(v) != 2 || v[0].Code != "BASELINE" || v[1].Code != "M3" {
		t.Errorf("IBD visits = %+v, want BASELINE then M3 (by day offset)", v)
	}
}

func TestParseICD10_TakesCodesAndRefusesFreeText(t *testing.T) {
	for in, want := range map[string]string{"K50": "K50", " k51.0 ": "K51.0", "M06.9": "M06.9", "G35": "G35", "": ""} {
		if got, err := study.ParseICD10("diagnosis", in); err != nil || got != want {
			t.Errorf("ParseICD10(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Crohn's disease", "K5", "50K", "K50.12345", "K50-1"} {
		if _, err := study.ParseICD10("diagnosis", in); err == nil {
			t.Errorf("ParseICD10(%q) accepted", in)
		}
	}
}
