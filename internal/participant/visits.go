package participant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/study"
)

// Visit is a participant's occurrence of a visit definition, on a date.
type Visit struct {
	ID                int64                 `json:"id"`
	ParticipantID     int64                 `json:"-"`
	VisitDefinitionID int64                 `json:"-"`
	Definition        study.VisitDefinition `json:"-" gorm:"foreignKey:VisitDefinitionID"`
	StudyID           int64                 `json:"-"`
	SiteID            int64                 `json:"-"`
	VisitDate         time.Time             `json:"visit_date"`
	OutOfWindowReason string                `json:"out_of_window_reason,omitempty"`
	OpenedBy          *int64                `json:"-"`
	CreatedAt         time.Time             `json:"created_at"`
}

// OpenVisitInput is what a nurse enters to open a visit.
type OpenVisitInput struct {
	Study string `json:"study"`
	Visit string `json:"visit"`
	Date  string `json:"date"`
	// Reason is required when the date is outside the visit's window.
	Reason string `json:"reason"`
}

// OutOfWindowCode is the conflict code of a visit date outside its window; the nurse may
// proceed by giving a reason.
const OutOfWindowCode = "out_of_window"

// OpenVisit records that a participant's scheduled visit takes place. A date outside the
// visit window is refused with the window in the message unless a reason is given.
func (s *Service) OpenVisit(ctx context.Context, actor auth.Actor, pseudonym string, in OpenVisitInput) (Visit, error) {
	var out Visit
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.OpenVisitTx(tx, actor, pseudonym, in)
		return err
	})
	if err != nil {
		return Visit{}, fmt.Errorf("participant: open visit %s of %s: %w", in.Visit, pseudonym, err)
	}
	return out, nil
}

// OpenVisitTx is OpenVisit inside the caller's transaction.
func (s *Service) OpenVisitTx(tx *db.Tx, actor auth.Actor, pseudonym string, in OpenVisitInput) (Visit, error) {
	if err := actor.Require(mayEnrol...); err != nil {
		return Visit{}, err
	}
	date, err := s.dateOrToday("date", "visit date", in.Date)
	if err != nil {
		return Visit{}, err
	}
	reason, err := input.Text("reason", "reason", in.Reason, input.MaxReasonLength, false)
	if err != nil {
		return Visit{}, err
	}
	st, err := s.Studies.ByCodeOn(tx.DB, in.Study)
	if _, missing := apperr.AsNotFound(err); missing || strings.TrimSpace(in.Study) == "" {
		return Visit{}, apperr.Invalid("study", fmt.Sprintf("There is no study %q.", in.Study))
	}
	if err != nil {
		return Visit{}, err
	}
	def, ok := st.Visit(in.Visit)
	if !ok {
		return Visit{}, apperr.Invalid("visit", fmt.Sprintf("The study %s has no visit %q.", st.Code, in.Visit))
	}
	p, err := s.lock(tx, actor, pseudonym)
	if err != nil {
		return Visit{}, err
	}
	return s.OpenLockedVisitTx(tx, actor, p, st, def, date, reason, "date")
}

// OpenLockedVisitTx opens visit def of participant p, which the caller has locked, on
// date: the shared part of opening a visit by hand and of the first collection of a visit
// that was not opened (sample.CollectTx, which checks its own roles). A date outside the
// visit's window is refused with out_of_window unless reason is given; dateField names
// the field the date came from in the caller's input.
func (s *Service) OpenLockedVisitTx(tx *db.Tx, actor auth.Actor, p Participant, st study.Study, def study.VisitDefinition,
	date time.Time, reason, dateField string) (Visit, error) {
	var enr Enrolment
	err := tx.Where("participant_id = ? AND study_id = ?", p.ID, st.ID).Take(&enr).Error
	if db.ErrNoRows(err) {
		return Visit{}, apperr.Conflict("not_enrolled", "study", fmt.Sprintf("%s is not enrolled in %s.", p.Pseudonym, st.Code))
	}
	if err != nil {
		return Visit{}, err
	}
	if date.Before(enr.EnrolledOn) {
		return Visit{}, apperr.Invalid(dateField, "The visit date is before the enrolment date ("+enr.EnrolledOn.Format("2006-01-02")+").")
	}
	from, to := def.Window(enr.EnrolledOn)
	outside := date.Before(from) || date.After(to)
	if outside && reason == "" {
		return Visit{}, apperr.Conflict(OutOfWindowCode, dateField, fmt.Sprintf(
			"%s is outside the %s window (%s to %s). Give a reason to open the visit anyway.",
			date.Format("2006-01-02"), def.Name, from.Format("2006-01-02"), to.Format("2006-01-02")))
	}
	if !outside {
		reason = ""
	}
	v := Visit{ParticipantID: p.ID, VisitDefinitionID: def.ID, StudyID: st.ID, SiteID: p.SiteID, VisitDate: date,
		OutOfWindowReason: reason, OpenedBy: actor.ID(), Definition: def}
	if err := tx.Omit(clause.Associations).Create(&v).Error; err != nil {
		if db.IsUniqueViolation(err) {
			return Visit{}, apperr.Conflict("visit_exists", "visit", fmt.Sprintf("The %s visit of %s is already open.", def.Name, p.Pseudonym))
		}
		return Visit{}, err
	}
	e := actor.Entry("visit.open", "participant", p.Pseudonym)
	e.Reason = reason
	e.After = visitEvent{VisitID: v.ID, Study: st.Code, Visit: def.Code, Date: date.Format("2006-01-02"),
		WindowFrom: from.Format("2006-01-02"), WindowTo: to.Format("2006-01-02")}
	tx.Record(e)
	return v, nil
}
