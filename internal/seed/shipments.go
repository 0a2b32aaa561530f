package seed

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/shipment"
	"biobank/internal/storage"
	"biobank/internal/study"
)

// demoShipment is one shipment of the demonstration network and how far it got.
type demoShipment struct {
	from, to  string
	condition string
	courier   string
	tubes     int
	wholeBox  bool
	// status is where the demonstration leaves it.
	status string
}

var demoShipments = []demoShipment{
	{"LUX", "DE-KIEL", "dry_ice", "World Courier", 3, false, shipment.Draft},
	{"LUX", "FR-STRAS", "dry_ice", "World Courier", 0, true, shipment.Dispatched},
	{"DE-KIEL", "LUX", "dry_ice", "Marken", 4, false, shipment.Received},
	{"FR-STRAS", "LUX", "dry_ice", "Marken", 4, false, shipment.PartiallyReceived},
	{"CH-BASEL", "LUX", "dry_ice", "Biocair", 3, false, shipment.Closed},
	{"LUX", "CH-BASEL", "ambient", "", 0, false, shipment.Cancelled},
}

// demoShipments sends samples between the demo sites through the shipment service, one
// shipment in every status: a draft being packed, a whole box in transit, one received in
// full, one with a damaged tube, a missing one and an unexpected scan waiting for a
// manager, one whose discrepancy was resolved (closed), and a cancelled draft.
func demoShipmentsSeed(ctx context.Context, a *app.App, sum *Summary) error {
	users, err := a.Auth.Users(ctx)
	if err != nil {
		return err
	}
	techs := map[string]auth.Actor{}
	var manager auth.Actor
	for _, u := range users {
		switch {
		case u.Role == auth.RoleTechnician:
			techs[u.Site.Code] = u.Actor()
		case u.Role == auth.RoleManager:
			manager = u.Actor()
		}
	}
	for _, ds := range demoShipments {
		from, to := techs[ds.from], techs[ds.to]
		in := shipment.Input{Destination: ds.to, Condition: ds.condition, Courier: ds.courier, Responsible: "Biobank coordinator, " + ds.from}
		if ds.condition == "dry_ice" {
			kg := decimal.NewFromInt(5)
			in.DryIceKg = &kg
		}
		sh, err := a.Shipments.Create(ctx, from, in)
		if err != nil {
			return fmt.Errorf("shipment %s → %s: %w", ds.from, ds.to, err)
		}
		packed, err := demoPack(ctx, a, from, manager, sh.Code, ds)
		if err != nil {
			return fmt.Errorf("shipment %s: %w", sh.Code, err)
		}
		switch ds.status {
		case shipment.Draft:
		case shipment.Cancelled:
			_, err = a.Shipments.Cancel(ctx, from, sh.Code, "courier could not collect this week")
		default:
			err = demoSendAndReceive(ctx, a, from, to, manager, sh.Code, packed, ds.status)
		}
		if err != nil {
			return fmt.Errorf("shipment %s: %w", sh.Code, err)
		}
		sum.Shipments++
	}
	// Dispatched tubes left their positions.
	var stored int64
	if err := a.DB.Gorm.WithContext(ctx).Raw("SELECT count(*) FROM sample_positions").Scan(&stored).Error; err != nil {
		return err
	}
	sum.Stored = int(stored)
	return nil
}

// demoPack packs a whole shipping box (demoShippingBox) or the first tubes of the sender
// that may travel, skipping those the shipment refuses (held, consent without sharing).
func demoPack(ctx context.Context, a *app.App, from, manager auth.Actor, code string, ds demoShipment) ([]string, error) {
	if ds.wholeBox {
		return demoShippingBox(ctx, a, from, manager, code)
	}
	var candidates []string
	err := a.DB.Gorm.WithContext(ctx).Raw(`SELECT accession FROM samples WHERE site_id = ? AND status IN ('stored', 'received')
		AND NOT hold AND `+notPacked+` ORDER BY id DESC LIMIT 200`, from.SiteID).Scan(&candidates).Error
	if err != nil {
		return nil, err
	}
	var packed []string
	for _, c := range candidates {
		if len(packed) == ds.tubes {
			break
		}
		added, err := a.Shipments.Add(ctx, from, code, shipment.ItemInput{Sample: c})
		if err != nil {
			if refused(err) {
				continue
			}
			return nil, err
		}
		packed = append(packed, added...)
	}
	if len(packed) < ds.tubes {
		return nil, fmt.Errorf("only %d of %d tubes may travel", len(packed), ds.tubes)
	}
	return packed, nil
}

// notPacked keeps out samples already in an open shipment.
const notPacked = `NOT EXISTS (SELECT 1 FROM shipment_items i JOIN shipments sh ON sh.id = i.shipment_id
	WHERE i.sample_id = samples.id AND i.state = 'packed' AND sh.status IN ('draft', 'dispatched', 'partially_received'))`

// refused reports a refusal of one sample or box, which the seed passes over.
func refused(err error) bool {
	_, conflict := apperr.AsConflict(err)
	_, invalid := apperr.AsValidation(err)
	return conflict || invalid
}

// demoSendAndReceive dispatches a packed shipment and takes it as far as status.
func demoSendAndReceive(ctx context.Context, a *app.App, from, to, manager auth.Actor, code string, packed []string, status string) error {
	if _, err := a.Shipments.Dispatch(ctx, from, code); err != nil {
		return err
	}
	temp := decimal.NewFromInt(-72)
	in := shipment.ReceiveInput{ArrivalCondition: "dry ice left, box intact", ArrivalTemperature: &temp}
	switch status {
	case shipment.Dispatched:
		return nil
	case shipment.Received:
		in.Received = packed
	case shipment.PartiallyReceived:
		in.Received, in.Damaged = packed[:len(packed)-2], packed[len(packed)-2:len(packed)-1]
		in.Received = append(in.Received, "FX-UNLABELLED-01")
		in.ArrivalCondition = "outer box dented; one tube cracked"
	case shipment.Closed:
		in.Received = packed[:len(packed)-1]
	}
	if _, err := a.Shipments.Receive(ctx, to, code, in); err != nil {
		return err
	}
	if status == shipment.Closed {
		_, err := a.Shipments.Resolve(ctx, manager, code, packed[len(packed)-1], "found", "found in the dry ice at the bottom of the box")
		return err
	}
	return nil
}

// demoShippingBox repacks a dozen stored tubes whose participants consented to sharing
// into a shipping box, as a technician does before sending a box whole, and packs the box
// with its map.
func demoShippingBox(ctx context.Context, a *app.App, from, manager auth.Actor, code string) ([]string, error) {
	var candidates []struct {
		Accession     string
		ParticipantID int64
		StudyID       int64
	}
	err := a.DB.Gorm.WithContext(ctx).Raw(`SELECT accession, participant_id, study_id FROM samples
		WHERE site_id = ? AND status = 'stored' AND NOT hold AND `+notPacked+` ORDER BY id DESC LIMIT 500`, from.SiteID).Scan(&candidates).Error
	if err != nil {
		return nil, err
	}
	var freezer string
	if err := a.DB.Gorm.WithContext(ctx).Raw("SELECT id::text FROM freezers WHERE site_id = ? ORDER BY id LIMIT 1", from.SiteID).Scan(&freezer).Error; err != nil {
		return nil, err
	}
	setup := manager
	setup.SiteID, setup.SiteCode = from.SiteID, from.SiteCode
	box, err := a.Storage.CreateBox(ctx, setup, storage.BoxInput{Barcode: from.SiteCode + "-SHIP-01", Freezer: freezer, Rows: 9, Cols: 9})
	if err != nil {
		return nil, err
	}
	moved := 0
	for _, c := range candidates {
		if moved == 12 {
			break
		}
		ok, err := consent.MayUse(a.DB.Gorm.WithContext(ctx), c.ParticipantID, c.StudyID, study.TierSharing)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		pos := storage.Position{Row: moved/9 + 1, Col: moved%9 + 1}.String()
		if _, err := a.Storage.Place(ctx, from, box.Barcode, pos, c.Accession); err != nil {
			return nil, fmt.Errorf("repack %s: %w", c.Accession, err)
		}
		moved++
	}
	return a.Shipments.Add(ctx, from, code, shipment.ItemInput{Box: box.Barcode})
}
