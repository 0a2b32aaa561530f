// Package participant holds pseudonymous participants, their enrolments in studies and
// their visits. It stores no names, birth dates, addresses or hospital numbers, and has
// no field for them: identity stays with the hospital or a trusted third party.
package participant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/study"
)

// Participant is a person known to the biobank only by a pseudonym.
type Participant struct {
	ID         int64       `json:"-"`
	Pseudonym  string      `json:"pseudonym"`
	SiteID     int64       `json:"-"`
	Site       auth.Site   `json:"-" gorm:"foreignKey:SiteID"`
	External   bool        `json:"external"`
	Sex        *string     `json:"sex"`
	BirthYear  *int        `json:"birth_year"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"-"`
	Enrolments []Enrolment `json:"-" gorm:"foreignKey:ParticipantID"`
	Visits     []Visit     `json:"-" gorm:"foreignKey:ParticipantID"`
}

// Enrolment is a participant's membership of a study at a site.
type Enrolment struct {
	ID            int64       `json:"-"`
	ParticipantID int64       `json:"-"`
	StudyID       int64       `json:"-"`
	Study         study.Study `json:"-" gorm:"foreignKey:StudyID"`
	SiteID        int64       `json:"-"`
	EnrolledOn    time.Time   `json:"enrolled_on"`
	// Diagnosis is the participant's ICD-10 code in this study ("" when none).
	Diagnosis string    `json:"diagnosis"`
	CreatedAt time.Time `json:"-"`
}

// Sexes are the MIABIS donor sex values.
var Sexes = []string{"female", "male", "unknown", "undifferentiated", "not_applicable"}

// Service manages participants and visits.
type Service struct {
	DB      *db.DB
	Studies *study.Service
	Now     func() time.Time
}

// NewService returns a Service on d that reads studies through studies, with its clock.
func NewService(d *db.DB, studies *study.Service) *Service {
	return &Service{DB: d, Studies: studies, Now: studies.Now}
}

// EnrolInput is what a nurse enters to enrol a participant.
type EnrolInput struct {
	Study string `json:"study"`
	// Pseudonym is empty to have one generated, or one issued by a trusted third party.
	Pseudonym string `json:"pseudonym"`
	// Site is the enrolling site's code; only managers and administrators may name another
	// site than their own.
	Site       string `json:"site"`
	Sex        string `json:"sex"`
	BirthYear  *int   `json:"birth_year"`
	EnrolledOn string `json:"enrolled_on"`
	// Diagnosis is an ICD-10 code; empty takes the study's default.
	Diagnosis string `json:"diagnosis"`
}

// mayEnrol is who registers participants.
var mayEnrol = []auth.Role{auth.RoleNurse, auth.RoleManager, auth.RoleAdmin}

// Enrol registers a new participant in a study, with a generated pseudonym unless one was
// entered.
func (s *Service) Enrol(ctx context.Context, actor auth.Actor, in EnrolInput) (Participant, error) {
	var out Participant
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.EnrolTx(tx, actor, in)
		return err
	})
	if err != nil {
		return Participant{}, fmt.Errorf("participant: enrol: %w", err)
	}
	return out, nil
}

// EnrolTx is Enrol inside the caller's transaction.
func (s *Service) EnrolTx(tx *db.Tx, actor auth.Actor, in EnrolInput) (Participant, error) {
	if err := actor.Require(mayEnrol...); err != nil {
		return Participant{}, err
	}
	p := Participant{SiteID: actor.SiteID}
	if sex := strings.TrimSpace(in.Sex); sex != "" {
		known := false
		for _, x := range Sexes {
			known = known || x == sex
		}
		if !known {
			return p, apperr.Invalid("sex", "Sex is one of female, male, unknown, undifferentiated or not_applicable.")
		}
		p.Sex = &sex
	}
	if in.BirthYear != nil {
		y := *in.BirthYear
		if y < 1900 || y > s.Now().Year() {
			return p, apperr.Invalid("birth_year", fmt.Sprintf("The year of birth must be from 1900 to %d.", s.Now().Year()))
		}
		p.BirthYear = &y
	}
	enrolledOn, err := s.dateOrToday("enrolled_on", "enrolment date", in.EnrolledOn)
	if err != nil {
		return p, err
	}
	diagnosis, err := study.ParseICD10("diagnosis", in.Diagnosis)
	if err != nil {
		return p, err
	}
	// Read the study before the transaction: ByCode takes its own connection, and holding
	// the transaction's connection while waiting for a second one exhausts the pool when
	// as many enrolments run at once as the pool has connections.
	st, err := s.activeStudy(tx.DB, in.Study)
	if err != nil {
		return p, err
	}
	err = func() error {
		var err error
		if err := s.enrolmentSite(tx.DB, actor, in.Site, &p); err != nil {
			return err
		}
		if strings.TrimSpace(in.Pseudonym) == "" {
			if p.Pseudonym, err = s.freshPseudonym(tx.DB, st.PseudonymScheme); err != nil {
				return err
			}
		} else if p.Pseudonym, p.External, err = acceptPseudonym(st, in.Pseudonym); err != nil {
			return err
		}
		if err := tx.Omit(clause.Associations).Create(&p).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_pseudonym", "pseudonym", fmt.Sprintf("A participant with the pseudonym %s already exists.", p.Pseudonym))
			}
			return err
		}
		if diagnosis == "" {
			diagnosis = st.DefaultDiagnosis
		}
		enr := Enrolment{ParticipantID: p.ID, StudyID: st.ID, SiteID: p.SiteID, EnrolledOn: enrolledOn, Diagnosis: diagnosis}
		if err := tx.Omit(clause.Associations).Create(&enr).Error; err != nil {
			return err
		}
		enr.Study = st
		p.Enrolments = []Enrolment{enr}
		e := actor.Entry("participant.enrol", "participant", p.Pseudonym)
		e.After = enrolEvent{Study: st.Code, Site: p.Site.Code, ExternalPseudonym: p.External,
			Sex: p.Sex, BirthYear: p.BirthYear, EnrolledOn: enrolledOn.Format("2006-01-02"), Diagnosis: diagnosis}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Participant{}, err
	}
	return p, nil
}

// EnrolExisting enrols a participant already known into another study.
func (s *Service) EnrolExisting(ctx context.Context, actor auth.Actor, pseudonym, studyCode, enrolledOn string) (Participant, error) {
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		return s.EnrolExistingTx(tx, actor, pseudonym, studyCode, enrolledOn)
	})
	if err != nil {
		return Participant{}, fmt.Errorf("participant: enrol %s in %s: %w", pseudonym, studyCode, err)
	}
	return s.Get(ctx, actor, pseudonym)
}

// EnrolExistingTx is EnrolExisting inside the caller's transaction.
func (s *Service) EnrolExistingTx(tx *db.Tx, actor auth.Actor, pseudonym, studyCode, enrolledOn string) error {
	if err := actor.Require(mayEnrol...); err != nil {
		return err
	}
	on, err := s.dateOrToday("enrolled_on", "enrolment date", enrolledOn)
	if err != nil {
		return err
	}
	st, err := s.activeStudy(tx.DB, studyCode)
	if err != nil {
		return err
	}
	p, err := s.lock(tx, actor, pseudonym)
	if err != nil {
		return err
	}
	enr := Enrolment{ParticipantID: p.ID, StudyID: st.ID, SiteID: p.SiteID, EnrolledOn: on, Diagnosis: st.DefaultDiagnosis}
	if err := tx.Omit(clause.Associations).Create(&enr).Error; err != nil {
		if db.IsUniqueViolation(err) {
			return apperr.Conflict("already_enrolled", "study", fmt.Sprintf("%s is already enrolled in %s.", p.Pseudonym, st.Code))
		}
		return err
	}
	e := actor.Entry("participant.enrol", "participant", p.Pseudonym)
	e.After = enrolExistingEvent{Study: st.Code, EnrolledOn: on.Format("2006-01-02"), Diagnosis: st.DefaultDiagnosis}
	tx.Record(e)
	return nil
}

func (s *Service) dateOrToday(field, label, raw string) (time.Time, error) {
	if strings.TrimSpace(raw) == "" {
		y, m, d := s.Now().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	}
	d, err := input.Date(field, label, raw)
	if err != nil {
		return d, err
	}
	return d, input.NotFuture(field, label, d, s.Now())
}

func (s *Service) activeStudy(q *gorm.DB, code string) (study.Study, error) {
	if strings.TrimSpace(code) == "" {
		return study.Study{}, apperr.Invalid("study", "Choose a study.")
	}
	st, err := s.Studies.ByCodeOn(q, code)
	if _, missing := apperr.AsNotFound(err); missing {
		return st, apperr.Invalid("study", fmt.Sprintf("There is no study %q.", code))
	}
	if err != nil {
		return st, err
	}
	if !st.Active {
		return st, apperr.Invalid("study", fmt.Sprintf("The study %s is closed to new enrolments.", st.Code))
	}
	return st, nil
}

func (s *Service) enrolmentSite(tx *gorm.DB, actor auth.Actor, code string, p *Participant) error {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" || code == actor.SiteCode {
		if actor.SiteID == 0 {
			return apperr.Invalid("site", "Choose the enrolling site.")
		}
		return tx.Where("id = ?", actor.SiteID).Take(&p.Site).Error
	}
	if !actor.AllSites() {
		return apperr.Forbidden("You can enrol participants only at your own site.")
	}
	err := tx.Where("code = ? AND active", code).Take(&p.Site).Error
	if db.ErrNoRows(err) {
		return apperr.Invalid("site", fmt.Sprintf("There is no active site %q.", code))
	}
	p.SiteID = p.Site.ID
	return err
}

// freshPseudonym draws pseudonyms until one is unused (a collision among 32^6 ≈ 10^9 is
// rare, but a repeat must never be handed out).
func (s *Service) freshPseudonym(tx *gorm.DB, scheme checkcode.Scheme) (string, error) {
	for i := 0; i < 10; i++ {
		p, err := NewPseudonym(scheme)
		if err != nil {
			return "", err
		}
		var n int64
		if err := tx.Table("participants").Where("pseudonym = ?", p).Count(&n).Error; err != nil {
			return "", err
		}
		if n == 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("participant: no unused pseudonym after 10 draws")
}

// Get returns the participant with the scanned or typed pseudonym, with enrolments and
// visits. A wrong check symbol is a ValidationError with a suggestion; a participant of
// another site is forbidden to nurses and technicians.
func (s *Service) Get(ctx context.Context, actor auth.Actor, raw string) (Participant, error) {
	q := s.DB.Gorm.WithContext(ctx).Preload("Site").
		Preload("Enrolments", func(q *gorm.DB) *gorm.DB { return q.Order("enrolled_on, id") }).
		Preload("Enrolments.Study").
		Preload("Visits", func(q *gorm.DB) *gorm.DB { return q.Order("visit_date, id") }).
		Preload("Visits.Definition.Requirements", func(q *gorm.DB) *gorm.DB { return q.Order("position") })
	return find(q, actor, raw)
}

// lock reads and row-locks a participant the actor may act on.
func (s *Service) lock(tx *db.Tx, actor auth.Actor, raw string) (Participant, error) {
	return find(tx.Clauses(clause.Locking{Strength: "UPDATE"}), actor, raw)
}

// find looks a pseudonym up as stored (external pseudonyms have their own shapes), then as
// a built-in pseudonym after normalising look-alikes and checking its check symbols.
func find(q *gorm.DB, actor auth.Actor, raw string) (Participant, error) {
	// q runs up to two queries: a new session makes each start from q's preloads and
	// locking clause rather than from the conditions the previous query added.
	q = q.Session(&gorm.Session{})
	var p Participant
	raw = input.Scanned(raw)
	exact := strings.ToUpper(raw)
	if storedPseudonym.MatchString(exact) {
		err := q.Where("pseudonym = ?", exact).Limit(1).Find(&p).Error
		if err != nil {
			return Participant{}, fmt.Errorf("participant: %s: %w", exact, err)
		}
		if p.ID != 0 {
			return visible(actor, p)
		}
	}
	pseudonym, err := normaliseLookup(q.Session(&gorm.Session{NewDB: true}), actor, raw)
	if err != nil {
		return Participant{}, err
	}
	if pseudonym == exact {
		return Participant{}, apperr.NotFound("participant", pseudonym)
	}
	if err := q.Where("pseudonym = ?", pseudonym).Limit(1).Find(&p).Error; err != nil {
		return Participant{}, fmt.Errorf("participant: %s: %w", pseudonym, err)
	}
	if p.ID == 0 {
		return Participant{}, apperr.NotFound("participant", pseudonym)
	}
	return visible(actor, p)
}

// visible returns p if the actor may see it, and nothing of it otherwise.
func visible(actor auth.Actor, p Participant) (Participant, error) {
	if err := actor.RequireSite(p.SiteID); err != nil {
		return Participant{}, err
	}
	return p, nil
}

// Lock is lock for other domain services (consent) inside their transaction.
func (s *Service) Lock(tx *db.Tx, actor auth.Actor, raw string) (Participant, error) {
	return s.lock(tx, actor, raw)
}

// Enrolment returns the participant's enrolment in the study, if any.
func (p Participant) Enrolment(studyID int64) (Enrolment, bool) {
	for _, e := range p.Enrolments {
		if e.StudyID == studyID {
			return e, true
		}
	}
	return Enrolment{}, false
}
