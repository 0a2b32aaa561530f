package sample_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/sprec"
	"biobank/internal/study"
)

// world is a study with a baseline visit, a consented participant with the visit open, and
// the services. A second site (PAR) has its own nurse and technician, who may not act on
// the first site's samples.
type world struct {
	db        *db.DB
	people    *participant.Service
	studies   *study.Service
	samples   *sample.Service
	consents  *consent.Service
	admin     auth.Actor
	nurse     auth.Actor
	tech      auth.Actor
	manager   auth.Actor
	nurse2    auth.Actor
	tech2     auth.Actor
	pseudonym string
	consentID int64
}

func newWorld(tb testing.TB) world {
	tb.Helper()
	ctx := context.Background()
	d := dbtest.New(tb)
	a := auth.NewService(d)
	for _, site := range []auth.SiteInput{{Code: "LUX", Name: "Luxembourg", Country: "LU", Reason: "test"},
		{Code: "PAR", Name: "Paris", Country: "FR", Reason: "test"}} {
		if _, err := a.CreateSite(ctx, auth.CommandLine, site); err != nil {
			tb.Fatal(err)
		}
	}
	users := map[string]auth.Actor{}
	for _, r := range []auth.Role{auth.RoleNurse, auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin} {
		u, err := a.CreateUser(ctx, auth.CommandLine, auth.NewUser{Username: string(r) + "1", Role: string(r), Site: "LUX", Password: "long enough password", Reason: "test"})
		if err != nil {
			tb.Fatal(err)
		}
		users[string(r)] = u.Actor()
	}
	for _, r := range []auth.Role{auth.RoleNurse, auth.RoleTechnician} {
		u, err := a.CreateUser(ctx, auth.CommandLine, auth.NewUser{Username: string(r) + "2", Role: string(r), Site: "PAR", Password: "long enough password", Reason: "test"})
		if err != nil {
			tb.Fatal(err)
		}
		users[string(r)+"2"] = u.Actor()
	}
	built := app.New(d, app.Config{})
	studies := built.Studies
	admin := users["admin"]
	if _, err := studies.Create(ctx, admin, study.Input{Code: "IBD", Name: "IBD"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := studies.AddVisit(ctx, admin, "IBD", study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 14}); err != nil {
		tb.Fatal(err)
	}
	if _, err := studies.AddDocument(ctx, admin, "IBD", study.DocumentInput{Version: "1", Tiers: []string{"storage", "genetic", "sharing", "recontact"}}); err != nil {
		tb.Fatal(err)
	}
	people := built.Participants
	p, err := people.Enrol(ctx, users["nurse"], participant.EnrolInput{Study: "IBD"})
	if err != nil {
		tb.Fatal(err)
	}
	cs := built.Consents
	c, err := cs.Record(ctx, users["nurse"], p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1", SignedOn: time.Now().UTC().Format("2006-01-02"), Tiers: []string{"storage", "genetic", "sharing", "recontact"}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := people.OpenVisit(ctx, users["nurse"], p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE"}); err != nil {
		tb.Fatal(err)
	}
	samples := built.Samples
	return world{db: d, people: people, studies: studies, samples: samples, consents: cs, admin: admin,
		nurse: users["nurse"], tech: users["technician"], manager: users["manager"],
		nurse2: users["nurse2"], tech2: users["technician2"], pseudonym: p.Pseudonym, consentID: c.ID}
}

func (w world) mustCollect(tb testing.TB, volume string) sample.Sample {
	tb.Helper()
	out, err := w.samples.Collect(context.Background(), w.nurse, sample.Collection{Participant: w.pseudonym, Study: "IBD", Visit: "BASELINE",
		CollectedAt: time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339),
		Tubes:       []sample.Tube{{SpecimenType: "whole_blood", Container: "PED", Volume: decimal.RequireFromString(volume), Unit: "mL"}}})
	if err != nil {
		tb.Fatal(err)
	}
	return out[0]
}

func TestLifecycle_CollectReceiveProcessAliquotCustody(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	tube := w.mustCollect(t, "9")
	if tube.Status != sample.Collected || len(tube.Accession) != 12 {
		t.Fatalf("collected %+v", tube)
	}
	r, err := w.samples.Receive(ctx, w.tech, " "+tube.Accession+" ")
	if err != nil || !r.Changed || r.Sample.Status != sample.Received {
		t.Fatalf("receive: %+v %v", r, err)
	}
	if again, err := w.samples.Receive(ctx, w.tech, tube.Accession); err != nil || again.Changed || len(again.Warnings) != 1 {
		t.Fatalf("repeat receive: %+v %v", again, err)
	}
	started := tube.CollectedAt.Add(time.Hour)
	ended := started.Add(10 * time.Minute)
	frozen := ended.Add(30 * time.Minute)
	g, m, brake := 2000, 10, true
	processed, err := w.samples.RecordProcessing(ctx, w.tech, tube.Accession, sample.Processing{StartedAt: &started,
		PreCentrifugationTemp: sprec.TempRoom, Centrifugation: &sample.Spin{Temp: sprec.TempRoom, G: &g, Minutes: &m, Brake: &brake},
		SecondCentrifugation: &sample.Spin{None: true}, CentrifugationEndedAt: &ended, FrozenAt: &frozen, PostCentrifugationTemp: sprec.TempRoom,
		StorageContainer: sprec.ContainerPolypropyleneTube, StorageTemperature: sprec.StorageTemperature(1)})
	if err != nil {
		t.Fatal(err)
	}
	if processed.SPREC != "BLD-PED-A-B-N-B-A" {
		t.Fatalf("SPREC %q", processed.SPREC)
	}
	kids, err := w.samples.Aliquot(ctx, w.tech, tube.Accession, sample.Split{Count: 6, Volume: decimal.RequireFromString("0.5"), SpecimenType: "plasma"})
	if err != nil || len(kids) != 6 {
		t.Fatalf("aliquot: %d %v", len(kids), err)
	}
	if kids[0].SPREC != "PL1-PED-A-B-N-B-A" {
		t.Fatalf("aliquot SPREC %q", kids[0].SPREC)
	}
	got, err := w.samples.Get(ctx, w.tech, tube.Accession)
	if err != nil || !got.Volume.Equal(decimal.RequireFromString("6")) || len(got.Children) != 6 {
		t.Fatalf("parent after aliquot: %s %d %v", got.Volume, len(got.Children), err)
	}
	_, events, err := w.samples.Custody(ctx, w.tech, kids[2].Accession)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	want := []string{"sample.collect", "sample.receive", "sample.process", "sample.aliquot", "sample.create_aliquot"}
	if len(actions) != len(want) {
		t.Fatalf("custody %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("custody %v, want %v", actions, want)
		}
	}
}

func TestAliquot_ConcurrentSplitsNeverOverdraw(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	tube := w.mustCollect(t, "5")
	if _, err := w.samples.Receive(ctx, w.tech, tube.Accession); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var made, refused int
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kids, err := w.samples.Aliquot(ctx, w.tech, tube.Accession, sample.Split{Count: 2, Volume: decimal.RequireFromString("0.7")})
			mu.Lock()
			defer mu.Unlock()
			var c *apperr.ConflictError
			switch {
			case err == nil:
				made += len(kids)
			case errors.As(err, &c) && c.Code == "insufficient_volume":
				refused++
			default:
				t.Errorf("aliquot: %v", err)
			}
		}()
	}
	wg.Wait()
	if made != 6 || refused != 17 {
		t.Fatalf("made %d aliquots with %d refusals; want 6 (3 splits of 1.4 mL from 5 mL) and 17", made, refused)
	}
	got, err := w.samples.Get(ctx, w.tech, tube.Accession)
	if err != nil || !got.Volume.Equal(decimal.RequireFromString("0.8")) {
		t.Fatalf("remaining %s %v", got.Volume, err)
	}
}

func TestWithdrawal_HoldsSamplesAndDescendants(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	tube := w.mustCollect(t, "4")
	if _, err := w.samples.Receive(ctx, w.tech, tube.Accession); err != nil {
		t.Fatal(err)
	}
	kids, err := w.samples.Aliquot(ctx, w.tech, tube.Accession, sample.Split{Count: 2, Volume: decimal.RequireFromString("1")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "letter", Tiers: []string{"sharing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.HeldSamples) != 3 {
		t.Fatalf("held %v, want the tube and its 2 aliquots", res.HeldSamples)
	}
	_, err = w.samples.Aliquot(ctx, w.tech, kids[0].Accession, sample.Split{Count: 1, Volume: decimal.RequireFromString("0.5")})
	var c *apperr.ConflictError
	if !errors.As(err, &c) || c.Code != "sample_on_hold" {
		t.Fatalf("aliquot of a held sample: %v", err)
	}
	kept, err := w.samples.Decide(ctx, w.manager, kids[1].Accession, sample.DecideKeep, "storage still granted")
	if err != nil || kept.Hold {
		t.Fatalf("keep: %+v %v", kept, err)
	}
	gone, err := w.samples.Decide(ctx, w.manager, tube.Accession, sample.DecideDestroy, "participant asked")
	if err != nil || gone.Status != sample.Destroyed {
		t.Fatalf("destroy: %+v %v", gone, err)
	}
}
