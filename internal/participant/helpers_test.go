package participant_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/participant"
	"biobank/internal/study"
	"biobank/internal/testkit"
)

// today is the fixed date the services' clock reads.
var today = time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)

// fixture is a fresh database with the sites LUX and DE-KIEL, one user of each role made
// the way the command line makes them (so actors carry real user and site IDs), the study
// IBD (baseline and month-3 visits, three specimens at baseline) and the study RA.
type fixture struct {
	DB           *db.DB
	Studies      *study.Service
	Participants *participant.Service
	Admin        auth.Actor
	Manager      auth.Actor
	NurseLUX     auth.Actor
	NurseKiel    auth.Actor
	TechLUX      auth.Actor
	LUX, Kiel    auth.Site
	IBD, RA      study.Study
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	d := dbtest.New(tb)
	a := auth.NewService(d)
	ctx := context.Background()
	site := func(code, country string) auth.Site {
		s, err := a.CreateSite(ctx, auth.CommandLine, auth.SiteInput{Code: code, Name: "Site " + code, Country: country, Reason: "test setup"})
		if err != nil {
			tb.Fatalf("create site %s: %v", code, err)
		}
		return s
	}
	user := func(name string, role auth.Role, site string) auth.Actor {
		u, err := a.CreateUser(ctx, auth.CommandLine, auth.NewUser{Username: name, Role: string(role), Site: site,
			Password: "correct horse battery staple", Reason: "test setup"})
		if err != nil {
			tb.Fatalf("create user %s: %v", name, err)
		}
		return u.Actor()
	}
	f := &fixture{DB: d, LUX: site("LUX", "LU"), Kiel: site("DE-KIEL", "DE")}
	f.Admin = user("admin", auth.RoleAdmin, "LUX")
	f.Manager = user("manager", auth.RoleManager, "LUX")
	f.NurseLUX = user("nurse-lux", auth.RoleNurse, "LUX")
	f.NurseKiel = user("nurse-kiel", auth.RoleNurse, "DE-KIEL")
	f.TechLUX = user("tech-lux", auth.RoleTechnician, "LUX")

	built := app.New(d, app.Config{Now: func() time.Time { return today }})
	f.Studies, f.Participants = built.Studies, built.Participants

	f.IBD = f.mustStudy(tb, study.Input{Code: "IBD", Name: "Inflammatory bowel disease"})
	f.mustVisit(tb, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", DayOffset: 0, WindowAfter: 7,
		Requirements: []study.RequirementInput{
			{SpecimenType: "whole_blood", Container: "PED", Volume: decimal.NewFromInt(9), Unit: "mL"},
			{SpecimenType: "serum", Container: "SST", Volume: decimal.NewFromInt(5), Unit: "mL"},
			{SpecimenType: "stool", Container: "STL", Volume: decimal.NewFromInt(500), Unit: "mg"},
		}})
	f.mustVisit(tb, "IBD", study.VisitInput{Code: "M3", Name: "Month 3", DayOffset: 90, WindowBefore: 14, WindowAfter: 14})
	f.RA = f.mustStudy(tb, study.Input{Code: "RA", Name: "Rheumatoid arthritis"})
	f.mustVisit(tb, "RA", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 7})
	return f
}

func (f *fixture) mustStudy(tb testing.TB, in study.Input) study.Study {
	tb.Helper()
	st, err := f.Studies.Create(context.Background(), f.Admin, in)
	if err != nil {
		tb.Fatalf("create study %s: %v", in.Code, err)
	}
	return st
}

func (f *fixture) mustVisit(tb testing.TB, studyCode string, in study.VisitInput) {
	tb.Helper()
	if _, err := f.Studies.AddVisit(context.Background(), f.Admin, studyCode, in); err != nil {
		tb.Fatalf("add visit %s to %s: %v", in.Code, studyCode, err)
	}
}

// mustEnrol enrols a participant as actor and fails the test on error.
func (f *fixture) mustEnrol(tb testing.TB, actor auth.Actor, in participant.EnrolInput) participant.Participant {
	tb.Helper()
	p, err := f.Participants.Enrol(context.Background(), actor, in)
	if err != nil {
		tb.Fatalf("enrol %+v as %s: %v", in, actor.Username, err)
	}
	return p
}

// mustOpenVisit opens a visit as actor and fails the test on error.
func (f *fixture) mustOpenVisit(tb testing.TB, actor auth.Actor, pseudonym string, in participant.OpenVisitInput) participant.Visit {
	tb.Helper()
	v, err := f.Participants.OpenVisit(context.Background(), actor, pseudonym, in)
	if err != nil {
		tb.Fatalf("open visit %+v of %s as %s: %v", in, pseudonym, actor.Username, err)
	}
	return v
}

// builtIn returns the built-in pseudonym with the six data symbols data.
func builtIn(tb testing.TB, data string) string {
	tb.Helper()
	p, err := checkcode.AppendPID(data)
	if err != nil {
		tb.Fatalf("pseudonym from %q: %v", data, err)
	}
	return p
}

// typedSloppily writes a pseudonym as a person might: lower case, with the look-alike
// letters o, i, s and b for the digits 0, 1, 5 and 8, and spaces around it.
func typedSloppily(p string) string {
	return "  " + strings.NewReplacer("0", "o", "1", "i", "5", "s", "8", "b").Replace(strings.ToLower(p)) + " "
}

// mistyped returns p with the symbol at position i replaced by another one: a pseudonym
// whose check symbols no longer hold.
func mistyped(p string, i int) string {
	b := []byte(p)
	if b[i] == 'K' {
		b[i] = 'X'
	} else {
		b[i] = 'K'
	}
	return string(b)
}

// participantTables are the tables enrolment and visits write to.
var participantTables = []string{"participants", "enrolments", "visits", "audit_events"}

// lastEvent returns the newest audit event of a participant and fails if its action differs.
func lastEvent(tb testing.TB, d *db.DB, pseudonym, action string) audit.Event {
	tb.Helper()
	evs, err := audit.ForEntity(context.Background(), d.Gorm, "participant", pseudonym)
	if err != nil {
		tb.Fatal(err)
	}
	if len(evs) == 0 {
		tb.Fatalf("no audit event for participant %s", pseudonym)
	}
	ev := evs[len(evs)-1]
	if ev.Action != action {
		tb.Fatalf("last audit event of %s is %q, want %q", pseudonym, ev.Action, action)
	}
	return ev
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
