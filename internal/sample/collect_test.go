package sample_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/sample"
	"biobank/internal/study"
)

// TestCollect checks the registration of a visit's tubes. The study gets a second visit,
// M3, which is never opened.
func TestCollect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, err := w.studies.AddVisit(context.Background(), w.admin, "IBD", study.VisitInput{Code: "M3", Name: "Month 3", DayOffset: 90, WindowBefore: 14, WindowAfter: 14}); err != nil {
		t.Fatal(err)
	}
	runScenarios(t, w,
		scenario{"BadInputWritesNothing", collectBadInputWritesNothing},
		scenario{"FirstCollectionOpensTheVisit", collectFirstCollectionOpensTheVisit},
		scenario{"MicrolitresConvertedToMillilitres", collectMicrolitresConvertedToMillilitres},
		scenario{"SeveralTubesEachWithItsAccessionAndAuditEvent", collectSeveralTubesEachWithItsAccessionAndAuditEvent},
	)
}

func collectBadInputWritesNothing(t *testing.T, w world) {
	ctx := context.Background()
	noConsent := w.newParticipant(t, "IBD", nil, true)
	blood := tube("whole_blood", "PED", "4")
	with := func(edit func(*sample.Collection)) sample.Collection {
		in := w.collection(blood, tube("serum", "SST", "5"))
		edit(&in)
		return in
	}
	volume := func(v, unit string) sample.Collection {
		return with(func(in *sample.Collection) { in.Tubes[0].Volume, in.Tubes[0].Unit = dec(v), unit })
	}
	many := make([]sample.Tube, sample.MaxTubes+1)
	for i := range many {
		many[i] = blood
	}
	type want struct {
		conflict  string // a ConflictError code, or
		field     string // a ValidationError field, or
		forbidden bool
	}
	cases := []struct {
		name  string
		actor auth.Actor
		in    sample.Collection
		want  want
	}{
		{"no consent", w.nurse, with(func(in *sample.Collection) { in.Participant = noConsent }), want{conflict: "consent_required"}},
		{"first collection outside the visit's window", w.nurse, with(func(in *sample.Collection) { in.Visit = "M3" }), want{conflict: "out_of_window"}},
		{"first collection with a reason but a bad tube", w.nurse, with(func(in *sample.Collection) {
			in.Visit, in.Reason, in.Tubes[1].Container = "M3", "travelling", "JAR"
		}), want{field: "tubes[1].container"}},
		{"reason too long", w.nurse, with(func(in *sample.Collection) { in.Visit, in.Reason = "M3", strings.Repeat("r", 2001) }), want{field: "reason"}},
		{"unknown visit", w.nurse, with(func(in *sample.Collection) { in.Visit = "M99" }), want{field: "visit"}},
		{"unknown study", w.nurse, with(func(in *sample.Collection) { in.Study = "NOPE" }), want{field: "study"}},
		{"no study", w.nurse, with(func(in *sample.Collection) { in.Study = "" }), want{field: "study"}},
		{"unknown participant", w.nurse, with(func(in *sample.Collection) { in.Participant = "NOSUCHONE" }), want{}},
		{"volume zero", w.nurse, volume("0", "mL"), want{field: "tubes[0].volume"}},
		{"volume negative", w.nurse, volume("-2", "mL"), want{field: "tubes[0].volume"}},
		{"volume over a litre", w.nurse, volume("1000.5", "mL"), want{field: "tubes[0].volume"}},
		{"volume over a litre in µL", w.nurse, volume("1000001", "µL"), want{field: "tubes[0].volume"}},
		{"unknown unit", w.nurse, volume("4", "cc"), want{field: "tubes[0].volume"}},
		{"collected in the future", w.nurse, with(func(in *sample.Collection) {
			in.CollectedAt = time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
		}), want{field: "collected_at"}},
		{"collection time unreadable", w.nurse, with(func(in *sample.Collection) { in.CollectedAt = "yesterday" }), want{field: "collected_at"}},
		{"collected before the visit", w.nurse, with(func(in *sample.Collection) {
			in.CollectedAt = time.Now().UTC().AddDate(0, 0, -10).Format(time.RFC3339)
		}), want{field: "collected_at"}},
		{"no tubes", w.nurse, with(func(in *sample.Collection) { in.Tubes = nil }), want{field: "tubes"}},
		{"more than 50 tubes", w.nurse, with(func(in *sample.Collection) { in.Tubes = many }), want{field: "tubes"}},
		{"unknown specimen type", w.nurse, with(func(in *sample.Collection) { in.Tubes[1].SpecimenType = "blood" }), want{field: "tubes[1].specimen_type"}},
		{"unknown container", w.nurse, with(func(in *sample.Collection) { in.Tubes[1].Container = "JAR" }), want{field: "tubes[1].container"}},
		{"nurse of another site", w.nurse2, with(func(*sample.Collection) {}), want{forbidden: true}},
		{"technician of another site", w.tech2, with(func(*sample.Collection) {}), want{forbidden: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := w.tally(t)
			_, err := w.samples.Collect(ctx, c.actor, c.in)
			switch {
			case c.want.conflict != "":
				wantConflict(t, err, c.want.conflict)
			case c.want.field != "":
				wantValidation(t, err, c.want.field)
			case c.want.forbidden:
				wantForbidden(t, err)
			default:
				if err == nil {
					t.Fatal("accepted")
				}
			}
			w.unchanged(t, before)
		})
	}
}

// The first collection of a visit not yet opened opens it, dated by the collection time,
// in the same transaction; outside the window only with a reason, which the visit keeps.
func collectFirstCollectionOpensTheVisit(t *testing.T, w world) {
	ctx := context.Background()
	fresh := w.newParticipant(t, "IBD", []string{"storage"}, false)
	in := w.collection(tube("whole_blood", "PED", "4"))
	in.Participant = fresh
	out := w.mustCollectTubes(t, in)
	p, err := w.people.Get(ctx, w.nurse, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Visits) != 1 || p.Visits[0].Definition.Code != "BASELINE" || p.Visits[0].ID != out[0].VisitID {
		t.Fatalf("visits after the first collection: %+v, sample's visit %d", p.Visits, out[0].VisitID)
	}
	collected, _ := time.Parse(time.RFC3339, in.CollectedAt)
	if got, want := p.Visits[0].VisitDate.Format("2006-01-02"), collected.Format("2006-01-02"); got != want || p.Visits[0].OutOfWindowReason != "" {
		t.Errorf("visit dated %s (reason %q), want %s, inside the window", got, p.Visits[0].OutOfWindowReason, want)
	}
	var opened int64
	if err := w.db.Gorm.Raw("SELECT count(*) FROM audit_events WHERE action = 'visit.open' AND entity_id = ? AND actor = ?", fresh, w.nurse.Username).Scan(&opened).Error; err != nil || opened != 1 {
		t.Errorf("visit.open events for %s: %d, %v; want 1", fresh, opened, err)
	}
	// A second collection at the same visit uses the visit that is open.
	again := w.mustCollectTubes(t, in)
	if again[0].VisitID != out[0].VisitID {
		t.Errorf("second collection on visit %d, want %d", again[0].VisitID, out[0].VisitID)
	}

	// Month 3 for someone enrolled today is outside its window: refused, naming it, until
	// a reason is given.
	in.Visit = "M3"
	_, err = w.samples.Collect(ctx, w.nurse, in)
	if c := wantConflict(t, err, "out_of_window"); c.Field != "collected_at" || !strings.Contains(c.Message, "Month 3") {
		t.Errorf("got %+v, want out_of_window on collected_at naming the visit", c)
	}
	in.Reason = "seen early: travelling abroad at month 3"
	m3 := w.mustCollectTubes(t, in)
	if p, err = w.people.Get(ctx, w.nurse, fresh); err != nil {
		t.Fatal(err)
	}
	for _, v := range p.Visits {
		if v.ID == m3[0].VisitID && v.OutOfWindowReason != in.Reason {
			t.Errorf("M3 visit reason %q, want %q", v.OutOfWindowReason, in.Reason)
		}
	}
}

func TestCollect_RefusedOnceStorageIsWithdrawn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))
	if _, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "phone call", Tiers: []string{"recontact"}}); err != nil {
		t.Fatal(err)
	}
	// Re-contact withdrawn: storage is still granted.
	w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))
	if _, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "letter", Tiers: []string{"storage"}}); err != nil {
		t.Fatal(err)
	}
	before := w.tally(t)
	_, err := w.samples.Collect(ctx, w.nurse, w.collection(tube("whole_blood", "PED", "4")))
	if c := wantConflict(t, err, "consent_required"); !strings.Contains(c.Message, w.pseudonym) || !strings.Contains(c.Message, "IBD") {
		t.Errorf("message %q should name the participant and the study", c.Message)
	}
	w.unchanged(t, before)
}

func collectMicrolitresConvertedToMillilitres(t *testing.T, w world) {
	cases := []struct {
		volume, unit string
		want         string
	}{
		{"500", "µL", "0.5"}, {"250", "uL", "0.25"}, {"1500", "μL", "1.5"}, {"1000000", "µL", "1000"}, {"0.5", "", "0.5"}, {"7.25", "ml", "7.25"},
	}
	for _, c := range cases {
		t.Run(c.volume+c.unit, func(t *testing.T) {
			tb := sample.Tube{SpecimenType: "csf", Container: "PPS", Volume: dec(c.volume), Unit: c.unit}
			smp := w.mustCollectTubes(t, w.collection(tb))[0]
			stored := w.mustGet(t, smp.Accession)
			for _, got := range []sample.Sample{smp, stored} {
				if got.Unit != "mL" || !got.Volume.Equal(dec(c.want)) || !got.InitialVolume.Equal(dec(c.want)) {
					t.Errorf("%s %s stored as %s (initial %s) %s, want %s mL", c.volume, c.unit, got.Volume, got.InitialVolume, got.Unit, c.want)
				}
			}
		})
	}
}

func collectSeveralTubesEachWithItsAccessionAndAuditEvent(t *testing.T, w world) {
	ctx := context.Background()
	in := w.collection(tube("whole_blood", "PED", "9"), tube("whole_blood", "PED", "9"), tube("serum", "sst", "5"),
		sample.Tube{SpecimenType: "urine", Container: "PPS", Volume: decimal.NewFromInt(20)})
	in.Tubes[1].TubeBarcode = "FR0000000042"
	before := w.tally(t)
	out, err := w.samples.Collect(ctx, w.nurse, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 {
		t.Fatalf("%d samples for 4 tubes", len(out))
	}
	seen := map[string]bool{}
	for i, smp := range out {
		if seen[smp.Accession] {
			t.Errorf("accession %s given twice", smp.Accession)
		}
		seen[smp.Accession] = true
		if !strings.HasPrefix(smp.Accession, sample.DefaultPrefix) || len(smp.Accession) != 12 {
			t.Errorf("accession %q", smp.Accession)
		}
		if smp.Status != sample.Collected || smp.SpecimenType != in.Tubes[i].SpecimenType || smp.ParentID != nil {
			t.Errorf("tube %d: %+v", i, smp)
		}
		if n := w.auditCount(t, "sample.collect", smp.Accession); n != 1 {
			t.Errorf("%s has %d sample.collect events, want 1", smp.Accession, n)
		}
		got := w.mustGet(t, smp.Accession)
		if got.Participant.Pseudonym != w.pseudonym || got.Study.Code != "IBD" || got.Visit.Definition.Code != "BASELINE" || got.Site.Code != "LUX" {
			t.Errorf("tube %d belongs to %s/%s/%s at %s", i, got.Participant.Pseudonym, got.Study.Code, got.Visit.Definition.Code, got.Site.Code)
		}
		if got.CollectedBy == nil || *got.CollectedBy != w.nurse.UserID {
			t.Errorf("tube %d collected by %v, want the nurse", i, got.CollectedBy)
		}
	}
	if out[2].Container != "SST" {
		t.Errorf("container %q, want it upper-cased to SST", out[2].Container)
	}
	if out[1].TubeBarcode == nil || *out[1].TubeBarcode != "FR0000000042" || out[0].TubeBarcode != nil {
		t.Errorf("tube barcodes %v %v", out[0].TubeBarcode, out[1].TubeBarcode)
	}
	after := w.tally(t)
	if after.samples != before.samples+4 || after.audits != before.audits+4 {
		t.Errorf("wrote %d samples and %d audit events, want 4 and 4", after.samples-before.samples, after.audits-before.audits)
	}
}
