package consent_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"biobank/internal/app"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/participant"
	"biobank/internal/study"
	"biobank/internal/testkit"
)

// today is the fixed date the services' clock reads.
var today = time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)

// fixture is a fresh database with the sites LUX and DE-KIEL, one user of each role made
// the way the command line makes them (so actors carry real user and site IDs), and the
// studies IBD and RA with their consent documents:
//
//	IBD 0.9  storage, genetic                      (retired)
//	IBD 1.0  storage, genetic, sharing, recontact
//	IBD 2.0  storage, sharing
//	RA  1.0  storage, sharing
type fixture struct {
	DB           *db.DB
	Studies      *study.Service
	Participants *participant.Service
	Consents     *consent.Service
	Admin        auth.Actor
	Manager      auth.Actor
	NurseLUX     auth.Actor
	NurseKiel    auth.Actor
	TechLUX      auth.Actor
	IBD, RA      study.Study
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
	f := &fixture{DB: d,
		Admin: user("admin", auth.RoleAdmin, "LUX"), Manager: user("manager", auth.RoleManager, "LUX"),
		NurseLUX: user("nurse-lux", auth.RoleNurse, "LUX"), NurseKiel: user("nurse-kiel", auth.RoleNurse, "DE-KIEL"),
		TechLUX: user("tech-lux", auth.RoleTechnician, "LUX")}
	clock := func() time.Time { return today }
	built := app.New(d, app.Config{Now: clock})
	f.Studies, f.Participants, f.Consents = built.Studies, built.Participants, built.Consents

	mustStudy := func(code string) study.Study {
		st, err := f.Studies.Create(ctx, f.Admin, study.Input{Code: code, Name: "Study " + code})
		if err != nil {
			tb.Fatalf("create study %s: %v", code, err)
		}
		return st
	}
	mustDocument := func(code, version string, tiers ...string) {
		if _, err := f.Studies.AddDocument(ctx, f.Admin, code, study.DocumentInput{Version: version, Tiers: tiers}); err != nil {
			tb.Fatalf("add consent document %s %s: %v", code, version, err)
		}
	}
	f.IBD, f.RA = mustStudy("IBD"), mustStudy("RA")
	mustDocument("IBD", "0.9", "storage", "genetic")
	mustDocument("IBD", "1.0", "storage", "genetic", "sharing", "recontact")
	mustDocument("IBD", "2.0", "storage", "sharing")
	mustDocument("RA", "1.0", "storage", "sharing")
	if _, err := f.Studies.RetireDocument(ctx, f.Admin, "IBD", "0.9", "superseded by 1.0"); err != nil {
		tb.Fatalf("retire IBD 0.9: %v", err)
	}
	return f
}

// mustEnrol enrols a participant in study as actor (at the actor's site).
func (f *fixture) mustEnrol(tb testing.TB, actor auth.Actor, studyCode string) participant.Participant {
	tb.Helper()
	p, err := f.Participants.Enrol(context.Background(), actor, participant.EnrolInput{Study: studyCode, EnrolledOn: "2025-01-02"})
	if err != nil {
		tb.Fatalf("enrol in %s as %s: %v", studyCode, actor.Username, err)
	}
	return p
}

// mustRecord records a consent as actor and fails the test on error.
func (f *fixture) mustRecord(tb testing.TB, actor auth.Actor, pseudonym string, in consent.RecordInput) consent.Consent {
	tb.Helper()
	c, err := f.Consents.Record(context.Background(), actor, pseudonym, in)
	if err != nil {
		tb.Fatalf("record consent %+v for %s: %v", in, pseudonym, err)
	}
	return c
}

// mustWithdraw withdraws tiers (all when none) of a consent as actor.
func (f *fixture) mustWithdraw(tb testing.TB, actor auth.Actor, pseudonym string, consentID int64, tiers ...string) consent.Consent {
	tb.Helper()
	w, err := f.Consents.Withdraw(context.Background(), actor, pseudonym, consentID, consent.WithdrawInput{Reason: "participant asked", Tiers: tiers})
	if err != nil {
		tb.Fatalf("withdraw %v of consent %d: %v", tiers, consentID, err)
	}
	return w.Consent
}

// mayUse answers consent.MayUse for every tier, as a comma-separated list of the tiers
// that may be used.
func (f *fixture) mayUse(tb testing.TB, p participant.Participant, st study.Study) string {
	tb.Helper()
	var yes []string
	for _, tier := range study.AllTiers {
		ok, err := consent.MayUse(f.DB.Gorm, p.ID, st.ID, tier)
		if err != nil {
			tb.Fatal(err)
		}
		if ok {
			yes = append(yes, string(tier))
		}
	}
	return strings.Join(yes, ",")
}

// consentTables are the tables consents and withdrawals write to.
var consentTables = []string{"consents", "consent_withdrawals", "audit_events"}

// effectiveTiers reads a consent's tiers in force from the database.
func effectiveTiers(tb testing.TB, d *db.DB, consentID int64) string {
	tb.Helper()
	var c consent.Consent
	if err := d.Gorm.Where("id = ?", consentID).Take(&c).Error; err != nil {
		tb.Fatal(err)
	}
	return strings.Join(c.EffectiveTiers.Strings(), ",")
}

// pseudonyms returns the sorted pseudonyms of list rows.
func pseudonyms(rows []consent.Row) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Pseudonym)
	}
	sort.Strings(out)
	return out
}

// sorted returns the pseudonyms of participants, sorted.
func sorted(ps ...participant.Participant) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Pseudonym)
	}
	sort.Strings(out)
	return out
}

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
