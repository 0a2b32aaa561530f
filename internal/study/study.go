// Package study holds studies, their visit schedules with specimen requirements, and
// their versioned consent documents: the set-up an administrator makes once and nurses and
// technicians work from every day.
package study

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/db"
	"biobank/internal/input"
)

// Study is a cohort such as IBD, RA or MS.
type Study struct {
	ID               int64            `json:"-"`
	Code             string           `json:"code"`
	Name             string           `json:"name"`
	PseudonymPattern string           `json:"pseudonym_pattern"`
	PseudonymScheme  checkcode.Scheme `json:"pseudonym_scheme"`
	// OutsideEEAConsent: samples of this study go to a destination outside the EU/EEA only
	// when the participant's consent grants the outside_eea tier too.
	OutsideEEAConsent bool `json:"outside_eea_consent" gorm:"column:outside_eea_consent"`
	// DefaultDiagnosis is the cohort's ICD-10 code, a new enrolment's diagnosis unless
	// another is given ("" for none).
	DefaultDiagnosis string            `json:"default_diagnosis"`
	Active           bool              `json:"active"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"-"`
	Visits           []VisitDefinition `json:"visits,omitempty" gorm:"foreignKey:StudyID"`
	Documents        []ConsentDocument `json:"consent_documents,omitempty" gorm:"foreignKey:StudyID"`
}

// Service manages studies.
type Service struct {
	DB  *db.DB
	Now func() time.Time
}

// NewService returns a Service on d with the real clock.
func NewService(d *db.DB) *Service {
	return &Service{DB: d, Now: func() time.Time { return time.Now().UTC() }}
}

// Input is what an administrator enters for a study.
type Input struct {
	Code             string `json:"code"`
	Name             string `json:"name"`
	PseudonymPattern string `json:"pseudonym_pattern"`
	// PseudonymScheme is mainzelliste (the default for a new study), biobank-v1 or none.
	PseudonymScheme checkcode.Scheme `json:"pseudonym_scheme"`
	// PseudonymCheck is the earlier boolean form of the scheme, still read: true means
	// biobank-v1, false none. PseudonymScheme wins when both are given.
	PseudonymCheck *bool `json:"pseudonym_check"`
	// OutsideEEAConsent, when given, sets whether destinations outside the EU/EEA need the
	// outside_eea consent tier.
	OutsideEEAConsent *bool `json:"outside_eea_consent"`
	// DefaultDiagnosis, when given, sets the cohort's ICD-10 code ("" for none).
	DefaultDiagnosis *string `json:"default_diagnosis"`
	Active           *bool   `json:"active"`
	Reason           string  `json:"reason"`
}

var studyCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,15}$`)

// normaliseCode upper-cases and trims a study code.
func normaliseCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}

func (in *Input) check(withCode bool) error {
	in.Code = normaliseCode(in.Code)
	if withCode && !studyCodePattern.MatchString(in.Code) {
		return apperr.Invalid("code", "A study code has 2 to 16 capital letters, digits or dashes, e.g. IBD.")
	}
	var err error
	if in.Name, err = input.Text("name", "study name", in.Name, 200, true); err != nil {
		return err
	}
	if in.PseudonymPattern, err = input.Text("pseudonym_pattern", "pseudonym pattern", in.PseudonymPattern, 200, false); err != nil {
		return err
	}
	if in.PseudonymPattern != "" {
		if _, err := regexp.Compile(anchored(in.PseudonymPattern)); err != nil {
			return apperr.Invalid("pseudonym_pattern", "The pseudonym pattern is not a valid regular expression.")
		}
	}
	in.PseudonymScheme = checkcode.Scheme(strings.ToLower(strings.TrimSpace(string(in.PseudonymScheme))))
	if in.PseudonymScheme == "" && in.PseudonymCheck != nil {
		in.PseudonymScheme = checkcode.SchemeNone
		if *in.PseudonymCheck {
			in.PseudonymScheme = checkcode.SchemeBiobankV1
		}
	}
	if in.DefaultDiagnosis != nil {
		code, err := ParseICD10("default_diagnosis", *in.DefaultDiagnosis)
		if err != nil {
			return err
		}
		in.DefaultDiagnosis = &code
	}
	if in.PseudonymScheme != "" && !in.PseudonymScheme.Known() {
		return apperr.Invalid("pseudonym_scheme", fmt.Sprintf("The pseudonym check is one of %s, %s or %s.",
			checkcode.SchemeMainzelliste, checkcode.SchemeBiobankV1, checkcode.SchemeNone))
	}
	return nil
}

// checkScheme refuses a study whose pseudonyms would be checked by nothing without a
// pattern to match them, or without an administrator's reason for taking them unchecked.
func (st Study) checkScheme(reason string) error {
	if st.PseudonymScheme != checkcode.SchemeNone {
		return nil
	}
	if st.PseudonymPattern == "" {
		return apperr.Invalid("pseudonym_pattern", "Without a pseudonym check, give the pattern the trusted third party's pseudonyms follow.")
	}
	if strings.TrimSpace(reason) == "" {
		return apperr.InvalidCode("reason", "reason_required", "Say why this study takes pseudonyms without a check; it is kept in the audit trail.")
	}
	return nil
}

// anchored makes a pattern match whole pseudonyms only.
func anchored(p string) string { return `^(?:` + p + `)$` }

// AcceptsExternal reports whether an externally issued pseudonym matches the study's
// pattern (always false when the study names none).
func (s Study) AcceptsExternal(pseudonym string) bool {
	if s.PseudonymPattern == "" {
		return false
	}
	re, err := regexp.Compile(anchored(s.PseudonymPattern))
	return err == nil && re.MatchString(pseudonym)
}

// Create adds a study.
func (s *Service) Create(ctx context.Context, actor auth.Actor, in Input) (Study, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return Study{}, err
	}
	if err := in.check(true); err != nil {
		return Study{}, err
	}
	st := Study{Code: in.Code, Name: in.Name, PseudonymPattern: in.PseudonymPattern, PseudonymScheme: checkcode.SchemeMainzelliste, Active: true}
	if in.PseudonymScheme != "" {
		st.PseudonymScheme = in.PseudonymScheme
	}
	if in.OutsideEEAConsent != nil {
		st.OutsideEEAConsent = *in.OutsideEEAConsent
	}
	if in.DefaultDiagnosis != nil {
		st.DefaultDiagnosis = *in.DefaultDiagnosis
	}
	if err := st.checkScheme(in.Reason); err != nil {
		return Study{}, err
	}
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Omit(clause.Associations).Create(&st).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_study", "code", fmt.Sprintf("A study with the code %s already exists.", st.Code))
			}
			return err
		}
		e := actor.Entry("study.create", "study", st.Code)
		e.Reason, e.After = strings.TrimSpace(in.Reason), st.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Study{}, fmt.Errorf("study: create %s: %w", in.Code, err)
	}
	return st, nil
}

// Update changes a study's name, pseudonym settings or active flag.
func (s *Service) Update(ctx context.Context, actor auth.Actor, code string, in Input) (Study, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return Study{}, err
	}
	if err := in.check(false); err != nil {
		return Study{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Study{}, err
	}
	var st Study
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if st, err = lockStudy(tx.DB, code); err != nil {
			return err
		}
		before := st
		st.Name, st.PseudonymPattern = in.Name, in.PseudonymPattern
		if in.PseudonymScheme != "" {
			st.PseudonymScheme = in.PseudonymScheme
		}
		if in.Active != nil {
			st.Active = *in.Active
		}
		if in.OutsideEEAConsent != nil {
			st.OutsideEEAConsent = *in.OutsideEEAConsent
		}
		if in.DefaultDiagnosis != nil {
			st.DefaultDiagnosis = *in.DefaultDiagnosis
		}
		if err := st.checkScheme(reason); err != nil {
			return err
		}
		if err := tx.Omit(clause.Associations).Save(&st).Error; err != nil {
			return err
		}
		e := actor.Entry("study.update", "study", st.Code)
		e.Reason, e.Before, e.After = reason, before.record(), st.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Study{}, fmt.Errorf("study: update %s: %w", code, err)
	}
	return st, nil
}

func lockStudy(tx *gorm.DB, code string) (Study, error) {
	var st Study
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("code = ?", normaliseCode(code)).Take(&st).Error
	if db.ErrNoRows(err) {
		return Study{}, apperr.NotFound("study", code)
	}
	return st, err
}

// List returns every study with its visit schedule and consent documents, by code.
func (s *Service) List(ctx context.Context) ([]Study, error) {
	var studies []Study
	err := s.preload(s.DB.Gorm.WithContext(ctx)).Order("code").Find(&studies).Error
	if err != nil {
		return nil, fmt.Errorf("study: list: %w", err)
	}
	return studies, nil
}

// ByCode returns one study with its visit schedule, specimen requirements and consent
// documents.
func (s *Service) ByCode(ctx context.Context, code string) (Study, error) {
	return s.ByCodeOn(s.DB.Gorm.WithContext(ctx), code)
}

// ByCodeOn is ByCode on q: a transaction-level function reads the study on its own
// transaction, never on a second pool connection.
func (s *Service) ByCodeOn(q *gorm.DB, code string) (Study, error) {
	var st Study
	err := s.preload(q).Where("code = ?", normaliseCode(code)).Take(&st).Error
	if db.ErrNoRows(err) {
		return Study{}, apperr.NotFound("study", code)
	}
	if err != nil {
		return Study{}, fmt.Errorf("study: %s: %w", code, err)
	}
	return st, nil
}

func (s *Service) preload(q *gorm.DB) *gorm.DB {
	return q.Preload("Visits", func(q *gorm.DB) *gorm.DB { return q.Order("day_offset, code") }).
		Preload("Visits.Requirements", func(q *gorm.DB) *gorm.DB { return q.Order("position") }).
		Preload("Documents", func(q *gorm.DB) *gorm.DB { return q.Order("created_at, id") })
}

// Visit returns the visit definition code of the study.
func (st Study) Visit(code string) (VisitDefinition, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	for _, v := range st.Visits {
		if v.Code == c {
			return v, true
		}
	}
	return VisitDefinition{}, false
}

// Document returns the consent document of the study with version.
func (st Study) Document(version string) (ConsentDocument, bool) {
	v := strings.TrimSpace(version)
	for _, d := range st.Documents {
		if d.Version == v {
			return d, true
		}
	}
	return ConsentDocument{}, false
}

// PseudonymSchemes lists the schemes with a check that some study uses: a scanned or typed
// pseudonym is tried under each (a lookup does not know the study).
func PseudonymSchemes(q *gorm.DB) ([]checkcode.Scheme, error) {
	var out []checkcode.Scheme
	err := q.Model(&Study{}).Distinct("pseudonym_scheme").Where("pseudonym_scheme <> ?", checkcode.SchemeNone).
		Order("pseudonym_scheme").Pluck("pseudonym_scheme", &out).Error
	if err != nil {
		return nil, fmt.Errorf("study: pseudonym schemes: %w", err)
	}
	return out, nil
}
