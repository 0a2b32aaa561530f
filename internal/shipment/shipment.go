// Package shipment sends samples between the sites of this instance or to an external
// recipient: a shipment is packed by scanning tubes or whole boxes (a box keeps its map),
// dispatched all at once (every sample in transit and out of its position, in one
// transaction), and received by scanning, each item received, damaged, missing or —
// scanned but not packed — unexpected; discrepancies stay open until a manager resolves
// each one with a reason. A sample's custody changes only at receipt.
package shipment

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/sample"
	"biobank/internal/storage"
	"biobank/internal/study"
)

// Statuses of a shipment.
const (
	Draft             = "draft"
	Dispatched        = "dispatched"
	PartiallyReceived = "partially_received"
	Received          = "received"
	Closed            = "closed"
	Cancelled         = "cancelled"
)

// Conditions a shipment travels in.
var Conditions = map[string]string{"ambient": "ambient", "2-8c": "2–8 °C", "dry_ice": "dry ice", "ln2": "liquid-nitrogen dry shipper"}

// Shipment is a package of samples on its way.
type Shipment struct {
	ID                  int64      `json:"-"`
	Code                string     `json:"code"`
	Status              string     `json:"status"`
	OriginSiteID        int64      `json:"-"`
	Origin              auth.Site  `json:"-" gorm:"foreignKey:OriginSiteID"`
	DestinationSiteID   *int64     `json:"-"`
	Destination         *auth.Site `json:"-" gorm:"foreignKey:DestinationSiteID"`
	DestinationExternal string     `json:"-"`
	ExternalCountry     *string    `json:"-" gorm:"column:destination_country"`
	// PeerID is the partner instance a shipment came from (imported from its manifest).
	PeerID             *int64           `json:"-"`
	Condition          string           `json:"condition"`
	Courier            string           `json:"courier"`
	Tracking           string           `json:"tracking"`
	DataLogger         string           `json:"data_logger"`
	Responsible        string           `json:"responsible"`
	DryIceKg           *decimal.Decimal `json:"dry_ice_kg"`
	CreatedBy          *int64           `json:"-"`
	CreatedAt          time.Time        `json:"created_at"`
	DispatchedAt       *time.Time       `json:"dispatched_at"`
	ReceivedAt         *time.Time       `json:"received_at"`
	ArrivalCondition   string           `json:"arrival_condition"`
	ArrivalTemperature *decimal.Decimal `json:"arrival_temperature"`
	Excursion          string           `json:"excursion"`
	Items              []Item           `json:"-" gorm:"foreignKey:ShipmentID"`
	Unexpected         []Unexpected     `json:"-" gorm:"foreignKey:ShipmentID"`
}

// DestinationName is where the shipment goes, for people and the API.
func (s Shipment) DestinationName() string {
	if s.Destination != nil {
		return s.Destination.Code
	}
	return s.DestinationExternal
}

// Unexpected is a code scanned at receipt that matched nothing in the shipment.
type Unexpected struct {
	ShipmentID int64
	Code       string
	ScannedAt  time.Time
	Resolution string
	Reason     string
}

// TableName is the table of unexpected scans.
func (Unexpected) TableName() string { return "shipment_unexpected" }

// Item is one sample of a shipment, with where it sat when it was packed.
type Item struct {
	ShipmentID int64         `json:"-"`
	SampleID   int64         `json:"-"`
	Sample     sample.Sample `json:"-" gorm:"foreignKey:SampleID"`
	BoxID      *int64        `json:"-"`
	Box        *storage.Box  `json:"-" gorm:"foreignKey:BoxID"`
	Row        *int          `json:"-"`
	Col        *int          `json:"-"`
	State      string        `json:"state"`
	Reason     string        `json:"reason,omitempty"`
}

// TableName is shipment_items.
func (Item) TableName() string { return "shipment_items" }

// Position is where the item sat in its box when packed ("" when it was not in a box).
func (it Item) Position() string {
	if it.Row == nil || it.Col == nil {
		return ""
	}
	return storage.Position{Row: *it.Row, Col: *it.Col}.String()
}

// Service ships samples.
type Service struct {
	DB      *db.DB
	Samples *sample.Service
	Now     func() time.Time
}

// NewService returns a Service on d.
func NewService(d *db.DB, samples *sample.Service) *Service {
	return &Service{DB: d, Samples: samples, Now: func() time.Time { return time.Now().UTC() }}
}

var shipRoles = []auth.Role{auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin}

// Input is a new shipment.
type Input struct {
	// Destination is a site code of this instance, or External names an external
	// recipient (name and address).
	Destination string `json:"destination"`
	External    string `json:"external"`
	// Country is an external recipient's country (ISO alpha-2); a site's is on the site.
	Country     string           `json:"country"`
	Condition   string           `json:"condition"`
	Courier     string           `json:"courier"`
	Tracking    string           `json:"tracking"`
	DataLogger  string           `json:"data_logger"`
	Responsible string           `json:"responsible"`
	DryIceKg    *decimal.Decimal `json:"dry_ice_kg"`
}

type shipmentEvent struct {
	Code        string   `json:"code"`
	Status      string   `json:"status"`
	Origin      string   `json:"origin"`
	Destination string   `json:"destination"`
	Condition   string   `json:"condition"`
	Courier     string   `json:"courier,omitempty"`
	Tracking    string   `json:"tracking,omitempty"`
	DataLogger  string   `json:"data_logger,omitempty"`
	Responsible string   `json:"responsible,omitempty"`
	DryIceKg    string   `json:"dry_ice_kg,omitempty"`
	Samples     []string `json:"samples,omitempty"`
	Unexpected  []string `json:"unexpected,omitempty"`
}

func (shipmentEvent) AuditPayload() {}

func (s Shipment) event() shipmentEvent {
	e := shipmentEvent{Code: s.Code, Status: s.Status, Origin: s.Origin.Code, Destination: s.DestinationName(), Condition: s.Condition,
		Courier: s.Courier, Tracking: s.Tracking, DataLogger: s.DataLogger, Responsible: s.Responsible}
	if s.DryIceKg != nil {
		e.DryIceKg = s.DryIceKg.String()
	}
	return e
}

// sampleShipEvent is what a sample's own trail keeps of its journey.
type sampleShipEvent struct {
	Shipment    string            `json:"shipment"`
	Status      sample.Status     `json:"status"`
	Site        string            `json:"site"`
	From        string            `json:"from,omitempty"`
	To          string            `json:"to,omitempty"`
	Courier     string            `json:"courier,omitempty"`
	Tracking    string            `json:"tracking,omitempty"`
	Condition   string            `json:"condition,omitempty"`
	LeftBox     *storage.Location `json:"left,omitempty"`
	ItemState   string            `json:"item_state,omitempty"`
	Destination string            `json:"destination,omitempty"`
}

func (sampleShipEvent) AuditPayload() {}

// Create opens a draft shipment from the actor's site.
func (s *Service) Create(ctx context.Context, actor auth.Actor, in Input) (Shipment, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return Shipment{}, err
	}
	sh := Shipment{Status: Draft, Condition: strings.ToLower(strings.TrimSpace(in.Condition)), CreatedBy: actor.ID()}
	if _, ok := Conditions[sh.Condition]; !ok {
		return Shipment{}, apperr.Invalid("condition", "The condition is ambient, 2-8c, dry_ice or ln2.")
	}
	var err error
	for _, f := range []struct {
		dst        *string
		name, text string
		max        int
	}{
		{&sh.Courier, "courier", in.Courier, 100}, {&sh.Tracking, "tracking", in.Tracking, 100},
		{&sh.DataLogger, "data_logger", in.DataLogger, 100}, {&sh.Responsible, "responsible", in.Responsible, 200},
		{&sh.DestinationExternal, "external", in.External, 500},
	} {
		if *f.dst, err = input.Text(f.name, strings.ReplaceAll(f.name, "_", " "), f.text, f.max, false); err != nil {
			return Shipment{}, err
		}
	}
	if sh.Condition == "dry_ice" {
		if in.DryIceKg == nil || !in.DryIceKg.IsPositive() || in.DryIceKg.GreaterThan(decimal.NewFromInt(200)) {
			return Shipment{}, apperr.Invalid("dry_ice_kg", "Give the dry ice's net weight in kg (UN1845), more than 0 and at most 200.")
		}
		sh.DryIceKg = in.DryIceKg
	}
	if (strings.TrimSpace(in.Destination) == "") == (sh.DestinationExternal == "") {
		return Shipment{}, apperr.Invalid("destination", "Name the destination: a site, or an external recipient.")
	}
	if sh.DestinationExternal != "" {
		country := strings.ToUpper(strings.TrimSpace(in.Country))
		if !countryPattern.MatchString(country) {
			return Shipment{}, apperr.Invalid("country", "Give the external recipient's country as its two-letter ISO code, e.g. DE or CH.")
		}
		sh.ExternalCountry = &country
	}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if actor.SiteID == 0 {
			return apperr.Invalid("destination", "A shipment leaves from the sender's site; this account has none.")
		}
		if err := tx.Take(&sh.Origin, actor.SiteID).Error; err != nil {
			return err
		}
		sh.OriginSiteID = sh.Origin.ID
		if code := strings.ToUpper(strings.TrimSpace(in.Destination)); code != "" {
			var dest auth.Site
			err := tx.Where("code = ? AND active", code).Take(&dest).Error
			if db.ErrNoRows(err) {
				return apperr.Invalid("destination", fmt.Sprintf("There is no active site %q.", code))
			}
			if err != nil {
				return err
			}
			if dest.ID == sh.OriginSiteID {
				return apperr.Invalid("destination", "A shipment goes to another site than the one it leaves.")
			}
			sh.DestinationSiteID, sh.Destination = &dest.ID, &dest
		}
		var n int64
		if err := tx.Raw("SELECT nextval('shipment_code_seq')").Scan(&n).Error; err != nil {
			return err
		}
		// SH, this instance's accession prefix (so codes stay unique across a federation) and
		// a number, with two check symbols over prefix and number (S is not in the code
		// alphabet).
		num, err := checkcode.Append(fmt.Sprintf("%s%06d", s.Samples.Prefix, n))
		if err != nil {
			return err
		}
		sh.Code = "SH" + num
		if err := tx.Omit(clause.Associations).Create(&sh).Error; err != nil {
			return err
		}
		e := actor.Entry("shipment.create", "shipment", sh.Code)
		e.After = sh.event()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment: create: %w", err)
	}
	return sh, nil
}

// lockShipment reads and row-locks a shipment of the actor's site (its origin, or its
// destination when forReceipt).
func lockShipment(tx *db.Tx, actor auth.Actor, code string, forReceipt bool) (Shipment, error) {
	var sh Shipment
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("code = ?", strings.ToUpper(input.Scanned(code))).Take(&sh).Error
	if db.ErrNoRows(err) {
		return sh, apperr.NotFound("shipment", code)
	}
	if err != nil {
		return sh, err
	}
	if err := tx.Take(&sh.Origin, sh.OriginSiteID).Error; err != nil {
		return sh, err
	}
	if sh.DestinationSiteID != nil {
		sh.Destination = &auth.Site{}
		if err := tx.Take(sh.Destination, *sh.DestinationSiteID).Error; err != nil {
			return sh, err
		}
	}
	if forReceipt {
		if sh.DestinationSiteID == nil || *sh.DestinationSiteID != actor.SiteID {
			return sh, apperr.Forbidden(fmt.Sprintf("Shipment %s goes to %s: only that site receives it.", sh.Code, sh.DestinationName()))
		}
		return sh, nil
	}
	return sh, actor.RequireSite(sh.OriginSiteID)
}

// ItemInput is what is added to a shipment: a sample, or a whole box with its map.
type ItemInput struct {
	Sample string `json:"sample"`
	Box    string `json:"box"`
}

// Add packs a sample, or every sample of a box, into a draft shipment: all of a box or
// nothing. Each sample must be storable and shippable, not held, not in another open
// shipment, at the shipment's site, and — for a destination at another site — consented
// to sharing.
func (s *Service) Add(ctx context.Context, actor auth.Actor, code string, in ItemInput) ([]string, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return nil, err
	}
	if (strings.TrimSpace(in.Sample) == "") == (strings.TrimSpace(in.Box) == "") {
		return nil, apperr.Invalid("sample", "Scan a sample or a box.")
	}
	var added []string
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		sh, err := lockShipment(tx, actor, code, false)
		if err != nil {
			return err
		}
		if sh.Status != Draft {
			return apperr.Conflict("not_draft", "shipment", fmt.Sprintf("Shipment %s is %s: only a draft takes more samples.", sh.Code, strings.ReplaceAll(sh.Status, "_", " ")))
		}
		var codes []string
		if in.Box != "" {
			var ids []string
			err := tx.Raw(`SELECT s.accession FROM sample_positions p JOIN samples s ON s.id = p.sample_id JOIN boxes b ON b.id = p.box_id
				WHERE b.barcode = ? ORDER BY s.id`, input.Scanned(in.Box)).Scan(&ids).Error
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				return apperr.Invalid("box", fmt.Sprintf("Box %s holds no samples (or there is no such box).", input.Scanned(in.Box)))
			}
			codes = ids
		} else {
			codes = []string{in.Sample}
		}
		for _, c := range codes {
			smp, err := s.Samples.Lock(tx, actor, c)
			if err != nil {
				return err
			}
			if err := s.shippable(tx, sh, smp, true); err != nil {
				return err
			}
			it := Item{ShipmentID: sh.ID, SampleID: smp.ID, State: "packed"}
			var pos []struct {
				BoxID    int64
				Row, Col int
			}
			if err := tx.Raw("SELECT box_id, row, col FROM sample_positions WHERE sample_id = ?", smp.ID).Scan(&pos).Error; err != nil {
				return err
			}
			if len(pos) == 1 {
				it.BoxID, it.Row, it.Col = &pos[0].BoxID, &pos[0].Row, &pos[0].Col
			}
			if err := tx.Omit(clause.Associations).Create(&it).Error; err != nil {
				if db.IsUniqueViolation(err) {
					return apperr.Conflict("already_in_shipment", "sample", fmt.Sprintf("%s is already in shipment %s.", smp.Accession, sh.Code))
				}
				return err
			}
			added = append(added, smp.Accession)
		}
		e := actor.Entry("shipment.add", "shipment", sh.Code)
		ev := sh.event()
		ev.Samples = added
		e.After = ev
		tx.Record(e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("shipment: add to %s: %w", code, err)
	}
	return added, nil
}

// shippable says why smp cannot go in sh, if it cannot: its status and hold, its site, an
// open shipment it is already in, and its consent to sharing when it leaves the site.
func (s *Service) shippable(tx *db.Tx, sh Shipment, smp sample.Sample, adding bool) error {
	if _, err := sample.Next(smp, sample.ActDispatch); err != nil {
		return err
	}
	if smp.SiteID != sh.OriginSiteID {
		return apperr.Conflict("wrong_site", "sample", fmt.Sprintf("%s is in the custody of another site than %s, where the shipment leaves.", smp.Accession, sh.Origin.Code))
	}
	var other []string
	q := `SELECT sh.code FROM shipment_items i JOIN shipments sh ON sh.id = i.shipment_id
		WHERE i.sample_id = ? AND sh.status IN ('draft', 'dispatched', 'partially_received') AND i.state = 'packed'`
	if !adding {
		q += " AND sh.id <> " + fmt.Sprint(sh.ID)
	}
	if err := tx.Raw(q, smp.ID).Scan(&other).Error; err != nil {
		return err
	}
	if len(other) > 0 {
		return apperr.Conflict("already_in_shipment", "sample", fmt.Sprintf("%s is already in shipment %s.", smp.Accession, other[0]))
	}
	// Sharing: samples that leave the site need the participant's consent to it.
	may, err := consent.MayUse(tx.DB, smp.ParticipantID, smp.StudyID, study.TierSharing)
	if err != nil {
		return err
	}
	if !may {
		return apperr.Conflict("consent_forbids_sharing", "sample", fmt.Sprintf(
			"%s cannot leave %s: the participant's consent does not grant the tier %q.", smp.Accession, sh.Origin.Code, study.TierSharing))
	}
	return outsideEEAAllowed(tx, sh, smp)
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Remove takes a sample out of a draft shipment.
func (s *Service) Remove(ctx context.Context, actor auth.Actor, code, sampleCode string) error {
	if err := actor.Require(shipRoles...); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		sh, err := lockShipment(tx, actor, code, false)
		if err != nil {
			return err
		}
		if sh.Status != Draft {
			return apperr.Conflict("not_draft", "shipment", fmt.Sprintf("Shipment %s has left: its samples can no longer be taken out.", sh.Code))
		}
		smp, err := s.Samples.Lock(tx, actor, sampleCode)
		if err != nil {
			return err
		}
		res := tx.Where("shipment_id = ? AND sample_id = ?", sh.ID, smp.ID).Delete(&Item{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.NotFound("sample in shipment", smp.Accession)
		}
		e := actor.Entry("shipment.remove", "shipment", sh.Code)
		ev := sh.event()
		ev.Samples = []string{smp.Accession}
		e.After = ev
		tx.Record(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("shipment: remove from %s: %w", code, err)
	}
	return nil
}

// Dispatch sends a draft shipment: every sample is checked again (consent may have been
// withdrawn since it was packed) and, only if every one may go, becomes in transit and
// leaves its position, in one transaction. A refusal names every sample that can no longer
// go.
func (s *Service) Dispatch(ctx context.Context, actor auth.Actor, code string) (Shipment, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return Shipment{}, err
	}
	var out Shipment
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		sh, err := lockShipment(tx, actor, code, false)
		if err != nil {
			return err
		}
		if sh.Status != Draft {
			return apperr.Conflict("not_draft", "shipment", fmt.Sprintf("Shipment %s is %s: only a draft is dispatched.", sh.Code, strings.ReplaceAll(sh.Status, "_", " ")))
		}
		var items []Item
		if err := tx.Where("shipment_id = ?", sh.ID).Order("sample_id").Find(&items).Error; err != nil {
			return err
		}
		if len(items) == 0 {
			return apperr.InvalidCode("shipment", "empty_shipment", fmt.Sprintf("Shipment %s holds no samples: scan them in before dispatching it.", sh.Code))
		}
		var problems []string
		var samples []sample.Sample
		for _, it := range items { // in sample id order: the lock order
			var smp sample.Sample
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&smp, it.SampleID).Error; err != nil {
				return err
			}
			if err := s.shippable(tx, sh, smp, false); err != nil {
				problems = append(problems, refusalText(err))
				continue
			}
			samples = append(samples, smp)
		}
		if len(problems) > 0 {
			return apperr.Conflict("cannot_dispatch", "shipment", fmt.Sprintf("Shipment %s was not dispatched: %s", sh.Code, strings.Join(problems, " ")))
		}
		now := s.Now()
		for _, smp := range samples {
			left, err := storage.Positions{}.Release(tx, smp)
			if err != nil {
				return err
			}
			if err := tx.Model(&sample.Sample{}).Where("id = ?", smp.ID).
				Updates(map[string]any{"status": sample.InTransit, "updated_at": now}).Error; err != nil {
				return err
			}
			e := actor.Entry("sample.dispatch", "sample", smp.Accession)
			e.Before = sampleShipEvent{Shipment: sh.Code, Status: smp.Status, Site: sh.Origin.Code}
			ev := sampleShipEvent{Shipment: sh.Code, Status: sample.InTransit, Site: sh.Origin.Code, From: sh.Origin.Code, To: sh.DestinationName(),
				Courier: sh.Courier, Tracking: sh.Tracking, Condition: sh.Condition}
			if loc, ok := left.(storage.Location); ok {
				ev.LeftBox = &loc
			}
			e.After = ev
			tx.Record(e)
		}
		before := sh.event()
		sh.Status, sh.DispatchedAt = Dispatched, &now
		if err := tx.Model(&Shipment{}).Where("id = ?", sh.ID).Updates(map[string]any{"status": Dispatched, "dispatched_at": now}).Error; err != nil {
			return err
		}
		e := actor.Entry("shipment.dispatch", "shipment", sh.Code)
		e.Before, e.After = before, sh.event()
		tx.Record(e)
		out = sh
		return nil
	})
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment: dispatch %s: %w", code, err)
	}
	return out, nil
}

// refusalText is the sentence of a domain refusal.
func refusalText(err error) string {
	if c, ok := apperr.AsConflict(err); ok {
		return c.Message
	}
	if v, ok := apperr.AsValidation(err); ok {
		return v.Message
	}
	return err.Error()
}

// Cancel drops a draft shipment (its samples stay where they are).
func (s *Service) Cancel(ctx context.Context, actor auth.Actor, code, reason string) (Shipment, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return Shipment{}, err
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return Shipment{}, err
	}
	var out Shipment
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		sh, err := lockShipment(tx, actor, code, false)
		if err != nil {
			return err
		}
		if sh.Status != Draft {
			return apperr.Conflict("not_draft", "shipment", fmt.Sprintf("Shipment %s has left: it can no longer be cancelled.", sh.Code))
		}
		before := sh.event()
		sh.Status = Cancelled
		if err := tx.Model(&Shipment{}).Where("id = ?", sh.ID).Update("status", Cancelled).Error; err != nil {
			return err
		}
		e := actor.Entry("shipment.cancel", "shipment", sh.Code)
		e.Reason, e.Before, e.After = reason, before, sh.event()
		tx.Record(e)
		out = sh
		return nil
	})
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment: cancel %s: %w", code, err)
	}
	return out, nil
}

// Get returns a shipment with its items, for a user of its origin or destination site (or
// one who sees every site).
func (s *Service) Get(ctx context.Context, actor auth.Actor, code string) (Shipment, error) {
	var sh Shipment
	err := s.DB.Gorm.WithContext(ctx).Preload("Origin").Preload("Destination").
		Preload("Items", func(q *gorm.DB) *gorm.DB { return q.Order("sample_id") }).Preload("Items.Sample").Preload("Items.Box").
		Preload("Unexpected", func(q *gorm.DB) *gorm.DB { return q.Order("code") }).
		Where("code = ?", strings.ToUpper(input.Scanned(code))).Take(&sh).Error
	if db.ErrNoRows(err) {
		return sh, apperr.NotFound("shipment", code)
	}
	if err != nil {
		return sh, err
	}
	if !actor.AllSites() && actor.SiteID != sh.OriginSiteID && (sh.DestinationSiteID == nil || *sh.DestinationSiteID != actor.SiteID) {
		return Shipment{}, apperr.Forbidden("This shipment is between other sites.")
	}
	return sh, nil
}

// Filter selects shipments.
type Filter struct {
	Status    string
	Direction string // "in", "out" or "" (both) for the actor's site
	Cursor    int64
	Limit     int
}

// List returns shipments newest first: the actor's site's outgoing and incoming ones (all
// of them for those who see every site), or one direction.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) ([]Shipment, int64, error) {
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := s.DB.Gorm.WithContext(ctx).Preload("Origin").Preload("Destination").Order("id DESC").Limit(limit + 1)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Cursor > 0 {
		q = q.Where("id < ?", f.Cursor)
	}
	switch f.Direction {
	case "in":
		// What has not left (drafts, cancelled ones) is the sender's business.
		q = q.Where("destination_site_id = ? AND status NOT IN ('draft', 'cancelled')", actor.SiteID)
	case "out":
		q = q.Where("origin_site_id = ?", actor.SiteID)
	case "":
		if !actor.AllSites() {
			q = q.Where("origin_site_id = ? OR destination_site_id = ?", actor.SiteID, actor.SiteID)
		}
	default:
		return nil, 0, apperr.Invalid("direction", "The direction is in or out.")
	}
	var out []Shipment
	if err := q.Find(&out).Error; err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
