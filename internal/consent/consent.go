// Package consent records participants' consents on a study's consent documents, their
// withdrawals (whole or per tier), and answers the question every later step asks: may this
// participant's material be used for tier X in study Y now?
package consent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/participant"
	"biobank/internal/study"
)

// Status of a consent record.
const (
	StatusActive    = "active"
	StatusPartial   = "partially_withdrawn"
	StatusWithdrawn = "withdrawn"
)

// Consent is a participant's signed consent on one document version.
type Consent struct {
	ID             int64                 `json:"id"`
	ParticipantID  int64                 `json:"-"`
	StudyID        int64                 `json:"-"`
	Study          study.Study           `json:"-" gorm:"foreignKey:StudyID"`
	DocumentID     int64                 `json:"-"`
	Document       study.ConsentDocument `json:"-" gorm:"foreignKey:DocumentID"`
	SignedOn       time.Time             `json:"signed_on"`
	Tiers          study.Tiers           `json:"tiers" gorm:"type:text[]"`
	EffectiveTiers study.Tiers           `json:"effective_tiers" gorm:"type:text[]"`
	RecordedBy     *int64                `json:"-"`
	CreatedAt      time.Time             `json:"recorded_at"`
	Withdrawals    []Withdrawal          `json:"withdrawals" gorm:"foreignKey:ConsentID"`
}

// Status says whether the consent is in force, partly withdrawn or withdrawn.
func (c Consent) Status() string {
	switch {
	case len(c.EffectiveTiers) == 0:
		return StatusWithdrawn
	case len(c.EffectiveTiers) < len(c.Tiers):
		return StatusPartial
	}
	return StatusActive
}

// Withdrawal takes back some or all tiers of a consent.
type Withdrawal struct {
	ID          int64       `json:"id"`
	ConsentID   int64       `json:"-"`
	Tiers       study.Tiers `json:"tiers" gorm:"type:text[]"`
	Reason      string      `json:"reason"`
	WithdrawnOn time.Time   `json:"withdrawn_on"`
	RecordedBy  *int64      `json:"-"`
	CreatedAt   time.Time   `json:"recorded_at"`
}

// TableName is the withdrawals table.
func (Withdrawal) TableName() string { return "consent_withdrawals" }

// Holder puts a participant's material on hold when consent is withdrawn. It works inside
// the withdrawal's transaction, with the effective tiers that remain, and returns the
// accession IDs it held; the sample area implements it.
type Holder interface {
	HoldForWithdrawal(tx *db.Tx, actor auth.Actor, c Consent, remaining study.Tiers, reason string) ([]string, error)
}

// Service records consents and withdrawals.
type Service struct {
	DB           *db.DB
	Participants *participant.Service
	holds        Holder
	Now          func() time.Time
}

// NewService returns a Service on d whose withdrawals put material on hold through holds.
func NewService(d *db.DB, people *participant.Service, holds Holder) *Service {
	if holds == nil {
		panic("consent: NewService needs the holder of withdrawn material")
	}
	return &Service{DB: d, Participants: people, holds: holds, Now: people.Now}
}

// mayRecord is who records consents and withdrawals.
var mayRecord = []auth.Role{auth.RoleNurse, auth.RoleManager, auth.RoleAdmin}

// RecordInput is a consent as entered.
type RecordInput struct {
	Study    string   `json:"study"`
	Version  string   `json:"version"`
	SignedOn string   `json:"signed_on"`
	Tiers    []string `json:"tiers"`
}

// Record stores a participant's consent on an active (not retired) version of the study's
// consent document, granting a subset of the tiers that version offers.
func (s *Service) Record(ctx context.Context, actor auth.Actor, pseudonym string, in RecordInput) (Consent, error) {
	var out Consent
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.RecordTx(tx, actor, pseudonym, in)
		return err
	})
	if err != nil {
		return Consent{}, fmt.Errorf("consent: record for %s: %w", pseudonym, err)
	}
	return out, nil
}

// RecordTx is Record inside the caller's transaction.
func (s *Service) RecordTx(tx *db.Tx, actor auth.Actor, pseudonym string, in RecordInput) (Consent, error) {
	if err := actor.Require(mayRecord...); err != nil {
		return Consent{}, err
	}
	signed, err := input.Date("signed_on", "signature date", in.SignedOn)
	if err != nil {
		return Consent{}, err
	}
	if err := input.NotFuture("signed_on", "signature date", signed, s.Now()); err != nil {
		return Consent{}, err
	}
	tiers, err := study.ParseTiers("tiers", in.Tiers)
	if err != nil {
		return Consent{}, err
	}
	if len(tiers) == 0 {
		return Consent{}, apperr.Invalid("tiers", "Tick at least one tier the participant granted.")
	}
	st, err := s.Participants.Studies.ByCodeOn(tx.DB, in.Study)
	if _, missing := apperr.AsNotFound(err); missing || strings.TrimSpace(in.Study) == "" {
		return Consent{}, apperr.Invalid("study", fmt.Sprintf("There is no study %q.", in.Study))
	}
	if err != nil {
		return Consent{}, err
	}
	doc, ok := st.Document(in.Version)
	if !ok {
		return Consent{}, apperr.Invalid("version", fmt.Sprintf("The study %s has no consent version %q.", st.Code, in.Version))
	}
	if doc.RetiredAt != nil {
		return Consent{}, apperr.InvalidCode("version", "retired_version", fmt.Sprintf("Consent version %s is retired and cannot be used for new consents.", doc.Version))
	}
	if !tiers.SubsetOf(doc.Tiers) {
		return Consent{}, apperr.InvalidCode("tiers", "tier_not_offered", fmt.Sprintf("Version %s offers only %s.", doc.Version, strings.Join(doc.Tiers.Strings(), ", ")))
	}
	var c Consent
	err = func() error {
		p, err := s.Participants.Lock(tx, actor, pseudonym)
		if err != nil {
			return err
		}
		// Re-read the version under a share lock: a retirement committed since the check
		// above must win, and one in progress waits for this consent or refuses it.
		var current struct{ RetiredAt *time.Time }
		if err := tx.Raw("SELECT retired_at FROM consent_documents WHERE id = ? FOR SHARE", doc.ID).Scan(&current).Error; err != nil {
			return err
		}
		if current.RetiredAt != nil {
			return apperr.InvalidCode("version", "retired_version", fmt.Sprintf("Consent version %s is retired and cannot be used for new consents.", doc.Version))
		}
		var enrolled int64
		if err := tx.Table("enrolments").Where("participant_id = ? AND study_id = ?", p.ID, st.ID).Count(&enrolled).Error; err != nil {
			return err
		}
		if enrolled == 0 {
			return apperr.Conflict("not_enrolled", "study", fmt.Sprintf("%s is not enrolled in %s.", p.Pseudonym, st.Code))
		}
		c = Consent{ParticipantID: p.ID, StudyID: st.ID, DocumentID: doc.ID, SignedOn: signed, Tiers: tiers,
			EffectiveTiers: tiers, RecordedBy: actor.ID(), Study: st, Document: doc}
		if err := tx.Omit(clause.Associations).Create(&c).Error; err != nil {
			return err
		}
		e := actor.Entry("consent.record", "participant", p.Pseudonym)
		e.After = recordEvent{ConsentID: c.ID, Study: st.Code, Version: doc.Version,
			SignedOn: signed.Format("2006-01-02"), Tiers: tiers.Strings()}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Consent{}, err
	}
	return c, nil
}

// WithdrawInput is a withdrawal as entered. No tiers means the whole consent.
type WithdrawInput struct {
	Reason      string   `json:"reason"`
	Tiers       []string `json:"tiers"`
	WithdrawnOn string   `json:"withdrawn_on"`
}

// Withdrawn is the result of a withdrawal: the consent as it now stands and the samples
// put on hold because of it.
type Withdrawn struct {
	Consent     Consent
	HeldSamples []string
}

// Withdraw takes back some or all tiers of a consent, at once and audited with the reason.
func (s *Service) Withdraw(ctx context.Context, actor auth.Actor, pseudonym string, consentID int64, in WithdrawInput) (Withdrawn, error) {
	var out Withdrawn
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.WithdrawTx(tx, actor, pseudonym, consentID, in)
		return err
	})
	if err != nil {
		return Withdrawn{}, fmt.Errorf("consent: withdraw %d of %s: %w", consentID, pseudonym, err)
	}
	return out, nil
}

// WithdrawTx is Withdraw inside the caller's transaction.
func (s *Service) WithdrawTx(tx *db.Tx, actor auth.Actor, pseudonym string, consentID int64, in WithdrawInput) (Withdrawn, error) {
	if err := actor.Require(mayRecord...); err != nil {
		return Withdrawn{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Withdrawn{}, err
	}
	tiers, err := study.ParseTiers("tiers", in.Tiers)
	if err != nil {
		return Withdrawn{}, err
	}
	y, m, d := s.Now().Date()
	on := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if strings.TrimSpace(in.WithdrawnOn) != "" {
		if on, err = input.Date("withdrawn_on", "withdrawal date", in.WithdrawnOn); err != nil {
			return Withdrawn{}, err
		}
		if err := input.NotFuture("withdrawn_on", "withdrawal date", on, s.Now()); err != nil {
			return Withdrawn{}, err
		}
	}
	var out Withdrawn
	err = func() error {
		p, err := s.Participants.Lock(tx, actor, pseudonym)
		if err != nil {
			return err
		}
		var c Consent
		err = tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "consents"}}).
			Preload("Study").Preload("Document").Where("id = ? AND participant_id = ?", consentID, p.ID).Take(&c).Error
		if db.ErrNoRows(err) {
			return apperr.NotFound("consent", fmt.Sprint(consentID))
		}
		if err != nil {
			return err
		}
		if len(tiers) == 0 {
			tiers = c.EffectiveTiers
		}
		if len(c.EffectiveTiers) == 0 {
			return apperr.Conflict("already_withdrawn", "", "This consent is already withdrawn in full.")
		}
		if !tiers.SubsetOf(c.EffectiveTiers) {
			return apperr.Invalid("tiers", fmt.Sprintf("Only tiers still in force can be withdrawn: %s.", strings.Join(c.EffectiveTiers.Strings(), ", ")))
		}
		before := c.EffectiveTiers
		w := Withdrawal{ConsentID: c.ID, Tiers: tiers, Reason: reason, WithdrawnOn: on, RecordedBy: actor.ID()}
		if err := tx.Create(&w).Error; err != nil {
			return err
		}
		c.EffectiveTiers = c.EffectiveTiers.Minus(tiers)
		if err := tx.Model(&Consent{}).Where("id = ?", c.ID).Update("effective_tiers", c.EffectiveTiers).Error; err != nil {
			return err
		}
		out.HeldSamples = []string{}
		held, err := s.holds.HoldForWithdrawal(tx, actor, c, c.EffectiveTiers, reason)
		if err != nil {
			return err
		}
		out.HeldSamples = held
		e := actor.Entry("consent.withdraw", "participant", p.Pseudonym)
		e.Reason = reason
		e.Before = tiersEvent{ConsentID: c.ID, Study: c.Study.Code, EffectiveTiers: before.Strings()}
		e.After = withdrawEvent{tiersEvent: tiersEvent{ConsentID: c.ID, Study: c.Study.Code, EffectiveTiers: c.EffectiveTiers.Strings()},
			WithdrawnTiers: tiers.Strings(), WithdrawnOn: on.Format("2006-01-02")}
		tx.Record(e)
		c.Withdrawals = append(c.Withdrawals, w)
		out.Consent = c
		return nil
	}()
	if err != nil {
		return Withdrawn{}, err
	}
	return out, nil
}

// History returns every consent of a participant, newest first, with their withdrawals.
func (s *Service) History(ctx context.Context, participantID int64) ([]Consent, error) {
	var cs []Consent
	err := s.DB.Gorm.WithContext(ctx).Preload("Study").Preload("Document").
		Preload("Withdrawals", func(q *gorm.DB) *gorm.DB { return q.Order("created_at, id") }).
		Where("participant_id = ?", participantID).Order("signed_on DESC, id DESC").Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("consent: history of participant %d: %w", participantID, err)
	}
	return cs, nil
}

// Current returns the participant's current consent in a study: the latest signed record.
// found is false when there is none.
func Current(tx *gorm.DB, participantID, studyID int64) (c Consent, found bool, err error) {
	err = tx.Where("participant_id = ? AND study_id = ?", participantID, studyID).
		Order("signed_on DESC, id DESC").Limit(1).Find(&c).Error
	return c, err == nil && c.ID != 0, err
}

// MayUse answers whether a participant's material may be used for tier in a study now:
// their current consent in that study grants the tier and it has not been withdrawn. It
// takes the caller's transaction so that the answer holds for the caller's change.
func MayUse(tx *gorm.DB, participantID, studyID int64, tier study.Tier) (bool, error) {
	c, found, err := Current(tx, participantID, studyID)
	if err != nil {
		return false, fmt.Errorf("consent: may use: %w", err)
	}
	return found && c.EffectiveTiers.Has(tier), nil
}

// The audit payloads of consents. Tiers are kept as their names, dates as YYYY-MM-DD.

type recordEvent struct {
	ConsentID int64    `json:"consent_id"`
	Study     string   `json:"study"`
	Version   string   `json:"version"`
	SignedOn  string   `json:"signed_on"`
	Tiers     []string `json:"tiers"`
}

// AuditPayload marks recordEvent as an audit payload.
func (recordEvent) AuditPayload() {}

type tiersEvent struct {
	ConsentID      int64    `json:"consent_id"`
	Study          string   `json:"study"`
	EffectiveTiers []string `json:"effective_tiers"`
}

// AuditPayload marks tiersEvent as an audit payload.
func (tiersEvent) AuditPayload() {}

type withdrawEvent struct {
	tiersEvent
	WithdrawnTiers []string `json:"withdrawn_tiers"`
	WithdrawnOn    string   `json:"withdrawn_on"`
}
