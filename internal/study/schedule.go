package study

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
	"biobank/internal/db"
	"biobank/internal/input"
)

func init() {
	// Volumes are decimal numbers in JSON (API.md), not strings; decimal keeps them exact.
	decimal.MarshalJSONWithoutQuotes = true
}

// VisitDefinition is one visit of a study's schedule (baseline, month 3, …), due
// DayOffset days after enrolment, within WindowBefore/WindowAfter days.
type VisitDefinition struct {
	ID           int64                 `json:"-"`
	StudyID      int64                 `json:"-"`
	Code         string                `json:"code"`
	Name         string                `json:"name"`
	DayOffset    int                   `json:"day_offset"`
	WindowBefore int                   `json:"window_before"`
	WindowAfter  int                   `json:"window_after"`
	CreatedAt    time.Time             `json:"-"`
	Requirements []SpecimenRequirement `json:"requirements" gorm:"foreignKey:VisitDefinitionID"`
}

// Window returns the first and last day on which the visit is due for a participant
// enrolled on enrolled.
func (v VisitDefinition) Window(enrolled time.Time) (from, to time.Time) {
	due := enrolled.AddDate(0, 0, v.DayOffset)
	return due.AddDate(0, 0, -v.WindowBefore), due.AddDate(0, 0, v.WindowAfter)
}

// SpecimenRequirement is one specimen a visit collects, with the aliquots made from it.
type SpecimenRequirement struct {
	ID                 int64            `json:"-"`
	VisitDefinitionID  int64            `json:"-"`
	Position           int              `json:"-"`
	SpecimenType       string           `json:"specimen_type"`
	Container          string           `json:"container"`
	Volume             decimal.Decimal  `json:"volume"`
	Unit               string           `json:"unit"`
	Aliquots           int              `json:"aliquots"`
	AliquotVolume      *decimal.Decimal `json:"aliquot_volume"`
	AliquotType        *string          `json:"aliquot_type"`
	StorageTemperature string           `json:"storage_temperature"`
}

// RequirementInput is a specimen requirement as entered.
type RequirementInput struct {
	SpecimenType       string           `json:"specimen_type"`
	Container          string           `json:"container"`
	Volume             decimal.Decimal  `json:"volume"`
	Unit               string           `json:"unit"`
	Aliquots           int              `json:"aliquots"`
	AliquotVolume      *decimal.Decimal `json:"aliquot_volume"`
	AliquotType        string           `json:"aliquot_type"`
	StorageTemperature string           `json:"storage_temperature"`
}

// VisitInput is a visit definition as entered.
type VisitInput struct {
	Code         string             `json:"code"`
	Name         string             `json:"name"`
	DayOffset    int                `json:"day_offset"`
	WindowBefore int                `json:"window_before"`
	WindowAfter  int                `json:"window_after"`
	Requirements []RequirementInput `json:"requirements"`
	Reason       string             `json:"reason"`
}

var visitCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,19}$`)

// Temperatures are the storage temperatures a requirement may name.
var Temperatures = []string{"-80", "-20", "ln2", "4", "rt"}

// maxVolume is the largest amount accepted per unit (1 L, 1 kg, 1 g of nucleic acid):
// anything larger is a typing error.
var maxVolume = map[string]decimal.Decimal{
	"mL": decimal.NewFromInt(1000),
	"mg": decimal.NewFromInt(1_000_000),
	"µg": decimal.NewFromInt(1_000_000),
}

// NormaliseVolume converts µL to mL and checks that v is positive and plausible.
func NormaliseVolume(field string, v decimal.Decimal, unit string) (decimal.Decimal, string, error) {
	switch unit {
	case "", "mL", "ml":
		unit = "mL"
	case "µL", "uL", "ul", "μL":
		v, unit = v.Shift(-3), "mL"
	case "mg", "µg":
	case "ug", "μg":
		unit = "µg"
	default:
		return v, unit, apperr.Invalid(field, fmt.Sprintf("Unknown unit %q: use mL, µL, mg or µg.", unit))
	}
	if !v.IsPositive() {
		return v, unit, apperr.Invalid(field, "The volume must be more than zero.")
	}
	if v.GreaterThan(maxVolume[unit]) {
		return v, unit, apperr.Invalid(field, "The volume is implausibly large (more than 1 L or 1 kg).")
	}
	if !v.Equal(v.Round(4)) {
		return v, unit, apperr.Invalid(field, "Give the volume with at most 4 decimal places (of mL).")
	}
	return v, unit, nil
}

func (s *Service) checkRequirement(tx *gorm.DB, i int, in RequirementInput) (SpecimenRequirement, error) {
	f := func(name string) string { return fmt.Sprintf("requirements[%d].%s", i, name) }
	r := SpecimenRequirement{Position: i + 1, SpecimenType: strings.TrimSpace(in.SpecimenType),
		Container: strings.ToUpper(strings.TrimSpace(in.Container)), Aliquots: in.Aliquots,
		StorageTemperature: strings.TrimSpace(in.StorageTemperature)}
	if err := Vocabulary(tx, "specimen_types", f("specimen_type"), "specimen type", r.SpecimenType); err != nil {
		return r, err
	}
	if r.Container == "" {
		r.Container = "ZZZ"
	}
	if err := Vocabulary(tx, "container_types", f("container"), "container", r.Container); err != nil {
		return r, err
	}
	var err error
	if r.Volume, r.Unit, err = NormaliseVolume(f("volume"), in.Volume, strings.TrimSpace(in.Unit)); err != nil {
		return r, err
	}
	if r.Aliquots < 0 || r.Aliquots > 200 {
		return r, apperr.Invalid(f("aliquots"), "The number of aliquots must be from 0 to 200.")
	}
	if r.Aliquots > 0 {
		if in.AliquotVolume == nil {
			return r, apperr.Invalid(f("aliquot_volume"), "Give the volume of each aliquot.")
		}
		v, _, err := NormaliseVolume(f("aliquot_volume"), *in.AliquotVolume, strings.TrimSpace(in.Unit))
		if err != nil {
			return r, err
		}
		r.AliquotVolume = &v
		if t := strings.TrimSpace(in.AliquotType); t != "" {
			if err := Vocabulary(tx, "specimen_types", f("aliquot_type"), "aliquot type", t); err != nil {
				return r, err
			}
			r.AliquotType = &t
		}
	}
	if r.StorageTemperature == "" {
		r.StorageTemperature = "-80"
	}
	known := false
	for _, t := range Temperatures {
		known = known || t == r.StorageTemperature
	}
	if !known {
		return r, apperr.Invalid(f("storage_temperature"), "The storage temperature is one of -80, -20, ln2, 4 or rt.")
	}
	return r, nil
}

// Vocabulary checks that code is in a vocabulary table (specimen_types or
// container_types), as a ValidationError for field otherwise.
func Vocabulary(tx *gorm.DB, table, field, label, code string) error {
	var n int64
	if err := tx.Table(table).Where("code = ?", code).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return apperr.Invalid(field, fmt.Sprintf("Unknown %s %q.", label, code))
	}
	return nil
}

// AddVisit adds a visit definition, with its specimen requirements, to a study's schedule.
func (s *Service) AddVisit(ctx context.Context, actor auth.Actor, studyCode string, in VisitInput) (VisitDefinition, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return VisitDefinition{}, err
	}
	v := VisitDefinition{Code: strings.ToUpper(strings.TrimSpace(in.Code)), DayOffset: in.DayOffset,
		WindowBefore: in.WindowBefore, WindowAfter: in.WindowAfter}
	if !visitCodePattern.MatchString(v.Code) {
		return v, apperr.Invalid("code", "A visit code has 1 to 20 capital letters, digits, dashes or underscores, e.g. BASELINE or M3.")
	}
	var err error
	if v.Name, err = input.Text("name", "visit name", in.Name, 200, true); err != nil {
		return v, err
	}
	if v.DayOffset < 0 || v.DayOffset > 36500 {
		return v, apperr.Invalid("day_offset", "The day offset is the number of days after enrolment, from 0 to 36500.")
	}
	if v.WindowBefore < 0 || v.WindowAfter < 0 || v.WindowBefore > 3650 || v.WindowAfter > 3650 {
		return v, apperr.Invalid("window_before", "The visit window is a number of days from 0 to 3650 before and after.")
	}
	if len(in.Requirements) > 50 {
		return v, apperr.Invalid("requirements", "A visit may list at most 50 specimens.")
	}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		st, err := lockStudy(tx.DB, studyCode)
		if err != nil {
			return err
		}
		for i, rin := range in.Requirements {
			r, err := s.checkRequirement(tx.DB, i, rin)
			if err != nil {
				return err
			}
			v.Requirements = append(v.Requirements, r)
		}
		v.StudyID = st.ID
		if err := tx.Create(&v).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_visit", "code", fmt.Sprintf("The study %s already has a visit %s.", st.Code, v.Code))
			}
			return err
		}
		e := actor.Entry("study.add_visit", "study", st.Code)
		e.Reason, e.After = strings.TrimSpace(in.Reason), v.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return VisitDefinition{}, fmt.Errorf("study: add visit %s to %s: %w", v.Code, studyCode, err)
	}
	return v, nil
}

// ConsentDocument is one version of a study's consent form and the tiers it offers.
// A retired version can no longer be used for new consents.
type ConsentDocument struct {
	ID        int64      `json:"id"`
	StudyID   int64      `json:"-"`
	Version   string     `json:"version"`
	Tiers     Tiers      `json:"tiers" gorm:"type:text[]"`
	RetiredAt *time.Time `json:"retired_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// DocumentInput is a consent document as entered.
type DocumentInput struct {
	Version string   `json:"version"`
	Tiers   []string `json:"tiers"`
	Reason  string   `json:"reason"`
}

var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$`)

// AddDocument adds a consent document version to a study.
func (s *Service) AddDocument(ctx context.Context, actor auth.Actor, studyCode string, in DocumentInput) (ConsentDocument, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return ConsentDocument{}, err
	}
	doc := ConsentDocument{Version: strings.TrimSpace(in.Version)}
	if !versionPattern.MatchString(doc.Version) {
		return doc, apperr.Invalid("version", "A version has up to 30 letters, digits, dots, dashes or underscores, e.g. 2.1.")
	}
	tiers, err := ParseTiers("tiers", in.Tiers)
	if err != nil {
		return doc, err
	}
	if len(tiers) == 0 {
		return doc, apperr.Invalid("tiers", "A consent document offers at least one tier.")
	}
	doc.Tiers = tiers
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		st, err := lockStudy(tx.DB, studyCode)
		if err != nil {
			return err
		}
		doc.StudyID = st.ID
		if err := tx.Create(&doc).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_version", "version", fmt.Sprintf("The study %s already has consent version %s.", st.Code, doc.Version))
			}
			return err
		}
		e := actor.Entry("study.add_consent_document", "study", st.Code)
		e.Reason, e.After = strings.TrimSpace(in.Reason), doc.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return ConsentDocument{}, fmt.Errorf("study: add consent document %s to %s: %w", doc.Version, studyCode, err)
	}
	return doc, nil
}

// RetireDocument stops a consent version from being used for new consents. Consents
// already recorded on it stay valid.
func (s *Service) RetireDocument(ctx context.Context, actor auth.Actor, studyCode, version, reason string) (ConsentDocument, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return ConsentDocument{}, err
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return ConsentDocument{}, err
	}
	var doc ConsentDocument
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		st, err := lockStudy(tx.DB, studyCode)
		if err != nil {
			return err
		}
		err = tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("study_id = ? AND version = ?", st.ID, strings.TrimSpace(version)).Take(&doc).Error
		if db.ErrNoRows(err) {
			return apperr.NotFound("consent version", version)
		}
		if err != nil {
			return err
		}
		if doc.RetiredAt != nil {
			return apperr.Conflict("already_retired", "version", fmt.Sprintf("Consent version %s is already retired.", doc.Version))
		}
		now := s.Now()
		doc.RetiredAt = &now
		if err := tx.Model(&doc).Update("retired_at", now).Error; err != nil {
			return err
		}
		e := actor.Entry("study.retire_consent_document", "study", st.Code)
		e.Reason, e.After = reason, doc.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return ConsentDocument{}, fmt.Errorf("study: retire consent %s of %s: %w", version, studyCode, err)
	}
	return doc, nil
}

// SpecimenType is one entry of the specimen-type vocabulary.
type SpecimenType struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Solid bool   `json:"solid"`
	Unit  string `json:"unit"`
}

// ContainerType is one entry of the container vocabulary.
type ContainerType struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Vocabularies returns the specimen types and containers, in display order.
func (s *Service) Vocabularies(ctx context.Context) ([]SpecimenType, []ContainerType, error) {
	var types []SpecimenType
	var containers []ContainerType
	q := s.DB.Gorm.WithContext(ctx)
	if err := q.Table("specimen_types").Order("sort").Find(&types).Error; err != nil {
		return nil, nil, fmt.Errorf("study: specimen types: %w", err)
	}
	if err := q.Table("container_types").Order("sort").Find(&containers).Error; err != nil {
		return nil, nil, fmt.Errorf("study: containers: %w", err)
	}
	return types, containers, nil
}
