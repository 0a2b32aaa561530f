package sample

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/participant"
)

// Service manages samples.
type Service struct {
	DB           *db.DB
	Participants *participant.Service
	// Prefix starts new accession IDs (DefaultPrefix unless configured).
	Prefix string
	// LateReceipt is how long after collection a receipt earns a warning.
	LateReceipt time.Duration
	Now         func() time.Time
	places      Releaser
}

// Releaser frees whatever place a sample held when its life ends (consumed, destroyed,
// lost), inside that change's transaction, and returns the place given up for the audit
// event (nil when it had none). The storage area implements it.
type Releaser interface {
	Release(tx *db.Tx, smp Sample) (audit.Payload, error)
}

// leave frees whatever the sample occupied.
func (s *Service) leave(tx *db.Tx, smp Sample) (audit.Payload, error) {
	return s.places.Release(tx, smp)
}

// NewService returns a Service on d with the default prefix and the real clock; places
// frees a sample's storage position when its life ends.
func NewService(d *db.DB, people *participant.Service, places Releaser) *Service {
	if places == nil {
		panic("sample: NewService needs the releaser of storage positions")
	}
	return &Service{DB: d, Participants: people, Prefix: DefaultPrefix, LateReceipt: 24 * time.Hour,
		Now: func() time.Time { return time.Now().UTC() }, places: places}
}

// Roles that handle samples in the lab; nurses register collections.
var (
	labRoles      = []auth.Role{auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin}
	collectRoles  = []auth.Role{auth.RoleNurse, auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin}
	managerRoles  = []auth.Role{auth.RoleManager, auth.RoleAdmin}
	terminalRoles = labRoles
)

// find resolves a scanned code (accession ID or tube barcode, surrounding whitespace
// ignored) on q. A live sample's tube barcode wins over an ended one with the same
// barcode. A hand-typed accession ID with look-alike letters (O for 0) or grouping spaces
// and hyphens resolves too, read as the check-code scheme reads it.
func (s *Service) find(q *gorm.DB, raw string) (Sample, error) {
	// q may run two queries: a new session makes each start from q's preloads and locking
	// clause rather than from the conditions the previous query added.
	q = q.Session(&gorm.Session{})
	code := input.Scanned(raw)
	if code == "" {
		return Sample{}, apperr.Invalid("sample", "Scan or type a sample's accession ID or tube barcode.")
	}
	if len(code) > 64 {
		return Sample{}, apperr.NotFound("sample", code[:64])
	}
	var found []Sample
	err := q.Where("samples.accession = ? OR samples.tube_barcode = ?", strings.ToUpper(code), code).
		Order("CASE WHEN samples.status IN ('consumed','destroyed','lost') THEN 1 ELSE 0 END, samples.id DESC").
		Limit(1).Find(&found).Error
	if err != nil {
		return Sample{}, fmt.Errorf("sample: find %s: %w", code, err)
	}
	if n := checkcode.Normalize(code); len(found) == 0 && n != strings.ToUpper(code) && checkcode.Valid(n) {
		if err := q.Where("samples.accession = ?", n).Limit(1).Find(&found).Error; err != nil {
			return Sample{}, fmt.Errorf("sample: find %s: %w", n, err)
		}
	}
	if len(found) == 0 {
		return Sample{}, s.checkScanned(code)
	}
	return found[0], nil
}

// lock resolves a code and row-locks the sample for the rest of tx, refusing a sample of
// another site to staff who see only their own.
func (s *Service) lock(tx *db.Tx, actor auth.Actor, raw string) (Sample, error) {
	smp, err := s.find(tx.Clauses(clause.Locking{Strength: "UPDATE"}), raw)
	if err != nil {
		return Sample{}, err
	}
	if err := actor.RequireSite(smp.SiteID); err != nil {
		return Sample{}, err
	}
	return smp, nil
}

// Lock resolves a code and row-locks the sample in the caller's transaction (for the
// storage and shipment areas), refusing another site's sample to site-bound staff.
func (s *Service) Lock(tx *db.Tx, actor auth.Actor, code string) (Sample, error) {
	return s.lock(tx, actor, code)
}

// Siblings are the other samples made from the same parent, in id order, in one query.
func (s *Service) Siblings(ctx context.Context, smp Sample) ([]Sample, error) {
	var out []Sample
	if smp.ParentID == nil {
		return out, nil
	}
	err := s.DB.Gorm.WithContext(ctx).Where("parent_id = ? AND id <> ?", *smp.ParentID, smp.ID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("sample: siblings of %s: %w", smp.Accession, err)
	}
	return out, nil
}

// Details returns the samples with ids (in id order) with their participant, study, visit,
// site and parent, in a few queries however many there are. It does not check the actor's
// site: the caller has established access to them another way (a shipment's manifest is
// for the staff of its origin and destination, wherever its tubes are now).
func (s *Service) Details(ctx context.Context, ids []int64) ([]Sample, error) {
	var out []Sample
	err := s.DB.Gorm.WithContext(ctx).Preload("Participant").Preload("Study").Preload("Visit.Definition").Preload("Site").
		Preload("Parent").Where("id IN ?", ids).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("sample: details: %w", err)
	}
	return out, nil
}

// Get returns a sample with its participant, study, visit, site, parent and children.
func (s *Service) Get(ctx context.Context, actor auth.Actor, raw string) (Sample, error) {
	// The sample with its participant, study, site and parent in one joined query; the
	// visit's definition and the children in one query each.
	q := s.DB.Gorm.WithContext(ctx).Joins("Participant").Joins("Study").Joins("Site").Joins("Parent").
		Preload("Visit.Definition").Preload("Children", func(q *gorm.DB) *gorm.DB { return q.Order("id") })
	smp, err := s.find(q, raw)
	if err != nil {
		return Sample{}, err
	}
	if err := actor.RequireSite(smp.SiteID); err != nil {
		return Sample{}, err
	}
	return smp, nil
}
