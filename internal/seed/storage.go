package seed

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/db"
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
// partly empty. Each freezer's boxes are made and filled in one transaction through the
// storage area's batch placement (one audited sample.place event per tube). A few samples
// are then checked out through the storage service.
func demoStorage(ctx context.Context, a *app.App, sum *Summary) error {
	d, store := a.DB, a.Storage
	users, err := a.Auth.Users(ctx)
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
			var ids []string
			if len(df.types) > 0 {
				err = d.Gorm.WithContext(ctx).Raw(`SELECT accession FROM samples WHERE site_id = ? AND parent_id IS NOT NULL
					AND status = 'received' AND specimen_type IN ? ORDER BY id`, tech.SiteID, df.types).Scan(&ids).Error
				if err != nil {
					return err
				}
			}
			// One transaction per freezer: its boxes made and filled, 81 tubes at a time.
			boxes := (len(ids)+80)/81 + 1
			first := boxNo
			err = d.Tx(ctx, func(tx *db.Tx) error {
				boxNo = first
				for b := 0; b < boxes; b++ {
					boxNo++
					bx, err := store.CreateBoxTx(tx, manager, storage.BoxInput{Barcode: fmt.Sprintf("%s-BX%04d", site.Code, boxNo), Freezer: fid,
						Rack: "Rack " + strconv.Itoa(1+b%df.racks), RackSlot: strconv.Itoa(1 + b/df.racks), Rows: 9, Cols: 9})
					if err != nil {
						return err
					}
					if batch := ids[min(b*81, len(ids)):min(b*81+81, len(ids))]; len(batch) > 0 {
						if _, err := store.FillTx(tx, tech, bx.Barcode, batch); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
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
