package sample_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/consent"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/study"
	"biobank/internal/testkit"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// tube is one tube of a collection, in mL.
func tube(specimenType, container, volume string) sample.Tube {
	return sample.Tube{SpecimenType: specimenType, Container: container, Volume: dec(volume), Unit: "mL"}
}

// collection is a collection from the world's participant at the IBD baseline visit,
// three hours ago.
func (w world) collection(tubes ...sample.Tube) sample.Collection {
	return sample.Collection{Participant: w.pseudonym, Study: "IBD", Visit: "BASELINE",
		CollectedAt: time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339), Tubes: tubes}
}

func (w world) mustCollectTubes(tb testing.TB, in sample.Collection) []sample.Sample {
	tb.Helper()
	out, err := w.samples.Collect(context.Background(), w.nurse, in)
	if err != nil {
		tb.Fatalf("collect: %v", err)
	}
	return out
}

// mustReceived collects one tube and receives it in the lab.
func (w world) mustReceived(tb testing.TB, specimenType, container, volume string) sample.Sample {
	tb.Helper()
	smp := w.mustCollectTubes(tb, w.collection(tube(specimenType, container, volume)))[0]
	r, err := w.samples.Receive(context.Background(), w.tech, smp.Accession)
	if err != nil {
		tb.Fatalf("receive %s: %v", smp.Accession, err)
	}
	return r.Sample
}

func (w world) mustAliquot(tb testing.TB, code string, in sample.Split) []sample.Sample {
	tb.Helper()
	kids, err := w.samples.Aliquot(context.Background(), w.tech, code, in)
	if err != nil {
		tb.Fatalf("aliquot %s: %v", code, err)
	}
	return kids
}

func (w world) mustGet(tb testing.TB, code string) sample.Sample {
	tb.Helper()
	smp, err := w.samples.Get(context.Background(), w.manager, code)
	if err != nil {
		tb.Fatalf("get %s: %v", code, err)
	}
	return smp
}

// addStudy creates a study with a BASELINE visit and a consent document offering every
// tier.
func (w world) addStudy(tb testing.TB, code string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := w.studies.Create(ctx, w.admin, study.Input{Code: code, Name: code}); err != nil {
		tb.Fatal(err)
	}
	if _, err := w.studies.AddVisit(ctx, w.admin, code, study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 14}); err != nil {
		tb.Fatal(err)
	}
	if _, err := w.studies.AddDocument(ctx, w.admin, code, study.DocumentInput{Version: "1", Tiers: []string{"storage", "genetic", "sharing", "recontact"}}); err != nil {
		tb.Fatal(err)
	}
}

// newParticipant enrols a new participant of the first site in studyCode, records a consent
// granting tiers (none: no consent at all) and opens the baseline visit when asked.
func (w world) newParticipant(tb testing.TB, studyCode string, tiers []string, openVisit bool) string {
	tb.Helper()
	ctx := context.Background()
	p, err := w.people.Enrol(ctx, w.nurse, participant.EnrolInput{Study: studyCode})
	if err != nil {
		tb.Fatal(err)
	}
	w.join(tb, p.Pseudonym, studyCode, tiers, openVisit, false)
	return p.Pseudonym
}

// join records a consent (when tiers are given) and opens the baseline visit (when asked)
// for pseudonym in studyCode, enrolling the participant first when enrol is set; it
// returns the consent's ID.
func (w world) join(tb testing.TB, pseudonym, studyCode string, tiers []string, openVisit, enrol bool) int64 {
	tb.Helper()
	ctx := context.Background()
	if enrol {
		if _, err := w.people.EnrolExisting(ctx, w.nurse, pseudonym, studyCode, ""); err != nil {
			tb.Fatal(err)
		}
	}
	var id int64
	if len(tiers) > 0 {
		c, err := w.consents.Record(ctx, w.nurse, pseudonym, consent.RecordInput{Study: studyCode, Version: "1",
			SignedOn: time.Now().UTC().Format("2006-01-02"), Tiers: tiers})
		if err != nil {
			tb.Fatal(err)
		}
		id = c.ID
	}
	if openVisit {
		if _, err := w.people.OpenVisit(ctx, w.nurse, pseudonym, participant.OpenVisitInput{Study: studyCode, Visit: "BASELINE"}); err != nil {
			tb.Fatal(err)
		}
	}
	return id
}

// auditCount counts the audit events of action on one sample.
func (w world) auditCount(tb testing.TB, action, accession string) int64 {
	tb.Helper()
	var n int64
	if err := w.db.Gorm.Raw("SELECT count(*) FROM audit_events WHERE action = ? AND entity_type = 'sample' AND entity_id = ?",
		action, accession).Scan(&n).Error; err != nil {
		tb.Fatal(err)
	}
	return n
}

// scenario is one behaviour checked on a world shared with its siblings. Each scenario
// makes its own samples and they run one after another, so before-and-after counts stay
// exact; sharing the world saves creating a database for each.
type scenario struct {
	name string
	run  func(t *testing.T, w world)
}

func runScenarios(t *testing.T, w world, scenarios ...scenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) { s.run(t, w) })
	}
}

// The shared assertions of internal/testkit, under the names these tests use.
var (
	wantValidation = testkit.WantValidation
	wantConflict   = testkit.WantConflict
	wantForbidden  = testkit.WantForbidden
)

// tally is what a refused request must not have written: the counts of samples and audit
// events, and a fingerprint of both tables' content.
type tally struct {
	samples, audits int64
	content         testkit.Snapshot
}

func (w world) tally(tb testing.TB) tally {
	tb.Helper()
	var t tally
	if err := w.db.Gorm.Raw("SELECT (SELECT count(*) FROM samples), (SELECT count(*) FROM audit_events)").Row().Scan(&t.samples, &t.audits); err != nil {
		tb.Fatal(err)
	}
	t.content = testkit.Take(tb, w.db, "samples", "audit_events")
	return t
}

// unchanged fails unless no sample and no audit event was written or changed since before.
func (w world) unchanged(tb testing.TB, before tally) {
	tb.Helper()
	if after := w.tally(tb); fmt.Sprint(after.content) != fmt.Sprint(before.content) {
		tb.Errorf("a refused request wrote something:\nbefore %v\nafter  %v", before, after)
	}
}
