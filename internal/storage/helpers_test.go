package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/storage"
	"biobank/internal/study"
	"biobank/internal/testkit"
)

// world is a study with a baseline visit, a consented participant of LUX with the visit
// open, the sample and storage services, and storage at both sites: at LUX a −80 °C
// freezer F1 with rack R1 and a −20 °C freezer F2; at PAR a −80 °C freezer P1. A second
// site (PAR) has its own technician, who may not act on LUX's boxes or samples.
type world struct {
	db        *db.DB
	samples   *sample.Service
	store     *storage.Service
	admin     auth.Actor
	manager   auth.Actor
	tech      auth.Actor
	nurse     auth.Actor
	tech2     auth.Actor
	pseudonym string
	rackR1    storage.Rack
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
	for _, u := range []struct {
		name string
		role auth.Role
		site string
	}{{"nurse1", auth.RoleNurse, "LUX"}, {"tech1", auth.RoleTechnician, "LUX"}, {"manager1", auth.RoleManager, "LUX"},
		{"admin1", auth.RoleAdmin, "LUX"}, {"tech2", auth.RoleTechnician, "PAR"}} {
		made, err := a.CreateUser(ctx, auth.CommandLine, auth.NewUser{Username: u.name, Role: string(u.role), Site: u.site,
			Password: "long enough password", Reason: "test"})
		if err != nil {
			tb.Fatal(err)
		}
		users[u.name] = made.Actor()
	}
	admin, nurse := users["admin1"], users["nurse1"]
	built := app.New(d, app.Config{})
	studies := built.Studies
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
	p, err := people.Enrol(ctx, nurse, participant.EnrolInput{Study: "IBD"})
	if err != nil {
		tb.Fatal(err)
	}
	cs := built.Consents
	if _, err := cs.Record(ctx, nurse, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1",
		SignedOn: time.Now().UTC().Format("2006-01-02"), Tiers: []string{"storage", "genetic", "sharing", "recontact"}}); err != nil {
		tb.Fatal(err)
	}
	if _, err := people.OpenVisit(ctx, nurse, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE"}); err != nil {
		tb.Fatal(err)
	}
	samples := built.Samples
	w := world{db: d, samples: samples, store: built.Storage, admin: admin, manager: users["manager1"],
		tech: users["tech1"], nurse: nurse, tech2: users["tech2"], pseudonym: p.Pseudonym}
	w.mustFreezer(tb, "F1", "-80", "LUX")
	w.mustFreezer(tb, "F2", "-20", "LUX")
	w.mustFreezer(tb, "P1", "-80", "PAR")
	w.rackR1 = w.mustRack(tb, "F1", "R1")
	return w
}

func (w world) mustFreezer(tb testing.TB, name, typ, site string) storage.Freezer {
	tb.Helper()
	f, err := w.store.CreateFreezer(context.Background(), w.admin, storage.FreezerInput{Name: name, Type: typ,
		Temperature: ptr(decimal.RequireFromString(map[string]string{"-80": "-80", "-20": "-20", "ln2": "-196", "4": "4", "rt": "20"}[typ])), Site: site})
	if err != nil {
		tb.Fatalf("create freezer %s: %v", name, err)
	}
	return f
}

func (w world) mustRack(tb testing.TB, freezer, name string) storage.Rack {
	tb.Helper()
	r, err := w.store.CreateRack(context.Background(), w.admin, freezer, name)
	if err != nil {
		tb.Fatalf("create rack %s: %v", name, err)
	}
	return r
}

// mustBox creates a box of rows × cols in freezer (by name, or id for another site's
// freezer) and rack (none when empty).
func (w world) mustBox(tb testing.TB, barcode, freezer, rack string, rows, cols int) storage.Box {
	tb.Helper()
	b, err := w.store.CreateBox(context.Background(), w.admin, storage.BoxInput{Barcode: barcode, Freezer: freezer, Rack: rack, Rows: rows, Cols: cols})
	if err != nil {
		tb.Fatalf("create box %s: %v", barcode, err)
	}
	return b
}

// freezerID is the id of the freezer named name at site.
func (w world) freezerID(tb testing.TB, site, name string) string {
	tb.Helper()
	var id int64
	if err := w.db.Gorm.Raw("SELECT f.id FROM freezers f JOIN sites s ON s.id = f.site_id WHERE s.code = ? AND f.name = ?", site, name).Scan(&id).Error; err != nil || id == 0 {
		tb.Fatalf("freezer %s/%s: %d %v", site, name, id, err)
	}
	return fmt.Sprint(id)
}

// mustReceived collects one whole-blood tube of volume mL per barcode (no tube barcode
// for an empty string) and receives each in the lab.
func (w world) mustReceived(tb testing.TB, volume string, barcodes ...string) []sample.Sample {
	tb.Helper()
	ctx := context.Background()
	var out []sample.Sample
	for start := 0; start < len(barcodes); start += sample.MaxTubes {
		end := min(start+sample.MaxTubes, len(barcodes))
		var tubes []sample.Tube
		for _, bc := range barcodes[start:end] {
			tubes = append(tubes, sample.Tube{SpecimenType: "whole_blood", Container: "PED", Volume: decimal.RequireFromString(volume), Unit: "mL", TubeBarcode: bc})
		}
		made, err := w.samples.Collect(ctx, w.nurse, sample.Collection{Participant: w.pseudonym, Study: "IBD", Visit: "BASELINE",
			CollectedAt: time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339), Tubes: tubes})
		if err != nil {
			tb.Fatalf("collect: %v", err)
		}
		for _, smp := range made {
			r, err := w.samples.Receive(ctx, w.tech, smp.Accession)
			if err != nil {
				tb.Fatalf("receive %s: %v", smp.Accession, err)
			}
			out = append(out, r.Sample)
		}
	}
	return out
}

// mustTubes receives n tubes without tube barcodes.
func (w world) mustTubes(tb testing.TB, n int) []sample.Sample {
	tb.Helper()
	return w.mustReceived(tb, "2", make([]string, n)...)
}

// mustAliquots receives one tube and splits it into n received aliquots of 0.1 mL: the
// quick way to many storable samples.
func (w world) mustAliquots(tb testing.TB, n int) []sample.Sample {
	tb.Helper()
	parent := w.mustTubes(tb, 1)[0]
	kids, err := w.samples.Aliquot(context.Background(), w.tech, parent.Accession, sample.Split{Count: n,
		Volume: decimal.RequireFromString("0.01"), SpecimenType: "plasma"})
	if err != nil {
		tb.Fatalf("aliquot: %v", err)
	}
	return kids
}

func (w world) mustPlace(tb testing.TB, box, position, code string) storage.Placed {
	tb.Helper()
	p, err := w.store.Place(context.Background(), w.tech, box, position, code)
	if err != nil {
		tb.Fatalf("place %s at %s %q: %v", code, box, position, err)
	}
	return p
}

// where is a sample's box and position as stored in the database, or "" when it has
// none.
func (w world) where(tb testing.TB, accession string) string {
	tb.Helper()
	var at []string
	if err := w.db.Gorm.Raw(`SELECT b.barcode || ' ' || chr(64 + p.row) || p.col FROM sample_positions p
		JOIN boxes b ON b.id = p.box_id JOIN samples s ON s.id = p.sample_id WHERE s.accession = ?`, accession).Scan(&at).Error; err != nil {
		tb.Fatal(err)
	}
	switch len(at) {
	case 0:
		return ""
	case 1:
		return at[0]
	}
	tb.Fatalf("%s is at %v", accession, at)
	return ""
}

// occupant is the accession at a position of a box, or "".
func (w world) occupant(tb testing.TB, box, position string) string {
	tb.Helper()
	pos, err := storage.ParsePosition("position", position)
	if err != nil {
		tb.Fatal(err)
	}
	var acc []string
	if err := w.db.Gorm.Raw(`SELECT s.accession FROM sample_positions p JOIN boxes b ON b.id = p.box_id
		JOIN samples s ON s.id = p.sample_id WHERE b.barcode = ? AND p.row = ? AND p.col = ?`, box, pos.Row, pos.Col).Scan(&acc).Error; err != nil {
		tb.Fatal(err)
	}
	if len(acc) == 0 {
		return ""
	}
	return acc[0]
}

func (w world) status(tb testing.TB, accession string) (sample.Status, int) {
	tb.Helper()
	var row struct {
		Status          sample.Status
		FreezeThawCount int
	}
	if err := w.db.Gorm.Raw("SELECT status, freeze_thaw_count FROM samples WHERE accession = ?", accession).Scan(&row).Error; err != nil {
		tb.Fatal(err)
	}
	return row.Status, row.FreezeThawCount
}

// setSQL changes a sample directly, for states the services cannot reach yet (in
// transit, at another site: shipments are a later issue).
func (w world) setSQL(tb testing.TB, accession, set string, args ...any) {
	tb.Helper()
	if err := w.db.Gorm.Exec("UPDATE samples SET "+set+" WHERE accession = ?", append(args, accession)...).Error; err != nil {
		tb.Fatal(err)
	}
}

// event is an audit event with its data decoded.
type event struct {
	Action string
	Actor  string
	Reason string
	Before map[string]any
	After  map[string]any
}

// events are the audit events of action on a sample, oldest first.
func (w world) events(tb testing.TB, action, accession string) []event {
	tb.Helper()
	var rows []struct {
		Action, Actor, Reason string
		Before, After         []byte
	}
	if err := w.db.Gorm.Raw(`SELECT action, actor, reason, before, after FROM audit_events
		WHERE entity_type = 'sample' AND entity_id = ? AND action = ? ORDER BY seq`, accession, action).Scan(&rows).Error; err != nil {
		tb.Fatal(err)
	}
	out := make([]event, len(rows))
	for i, r := range rows {
		out[i] = event{Action: r.Action, Actor: r.Actor, Reason: r.Reason}
		for _, part := range []struct {
			raw []byte
			to  *map[string]any
		}{{r.Before, &out[i].Before}, {r.After, &out[i].After}} {
			if len(part.raw) > 0 {
				if err := json.Unmarshal(part.raw, part.to); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	return out
}

// onlyEvent is the one audit event of action on a sample.
func (w world) onlyEvent(tb testing.TB, action, accession string) event {
	tb.Helper()
	es := w.events(tb, action, accession)
	if len(es) != 1 {
		tb.Fatalf("%d %s events for %s, want 1", len(es), action, accession)
	}
	return es[0]
}

// location reads a location recorded in an audit event ("location" of before or after).
func location(tb testing.TB, data map[string]any, key string) storage.Location {
	tb.Helper()
	raw, ok := data[key].(map[string]any)
	if !ok {
		tb.Fatalf("no %s in %v", key, data)
	}
	str := func(k string) string { s, _ := raw[k].(string); return s }
	return storage.Location{Site: str("site"), Freezer: str("freezer"), Rack: str("rack"), Box: str("box"), Position: str("position")}
}

// The shared assertions of internal/testkit, under the names these tests use.
var (
	wantValidation = testkit.WantValidation
	wantConflict   = testkit.WantConflict
	wantForbidden  = testkit.WantForbidden
	wantNotFound   = testkit.WantNotFound
)

// snapshot is what a refused request must not have written: positions, samples and the
// audit trail.
type snapshot = testkit.Snapshot

func (w world) snapshot(tb testing.TB) snapshot {
	tb.Helper()
	return testkit.Take(tb, w.db, "sample_positions", "samples", "audit_events")
}

// unchanged fails unless nothing was written since before.
func (w world) unchanged(tb testing.TB, before snapshot) {
	tb.Helper()
	if after := w.snapshot(tb); fmt.Sprint(after) != fmt.Sprint(before) {
		tb.Errorf("a refused request wrote something:\nbefore %v\nafter  %v", before, after)
	}
}

func ptr[T any](v T) *T { return &v }
