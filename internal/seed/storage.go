package seed

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
	"biobank/internal/storage"
)

// demoFreezer is one storage unit of every demo site.
type demoFreezer struct {
	name  string
	kind  string
	temp  int64
	racks int
	// types are the specimen types stored in it.
	types []string
}

var demoFreezers = []demoFreezer{
	{"−80 °C freezer A", "-80", -80, 4, []string{"plasma", "serum"}},
	{"−80 °C freezer B", "-80", -80, 4, []string{"stool", "urine", "csf", "whole_blood", "dna", "rna"}},
	{"Liquid nitrogen tank", "ln2", -196, 2, []string{"pbmc"}},
	{"−20 °C freezer", "-20", -20, 2, nil},
}

// demoStorage gives every demo site its freezers, racks and 9×9 boxes, and stores every
// live aliquot: boxes fill up in order, so most are full and the last of each freezer is
// partly empty. The placements go in as one set-based statement per freezer — with one
// audited sample.place event per tube, written by the same statement through the audit
// trigger — because 9,000 single placements would make the first `make run` slow. A few
// samples are then checked out through the storage service.
func demoStorage(ctx context.Context, d *db.DB, samples *sample.Service, sum *Summary) error {
	store := storage.NewService(d, samples)
	users, err := auth.NewService(d).Users(ctx)
	if err != nil {
		return err
	}
	for _, site := range DemoSites {
		var tech auth.Actor
		for _, u := range users {
			if u.Role == auth.RoleTechnician && u.Site.Code == site.Code {
				tech = u.Actor()
			}
		}
		manager := auth.Actor{Username: "demo-seed", Role: auth.RoleAdmin, SiteID: tech.SiteID, SiteCode: site.Code}
		boxNo := 0
		for _, df := range demoFreezers {
			f, err := store.CreateFreezer(ctx, manager, storage.FreezerInput{Name: df.name, Type: df.kind, Temperature: decimal.NewFromInt(df.temp)})
			if err != nil {
				return err
			}
			fid := strconv.FormatInt(f.ID, 10)
			for r := 1; r <= df.racks; r++ {
				if _, err := store.CreateRack(ctx, manager, fid, "Rack "+strconv.Itoa(r)); err != nil {
					return err
				}
			}
			var ids []int64
			if len(df.types) > 0 {
				err = d.Gorm.WithContext(ctx).Raw(`SELECT id FROM samples WHERE site_id = ? AND parent_id IS NOT NULL
					AND status = 'received' AND specimen_type IN ? ORDER BY id`, tech.SiteID, df.types).Scan(&ids).Error
				if err != nil {
					return err
				}
			}
			boxes := (len(ids)+80)/81 + 1
			var boxIDs []int64
			for b := 0; b < boxes; b++ {
				boxNo++
				bx, err := store.CreateBox(ctx, manager, storage.BoxInput{Barcode: fmt.Sprintf("%s-BX%04d", site.Code, boxNo), Freezer: fid,
					Rack: "Rack " + strconv.Itoa(1+b%df.racks), RackSlot: strconv.Itoa(1 + b/df.racks), Rows: 9, Cols: 9})
				if err != nil {
					return err
				}
				boxIDs = append(boxIDs, bx.ID)
			}
			if err := storeAll(ctx, d, tech, ids, boxIDs); err != nil {
				return err
			}
			sum.Stored += len(ids)
		}
		// A few tubes are out at the bench.
		var out []string
		if err := d.Gorm.WithContext(ctx).Raw(`SELECT accession FROM samples WHERE site_id = ? AND status = 'stored' AND NOT hold
			ORDER BY id DESC LIMIT 4`, tech.SiteID).Scan(&out).Error; err != nil {
			return err
		}
		for _, acc := range out {
			if _, err := store.CheckOut(ctx, tech, acc, "ELISA run"); err != nil {
				return err
			}
			sum.CheckedOut++
		}
	}
	return nil
}

// storeAll puts samples ids into boxIDs (9×9) in order, row by row, marks them stored,
// and audits each placement, in one transaction.
func storeAll(ctx context.Context, d *db.DB, tech auth.Actor, ids, boxIDs []int64) error {
	if len(ids) == 0 {
		return nil
	}
	boxes, rows, cols := make([]int64, len(ids)), make([]int, len(ids)), make([]int, len(ids))
	for i := range ids {
		boxes[i], rows[i], cols[i] = boxIDs[i/81], (i%81)/9+1, i%9+1
	}
	return d.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO sample_positions (sample_id, box_id, row, col, placed_by)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::smallint[], ?::smallint[]) , (SELECT ?::bigint) AS by`,
			pgArray(ids), pgArray(boxes), pgArray(rows), pgArray(cols), tech.UserID).Error; err != nil {
			return err
		}
		if err := tx.Exec("UPDATE samples SET status = 'stored', updated_at = now() WHERE id = ANY(?::bigint[])", pgArray(ids)).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO audit_events (seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
			SELECT 0, now(), ?, ?, ?, 'sample.place', 'sample', s.accession, '',
				jsonb_build_object('status', 'received', 'location', NULL),
				jsonb_build_object('status', 'stored', 'location', jsonb_build_object('site', si.code, 'freezer', f.name,
					'rack', COALESCE(r.name, ''), 'box', b.barcode, 'position', chr(64 + p.row) || p.col)),
				'', ''
			FROM samples s JOIN sample_positions p ON p.sample_id = s.id JOIN boxes b ON b.id = p.box_id
			JOIN freezers f ON f.id = b.freezer_id JOIN sites si ON si.id = f.site_id LEFT JOIN racks r ON r.id = b.rack_id
			WHERE s.id = ANY(?::bigint[]) ORDER BY s.id`, tech.ID(), tech.Username, tech.SiteCode, pgArray(ids)).Error
	})
}

// pgArray writes a PostgreSQL array literal of integers.
func pgArray[T int | int64](xs []T) string {
	b := make([]byte, 0, len(xs)*8+2)
	b = append(b, '{')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return string(append(b, '}'))
}
