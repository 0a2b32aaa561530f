package study_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/study"
	"biobank/internal/testkit"
)

// fixture is a fresh database with two sites and an administrator and a nurse made the way
// the command line makes them, so actors carry real user and site IDs.
type fixture struct {
	DB      *db.DB
	Studies *study.Service
	Admin   auth.Actor
	Nurse   auth.Actor
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	d := dbtest.New(tb)
	a := auth.NewService(d)
	ctx := context.Background()
	for _, code := range []string{"LUX", "DE-KIEL"} {
		if _, err := a.CreateSite(ctx, auth.CommandLine, auth.SiteInput{Code: code, Name: "Site " + code, Country: "LU", Reason: "test setup"}); err != nil {
			tb.Fatalf("create site %s: %v", code, err)
		}
	}
	user := func(name string, role auth.Role, site string) auth.Actor {
		u, err := a.CreateUser(ctx, auth.CommandLine, auth.NewUser{Username: name, Role: string(role), Site: site,
			Password: "correct horse battery staple", Reason: "test setup"})
		if err != nil {
			tb.Fatalf("create user %s: %v", name, err)
		}
		return u.Actor()
	}
	return &fixture{DB: d, Studies: study.NewService(d),
		Admin: user("admin", auth.RoleAdmin, "LUX"), Nurse: user("nurse-lux", auth.RoleNurse, "LUX")}
}

// mustStudy creates a study with code as the administrator.
func (f *fixture) mustStudy(tb testing.TB, code string) study.Study {
	tb.Helper()
	st, err := f.Studies.Create(context.Background(), f.Admin, study.Input{Code: code, Name: "Study " + code})
	if err != nil {
		tb.Fatalf("create study %s: %v", code, err)
	}
	return st
}

// mustVisit adds a visit to a study as the administrator.
func (f *fixture) mustVisit(tb testing.TB, studyCode string, in study.VisitInput) study.VisitDefinition {
	tb.Helper()
	v, err := f.Studies.AddVisit(context.Background(), f.Admin, studyCode, in)
	if err != nil {
		tb.Fatalf("add visit %s to %s: %v", in.Code, studyCode, err)
	}
	return v
}

// mustDocument adds a consent document to a study as the administrator.
func (f *fixture) mustDocument(tb testing.TB, studyCode, version string, tiers ...string) study.ConsentDocument {
	tb.Helper()
	doc, err := f.Studies.AddDocument(context.Background(), f.Admin, studyCode, study.DocumentInput{Version: version, Tiers: tiers})
	if err != nil {
		tb.Fatalf("add consent document %s to %s: %v", version, studyCode, err)
	}
	return doc
}

// events returns the audit events of a study, oldest first.
func events(tb testing.TB, d *db.DB, studyCode string) []audit.Event {
	tb.Helper()
	evs, err := audit.ForEntity(context.Background(), d.Gorm, "study", studyCode)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

// lastEvent returns the newest audit event of a study and fails if its action differs.
func lastEvent(tb testing.TB, d *db.DB, studyCode, action string) audit.Event {
	tb.Helper()
	evs := events(tb, d, studyCode)
	if len(evs) == 0 {
		tb.Fatalf("no audit event for study %s", studyCode)
	}
	ev := evs[len(evs)-1]
	if ev.Action != action {
		tb.Fatalf("last audit event of %s is %q, want %q", studyCode, ev.Action, action)
	}
	return ev
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decPtr(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}

// blood is a valid requirement: 9 mL EDTA whole blood, no aliquots.
func blood() study.RequirementInput {
	return study.RequirementInput{SpecimenType: "whole_blood", Container: "PED", Volume: dec("9"), Unit: "mL"}
}

// The shared assertions of internal/testkit, under the names these tests use.
var (
	wantValidation = testkit.WantValidation
	wantConflict   = testkit.WantConflict
	wantForbidden  = testkit.WantForbidden
	wantNotFound   = testkit.WantNotFound
)

// unchanged snapshots tables and returns the check that they are as they were.
var unchanged = testkit.Unchanged
