package seed

import (
	"context"
	"fmt"
	"strconv"
	"sync"

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
// partly empty, through the storage area's batch placement (one audited sample.place event
// per tube). A few samples are then checked out.
func demoStorage(ctx context.Context, a *app.App, sum *Summary) error {
	users, err := a.Auth.Users(ctx)
	if err != nil {
		return err
	}
	// One transaction per site, the four sites at once: nothing of one site's storage
	// touches another's.
	type result struct {
		stored, out int
		err         error
	}
	results := make([]result, len(DemoSites))
	var wg sync.WaitGroup
	for i, site := range DemoSites {
		var tech auth.Actor
		for _, u := range users {
			if u.Role == auth.RoleTechnician && u.Site.Code == site.Code {
				tech = u.Actor()
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.err = demoTx(ctx, a.DB, func(tx *db.Tx) error {
				var err error
				r.stored, r.out, err = demoSiteStorage(tx, a.Storage, site.Code, tech)
				return err
			})
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
		sum.Stored += r.stored
		sum.CheckedOut += r.out
	}
	return nil
}

// demoSiteStorage sets up one site's freezers, racks and boxes, stores its live aliquots and
// checks a few out, in the caller's transaction.
func demoSiteStorage(tx *db.Tx, store *storage.Service, site string, tech auth.Actor) (stored, checkedOut int, err error) {
	manager := auth.Actor{Username: "demo-seed", Role: auth.RoleAdmin, SiteID: tech.SiteID, SiteCode: site}
	boxNo := 0
	for _, df := range demoFreezers {
		f, err := store.CreateFreezerTx(tx, manager, storage.FreezerInput{Name: df.name, Type: df.kind, Temperature: ptr(decimal.NewFromInt(df.temp))})
		if err != nil {
			return 0, 0, err
		}
		fid := strconv.FormatInt(f.ID, 10)
		for r := 1; r <= df.racks; r++ {
			if _, err := store.CreateRackTx(tx, manager, fid, "Rack "+strconv.Itoa(r)); err != nil {
				return 0, 0, err
			}
		}
		var ids []string
		if len(df.types) > 0 {
			err = tx.Raw(`SELECT accession FROM samples WHERE site_id = ? AND parent_id IS NOT NULL
				AND status = 'received' AND specimen_type IN ? ORDER BY id`, tech.SiteID, df.types).Scan(&ids).Error
			if err != nil {
				return 0, 0, err
			}
		}
		// Boxes filled 81 tubes at a time, and one spare.
		for b := 0; b < (len(ids)+80)/81+1; b++ {
			boxNo++
			bx, err := store.CreateBoxTx(tx, manager, storage.BoxInput{Barcode: fmt.Sprintf("%s-BX%04d", site, boxNo), Freezer: fid,
				Rack: "Rack " + strconv.Itoa(1+b%df.racks), RackSlot: strconv.Itoa(1 + b/df.racks), Rows: 9, Cols: 9})
			if err != nil {
				return 0, 0, err
			}
			if batch := ids[min(b*81, len(ids)):min(b*81+81, len(ids))]; len(batch) > 0 {
				if _, err := store.FillTx(tx, tech, bx.Barcode, batch); err != nil {
					return 0, 0, err
				}
			}
		}
		stored += len(ids)
	}
	// A few tubes are out at the bench.
	var out []string
	if err := tx.Raw(`SELECT accession FROM samples WHERE site_id = ? AND status = 'stored' AND NOT hold
		ORDER BY id DESC LIMIT 4`, tech.SiteID).Scan(&out).Error; err != nil {
		return 0, 0, err
	}
	for _, acc := range out {
		if _, err := store.CheckOutTx(tx, tech, acc, "ELISA run"); err != nil {
			return 0, 0, err
		}
	}
	return stored, len(out), nil
}
