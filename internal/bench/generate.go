package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"biobank/internal/app"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
	"biobank/internal/study"
)

// benchPassword is the password of the bench's users (a scratch database only).
const benchPassword = "bench-password-1234"

// sites of the generated network, as the demo's.
var sites = []auth.SiteInput{
	{Code: "LUX", Name: "Luxembourg", Country: "LU"}, {Code: "DE-KIEL", Name: "Kiel", Country: "DE"},
	{Code: "FR-STRAS", Name: "Strasbourg", Country: "FR"}, {Code: "CH-BASEL", Name: "Basel", Country: "CH"},
}

// primaryTypes are the collected tubes' types and containers; aliquots are plasma, serum or
// DNA made from them.
var primaryTypes = []struct {
	typ, container string
	volume         float64
	unit           string
}{
	{"whole_blood", "PED", 9, "mL"}, {"whole_blood", "PED", 9, "mL"}, {"serum", "SST", 7.5, "mL"},
	{"stool", "STL", 500, "mg"}, {"csf", "PPS", 5, "mL"}, {"urine", "PPS", 20, "mL"},
}

// dataSet is what the generator made, for the figures to pick from.
type dataSet struct {
	accessions []string
	tubes      []string
	boxes      []string
	people     []string
	tech       string // a technician of LUX
	manager    string
}

// generate makes a realistic data set of n samples and e audit events: the demo's sites,
// studies and roles through the services; participants, enrolments, visits, samples (a
// quarter collected tubes, the rest aliquots of them; statuses, holds, custody as the demo
// has them) and storage positions set-based and by COPY; the events through the chain's
// own batched append.
func generate(ctx context.Context, a *app.App, pool interface {
	CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error)
}, n, e int) (dataSet, error) {
	var ds dataSet
	cmd := auth.CommandLine
	admin := auth.Actor{Username: "bench", Role: auth.RoleAdmin}
	for _, s := range sites {
		s.Reason = "bench"
		if _, err := a.Auth.CreateSite(ctx, cmd, s); err != nil {
			return ds, err
		}
	}
	for _, u := range []auth.NewUser{{Username: "bench.tech", Role: "technician", Site: "LUX"}, {Username: "bench.manager", Role: "manager", Site: "LUX"},
		{Username: "bench.admin", Role: "admin", Site: "LUX"}} {
		u.Password, u.Reason = benchPassword, "bench"
		if _, err := a.Auth.CreateUser(ctx, cmd, u); err != nil {
			return ds, err
		}
	}
	ds.tech, ds.manager = "bench.tech", "bench.manager"
	for _, code := range []string{"IBD", "RA", "MS"} {
		if _, err := a.Studies.Create(ctx, admin, study.Input{Code: code, Name: code + " cohort", Reason: "bench"}); err != nil {
			return ds, err
		}
		if _, err := a.Studies.AddVisit(ctx, admin, code, study.VisitInput{Code: "BASELINE", Name: "Baseline", WindowAfter: 30, Reason: "bench"}); err != nil {
			return ds, err
		}
	}
	people := max(n/5, 1)
	err := a.DB.Tx(ctx, func(tx *db.Tx) error {
		tx.Unaudited("bench: a generated scratch data set; its events are generated apart")
		for i, q := range []string{
			`INSERT INTO participants (pseudonym, site_id, sex, birth_year)
				SELECT 'BP' || lpad(g::text, 9, '0'), (SELECT id FROM sites ORDER BY id OFFSET (g % 4) LIMIT 1),
					CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, 1940 + g % 60 FROM generate_series(1, ?) g`,
			`INSERT INTO enrolments (participant_id, study_id, site_id, enrolled_on, diagnosis)
				SELECT p.id, st.id, p.site_id, date '2024-01-01' + (p.id % 600)::int, CASE st.code WHEN 'IBD' THEN 'K50' WHEN 'RA' THEN 'M06' ELSE 'G35' END
				FROM participants p JOIN studies st ON st.id = (SELECT id FROM studies ORDER BY id OFFSET (p.id % 3) LIMIT 1)`,
			`INSERT INTO visits (participant_id, visit_definition_id, study_id, site_id, visit_date)
				SELECT e.participant_id, vd.id, e.study_id, e.site_id, e.enrolled_on FROM enrolments e JOIN visit_definitions vd ON vd.study_id = e.study_id`,
		} {
			var args []any
			if i == 0 {
				args = append(args, people)
			}
			if err := tx.Exec(q, args...).Error; err != nil {
				return fmt.Errorf("bench: generate: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return ds, err
	}
	var visits []struct {
		ID, ParticipantID, StudyID, SiteID int64
		Pseudonym                          string
	}
	if err := a.DB.Gorm.WithContext(ctx).Raw(`SELECT v.id, v.participant_id, v.study_id, v.site_id, p.pseudonym FROM visits v
		JOIN participants p ON p.id = v.participant_id ORDER BY v.id`).Scan(&visits).Error; err != nil {
		return ds, err
	}
	for _, v := range visits {
		ds.people = append(ds.people, v.Pseudonym)
	}
	// Samples by COPY, with ids chosen here so that aliquots name their parents.
	rng := rand.New(rand.NewPCG(1, 2))
	primaries := max(n/4, 1)
	collected := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	rows := make([][]any, 0, n)
	for i := 1; i <= n; i++ {
		id := int64(i)
		acc, err := sample.Accession(a.Samples.Prefix, id)
		if err != nil {
			return ds, err
		}
		tube := fmt.Sprintf("BT%08d", i)
		var v = visits[(i-1)%len(visits)]
		var parent any
		pt := primaryTypes[i%len(primaryTypes)]
		typ, cont, vol, unit := pt.typ, pt.container, pt.volume, pt.unit
		status := "received"
		if i > primaries {
			p := int64((i-primaries-1)%primaries + 1)
			parent, v = p, visits[(p-1)%int64(len(visits))]
			typ, cont, vol, unit = []string{"plasma", "serum", "dna"}[i%3], "CRY", 0.5, "mL"
			if typ == "dna" {
				vol, unit = 20, "µg"
			}
			switch r := rng.IntN(100); {
			case r < 78:
				status = "stored"
			case r < 84:
				status = "consumed"
			case r < 86:
				status = "checked_out"
			case r < 88:
				status = "destroyed"
			}
		}
		hold, kind, reason := false, "", ""
		if rng.IntN(100) < 2 {
			hold, kind, reason = true, "quality", "bench: quality hold"
		}
		at := collected.Add(time.Duration(i%700) * 24 * time.Hour)
		rows = append(rows, []any{id, acc, tube, v.ParticipantID, v.StudyID, v.ID, typ, cont, vol, vol, unit, at, at.Add(2 * time.Hour),
			status, hold, kind, reason, v.SiteID, parent})
		ds.accessions = append(ds.accessions, acc)
		ds.tubes = append(ds.tubes, tube)
	}
	cols := []string{"id", "accession", "tube_barcode", "participant_id", "study_id", "visit_id", "specimen_type", "container", "volume",
		"initial_volume", "unit", "collected_at", "received_at", "status", "hold", "hold_kind", "hold_reason", "site_id", "parent_id"}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"samples"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return ds, fmt.Errorf("bench: copy samples: %w", err)
	}
	// Freezers and 9×9 boxes per site for the stored and checked-out tubes, positions in order.
	err = a.DB.Tx(ctx, func(tx *db.Tx) error {
		tx.Unaudited("bench: a generated scratch data set")
		for _, q := range []string{
			`SELECT setval('samples_id_seq', (SELECT max(id) FROM samples)), setval('sample_accession_seq', (SELECT max(id) FROM samples))`,
			`INSERT INTO freezers (site_id, name, type, temperature) SELECT id, 'Bench −80', '-80', -80 FROM sites`,
			`CREATE TEMP TABLE placed ON COMMIT DROP AS SELECT s.id, s.site_id, row_number() OVER (PARTITION BY s.site_id ORDER BY s.id) - 1 AS n
				FROM samples s WHERE s.status IN ('stored', 'checked_out')`,
			`INSERT INTO boxes (barcode, rows, cols, freezer_id)
				SELECT si.code || '-B' || lpad(b::text, 6, '0'), 9, 9, f.id FROM sites si JOIN freezers f ON f.site_id = si.id,
				generate_series(0, (SELECT COALESCE(max(n), 0) / 81 FROM placed WHERE placed.site_id = si.id)) b`,
			`INSERT INTO sample_positions (sample_id, box_id, row, col)
				SELECT p.id, b.id, (p.n % 81) / 9 + 1, p.n % 9 + 1 FROM placed p JOIN sites si ON si.id = p.site_id
				JOIN boxes b ON b.barcode = si.code || '-B' || lpad((p.n / 81)::text, 6, '0')`,
			`ANALYZE`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return fmt.Errorf("bench: generate storage: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return ds, err
	}
	if err := a.DB.Gorm.WithContext(ctx).Raw("SELECT barcode FROM boxes ORDER BY id LIMIT 200").Scan(&ds.boxes).Error; err != nil {
		return ds, err
	}
	// Audit events through the chain's append, 20,000 a transaction.
	for done := 0; done < e; {
		batch := min(20_000, e-done)
		err := a.DB.Tx(ctx, func(tx *db.Tx) error {
			for j := range batch {
				ev := auth.Actor{Username: "bench", SiteCode: "LUX"}.Entry("sample.receive", "sample", ds.accessions[(done+j)%len(ds.accessions)])
				ev.After = benchEvent{N: done + j}
				tx.Record(ev)
			}
			return tx.NoDurabilityWait("bench: a scratch data set")
		})
		if err != nil {
			return ds, fmt.Errorf("bench: generate events: %w", err)
		}
		done += batch
	}
	// Statistics as autovacuum would have them on a database that has been running: without
	// them the planner takes the freshly loaded audit trail for empty and scans it.
	if err := a.DB.Gorm.WithContext(ctx).Exec("ANALYZE").Error; err != nil {
		return ds, fmt.Errorf("bench: analyze: %w", err)
	}
	return ds, nil
}

type benchEvent struct {
	N int `json:"n"`
}

// AuditPayload marks benchEvent as an audit payload.
func (benchEvent) AuditPayload() {}

var _ audit.Payload = benchEvent{}
