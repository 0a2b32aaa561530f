// Package storage places samples in freezers: freezers at a site hold racks or shelves,
// which hold boxes with a grid of positions. A position holds at most one sample and a
// sample at most one position (unique indexes). Placing, moving, removing, checking out and
// in are audited with the location before and after.
package storage

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/sample"
)

// Freezer is a freezer, refrigerator, liquid-nitrogen tank or room-temperature cabinet.
type Freezer struct {
	ID          int64           `json:"id"`
	SiteID      int64           `json:"-"`
	Site        auth.Site       `json:"-" gorm:"foreignKey:SiteID"`
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Temperature decimal.Decimal `json:"temperature"`
	Active      bool            `json:"active"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Rack is a rack or shelf in a freezer.
type Rack struct {
	ID        int64     `json:"id"`
	FreezerID int64     `json:"freezer_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Box is a storage box with a grid of Rows × Cols positions.
type Box struct {
	ID        int64     `json:"-"`
	Barcode   string    `json:"barcode"`
	Rows      int       `json:"rows"`
	Cols      int       `json:"cols"`
	FreezerID int64     `json:"-"`
	Freezer   Freezer   `json:"-" gorm:"foreignKey:FreezerID"`
	RackID    *int64    `json:"-"`
	Rack      *Rack     `json:"-" gorm:"foreignKey:RackID"`
	RackSlot  string    `json:"rack_slot"`
	CreatedAt time.Time `json:"created_at"`
}

// Contains reports whether p lies inside the box's grid.
func (b Box) Contains(p Position) bool {
	return p.Row >= 1 && p.Row <= b.Rows && p.Col >= 1 && p.Col <= b.Cols
}

// Location is where a sample is: freezer › rack › box › position.
type Location struct {
	Site     string `json:"site"`
	Freezer  string `json:"freezer"`
	Rack     string `json:"rack,omitempty"`
	Box      string `json:"box"`
	Position string `json:"position"`
}

// String is the location for people.
func (l Location) String() string {
	parts := []string{l.Freezer}
	if l.Rack != "" {
		parts = append(parts, l.Rack)
	}
	return strings.Join(append(parts, l.Box, l.Position), " › ")
}

// Service manages storage.
type Service struct {
	DB      *db.DB
	Samples *sample.Service
	Now     func() time.Time
}

// NewService returns a Service on d that finds and locks samples through samples.
func NewService(d *db.DB, samples *sample.Service) *Service {
	return &Service{DB: d, Samples: samples, Now: func() time.Time { return time.Now().UTC() }}
}

var (
	labRoles   = []auth.Role{auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin}
	setupRoles = []auth.Role{auth.RoleManager, auth.RoleAdmin}
)

// FreezerTypes are the kinds of storage unit.
var FreezerTypes = []string{"-80", "-20", "ln2", "4", "rt"}

// FreezerInput is a freezer as entered. Without a temperature the set-point is the usual
// one of the type.
type FreezerInput struct {
	Name        string           `json:"name"`
	Type        string           `json:"type"`
	Temperature *decimal.Decimal `json:"temperature"`
	Site        string           `json:"site"`
}

// setPointRange is the set-points a type of storage unit can hold, and the usual one.
type setPointRange struct {
	label           string
	min, usual, max int64
}

// setPointRanges are the set-points by freezer type: what such a unit can hold, so that a
// slip (40 °C for a −80 freezer) is refused.
var setPointRanges = map[string]setPointRange{
	"-80": {"−80 °C freezer", -95, -80, -60},
	"-20": {"−20 °C freezer", -30, -20, -15},
	"ln2": {"liquid nitrogen", -196, -196, -130},
	"4":   {"refrigerator", 2, 4, 8},
	"rt":  {"room-temperature", 15, 20, 25},
}

// CreateFreezer adds a freezer at a site (the actor's own unless named).
func (s *Service) CreateFreezer(ctx context.Context, actor auth.Actor, in FreezerInput) (Freezer, error) {
	var out Freezer
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.CreateFreezerTx(tx, actor, in)
		return err
	})
	if err != nil {
		return Freezer{}, fmt.Errorf("storage: create freezer %s: %w", strings.TrimSpace(in.Name), err)
	}
	return out, nil
}

// CreateFreezerTx is CreateFreezer inside the caller's transaction.
func (s *Service) CreateFreezerTx(tx *db.Tx, actor auth.Actor, in FreezerInput) (Freezer, error) {
	if err := actor.Require(setupRoles...); err != nil {
		return Freezer{}, err
	}
	name, err := input.Text("name", "freezer name", in.Name, 100, true)
	if err != nil {
		return Freezer{}, err
	}
	kind, known := setPointRanges[strings.TrimSpace(in.Type)]
	if !known {
		return Freezer{}, apperr.Invalid("type", "The freezer type is one of -80, -20, ln2, 4 or rt.")
	}
	temp := decimal.NewFromInt(kind.usual)
	if in.Temperature != nil {
		temp = *in.Temperature
	}
	if temp.LessThan(decimal.NewFromInt(kind.min)) || temp.GreaterThan(decimal.NewFromInt(kind.max)) {
		return Freezer{}, apperr.Invalid("temperature", fmt.Sprintf("A %s unit's set-point is from %d to %d °C.", kind.label, kind.min, kind.max))
	}
	f := Freezer{Name: name, Type: strings.TrimSpace(in.Type), Temperature: temp, Active: true}
	err = func() error {
		if f.SiteID, err = siteFor(tx.DB, actor, in.Site); err != nil {
			return err
		}
		if err := tx.Omit(clause.Associations).Create(&f).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_freezer", "name", fmt.Sprintf("The site already has a freezer named %q.", name))
			}
			return err
		}
		e := actor.Entry("storage.create_freezer", "freezer", strconv.FormatInt(f.ID, 10))
		e.After = freezerEvent{ID: f.ID, Name: f.Name, Type: f.Type, Temperature: f.Temperature, Active: f.Active, CreatedAt: f.CreatedAt}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Freezer{}, err
	}
	return f, nil
}

// siteFor is the site a set-up record belongs to: the actor's own, or one named by a
// manager or administrator.
func siteFor(tx *gorm.DB, actor auth.Actor, code string) (int64, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" || code == actor.SiteCode {
		if actor.SiteID == 0 {
			return 0, apperr.Invalid("site", "Name the site.")
		}
		return actor.SiteID, nil
	}
	if !actor.AllSites() {
		return 0, apperr.Forbidden("You can set up storage only at your own site.")
	}
	var id int64
	if err := tx.Raw("SELECT id FROM sites WHERE code = ? AND active", code).Scan(&id).Error; err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, apperr.Invalid("site", fmt.Sprintf("There is no active site %q.", code))
	}
	return id, nil
}

// CreateRack adds a rack or shelf to a freezer.
func (s *Service) CreateRack(ctx context.Context, actor auth.Actor, freezer string, name string) (Rack, error) {
	var out Rack
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.CreateRackTx(tx, actor, freezer, name)
		return err
	})
	if err != nil {
		return Rack{}, fmt.Errorf("storage: create rack %s: %w", name, err)
	}
	return out, nil
}

// CreateRackTx is CreateRack inside the caller's transaction.
func (s *Service) CreateRackTx(tx *db.Tx, actor auth.Actor, freezer string, name string) (Rack, error) {
	if err := actor.Require(setupRoles...); err != nil {
		return Rack{}, err
	}
	name, err := input.Text("name", "rack name", name, 100, true)
	if err != nil {
		return Rack{}, err
	}
	var r Rack
	err = func() error {
		f, err := findFreezer(tx.DB, actor, freezer)
		if err != nil {
			return err
		}
		r = Rack{FreezerID: f.ID, Name: name}
		if err := tx.Create(&r).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_rack", "name", fmt.Sprintf("%s already has a rack %q.", f.Name, name))
			}
			return err
		}
		e := actor.Entry("storage.create_rack", "freezer", strconv.FormatInt(f.ID, 10))
		e.After = rackEvent{ID: r.ID, FreezerID: r.FreezerID, Name: r.Name}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Rack{}, err
	}
	return r, nil
}

// findFreezer resolves a freezer by id or by name at the actor's site.
func findFreezer(tx *gorm.DB, actor auth.Actor, ref string) (Freezer, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Freezer{}, apperr.Invalid("freezer", "Choose a freezer.")
	}
	var fs []Freezer
	q := tx.Preload("Site")
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q = q.Where("id = ?", id)
	} else {
		q = q.Where("name = ? AND site_id = ?", ref, actor.SiteID)
	}
	if err := q.Limit(1).Find(&fs).Error; err != nil {
		return Freezer{}, err
	}
	if len(fs) == 0 {
		return Freezer{}, apperr.Invalid("freezer", fmt.Sprintf("There is no freezer %q.", ref))
	}
	if err := actor.RequireSite(fs[0].SiteID); err != nil {
		return Freezer{}, err
	}
	return fs[0], nil
}

// BoxInput is a box as entered.
type BoxInput struct {
	Barcode  string `json:"barcode"`
	Freezer  string `json:"freezer"`
	Rack     string `json:"rack"`
	RackSlot string `json:"rack_slot"`
	// BoxType (an id or name) gives the grid; else Rows and Cols do.
	BoxType string `json:"box_type"`
	Rows    int    `json:"rows"`
	Cols    int    `json:"cols"`
}

var boxBarcodePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{3,40}$`)

// CreateBox adds a box to a freezer (optionally in a rack).
func (s *Service) CreateBox(ctx context.Context, actor auth.Actor, in BoxInput) (Box, error) {
	var out Box
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.CreateBoxTx(tx, actor, in)
		return err
	})
	if err != nil {
		return Box{}, fmt.Errorf("storage: create box %s: %w", strings.TrimSpace(in.Barcode), err)
	}
	return out, nil
}

// CreateBoxTx is CreateBox inside the caller's transaction.
func (s *Service) CreateBoxTx(tx *db.Tx, actor auth.Actor, in BoxInput) (Box, error) {
	if err := actor.Require(setupRoles...); err != nil {
		return Box{}, err
	}
	b := Box{Barcode: strings.TrimSpace(in.Barcode), Rows: in.Rows, Cols: in.Cols, RackSlot: strings.TrimSpace(in.RackSlot)}
	if !boxBarcodePattern.MatchString(b.Barcode) {
		return Box{}, apperr.Invalid("barcode", "A box barcode has 3 to 40 letters, digits, dots, dashes or underscores.")
	}
	if strings.TrimSpace(in.BoxType) == "" {
		if err := checkGrid(b.Rows, b.Cols); err != nil {
			return Box{}, err
		}
	}
	if len(b.RackSlot) > 20 {
		return Box{}, apperr.Invalid("rack_slot", "The rack slot may have at most 20 characters.")
	}
	err := func() error {
		if ref := strings.TrimSpace(in.BoxType); ref != "" {
			t, err := boxType(tx.DB, ref)
			if err != nil {
				return err
			}
			b.Rows, b.Cols = t.Rows, t.Cols
		}
		f, err := findFreezer(tx.DB, actor, in.Freezer)
		if err != nil {
			return err
		}
		b.FreezerID, b.Freezer = f.ID, f
		if name := strings.TrimSpace(in.Rack); name != "" {
			var r Rack
			if err := tx.Where("freezer_id = ? AND name = ?", f.ID, name).Take(&r).Error; err != nil {
				if db.ErrNoRows(err) {
					return apperr.Invalid("rack", fmt.Sprintf("%s has no rack %q.", f.Name, name))
				}
				return err
			}
			b.RackID, b.Rack = &r.ID, &r
		}
		if err := tx.Omit(clause.Associations).Create(&b).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_box", "barcode", fmt.Sprintf("A box with the barcode %s already exists.", b.Barcode))
			}
			return err
		}
		e := actor.Entry("storage.create_box", "box", b.Barcode)
		e.After = boxEvent{Freezer: f.Name, Rack: in.Rack, RackSlot: b.RackSlot, Rows: b.Rows, Cols: b.Cols}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Box{}, err
	}
	return b, nil
}

// Freezers lists the freezers the actor may see, with their site.
func (s *Service) Freezers(ctx context.Context, actor auth.Actor) ([]Freezer, error) {
	var fs []Freezer
	q := actor.ScopeToSite(s.DB.Gorm.WithContext(ctx).Preload("Site"), "site_id")
	if err := q.Order("site_id, name").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("storage: freezers: %w", err)
	}
	return fs, nil
}

// RackRow is a rack with its freezer, for pick lists.
type RackRow struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Freezer string `json:"freezer"`
	Site    string `json:"site"`
}

// AllRacks lists every rack the actor may see, with its freezer, in one query.
func (s *Service) AllRacks(ctx context.Context, actor auth.Actor) ([]RackRow, error) {
	q := `SELECT r.id, r.name, f.name AS freezer, si.code AS site FROM racks r JOIN freezers f ON f.id = r.freezer_id
		JOIN sites si ON si.id = f.site_id`
	var args []any
	if !actor.AllSites() {
		q += " WHERE f.site_id = ?"
		args = append(args, actor.SiteID)
	}
	var out []RackRow
	if err := s.DB.Gorm.WithContext(ctx).Raw(q+" ORDER BY si.code, f.name, r.name", args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: racks: %w", err)
	}
	return out, nil
}

// Racks lists a freezer's racks.
func (s *Service) Racks(ctx context.Context, freezerID int64) ([]Rack, error) {
	var rs []Rack
	if err := s.DB.Gorm.WithContext(ctx).Where("freezer_id = ?", freezerID).Order("name").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("storage: racks: %w", err)
	}
	return rs, nil
}
