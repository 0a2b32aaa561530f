package sample

import (
	"context"
	"fmt"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/study"
)

// Quarantine puts a sample on quality hold: it can be viewed and moved but not aliquoted,
// checked out or shipped until released. Managers only.
func (s *Service) Quarantine(ctx context.Context, actor auth.Actor, code, reason string) (Sample, error) {
	return s.setHold(ctx, actor, code, reason, true)
}

// QuarantineTx is Quarantine inside the caller's transaction.
func (s *Service) QuarantineTx(tx *db.Tx, actor auth.Actor, code, reason string) (Sample, error) {
	return s.setHoldTx(tx, actor, code, reason, true)
}

// Release lifts a quality hold, or a consent hold the manager has decided to keep.
func (s *Service) Release(ctx context.Context, actor auth.Actor, code, reason string) (Sample, error) {
	return s.setHold(ctx, actor, code, reason, false)
}

// ReleaseTx is Release inside the caller's transaction.
func (s *Service) ReleaseTx(tx *db.Tx, actor auth.Actor, code, reason string) (Sample, error) {
	return s.setHoldTx(tx, actor, code, reason, false)
}

func (s *Service) setHold(ctx context.Context, actor auth.Actor, code, reason string, on bool) (Sample, error) {
	var out Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.setHoldTx(tx, actor, code, reason, on)
		return err
	})
	if err != nil {
		return Sample{}, fmt.Errorf("sample: hold %s: %w", code, err)
	}
	return out, nil
}

// setHoldTx is setHold inside the caller's transaction.
func (s *Service) setHoldTx(tx *db.Tx, actor auth.Actor, code, reason string, on bool) (Sample, error) {
	if err := actor.Require(managerRoles...); err != nil {
		return Sample{}, err
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return Sample{}, err
	}
	var smp Sample
	err = func() error {
		if smp, err = s.lock(tx, actor, code); err != nil {
			return err
		}
		switch {
		case smp.Status.Terminal():
			return wrongStatus(smp, "change its hold")
		case on && smp.Hold:
			return apperr.Conflict("already_on_hold", "", fmt.Sprintf("%s is already on hold (%s).", smp.Accession, smp.HoldText()))
		case !on && !smp.Hold:
			return apperr.Conflict("not_on_hold", "", fmt.Sprintf("%s is not on hold.", smp.Accession))
		case !on && smp.HoldKind == HoldConsent:
			return apperr.Conflict("consent_hold", "", fmt.Sprintf("%s is held because consent was withdrawn: decide on it in the consent actions list.", smp.Accession))
		}
		before := smp.record()
		action := "sample.release"
		smp.Hold, smp.HoldKind, smp.HoldReason = false, "", ""
		if on {
			action = "sample.quarantine"
			smp.Hold, smp.HoldKind, smp.HoldReason = true, HoldQuality, reason
		}
		if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{
			"hold": smp.Hold, "hold_kind": smp.HoldKind, "hold_reason": smp.HoldReason, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		e := actor.Entry(action, "sample", smp.Accession)
		e.Reason, e.Before, e.After = reason, before, smp.record()
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Sample{}, err
	}
	return smp, nil
}

// samplesAffected reports whether a withdrawal leaving remaining tiers in force touches
// the material: it does unless only re-contact was withdrawn.
func samplesAffected(c consent.Consent, remaining study.Tiers) bool {
	for _, t := range []study.Tier{study.TierStorage, study.TierGenetic, study.TierSharing} {
		if c.Tiers.Has(t) && !remaining.Has(t) {
			return true
		}
	}
	return false
}

// HoldForWithdrawal is the sample area's consent.Holder: inside the withdrawal's
// transaction it puts every live sample of the participant in the study — primary tubes,
// aliquots and derivatives alike — on consent hold, and returns their accession IDs for
// the manager's decision.
func (s *Service) HoldForWithdrawal(tx *db.Tx, actor auth.Actor, c consent.Consent, remaining study.Tiers, reason string) ([]string, error) {
	held := []string{}
	if !samplesAffected(c, remaining) {
		return held, nil
	}
	var rows []Sample
	// Lock in id order, so two withdrawals for one participant cannot deadlock.
	err := tx.Raw(`SELECT * FROM samples WHERE participant_id = ? AND study_id = ?
		AND status NOT IN ('consumed', 'destroyed', 'lost') ORDER BY id FOR UPDATE`, c.ParticipantID, c.StudyID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	text := reason // HoldText says "consent withdrawn: "
	for _, smp := range rows {
		before := smp.record()
		smp.Hold, smp.HoldKind, smp.HoldReason = true, HoldConsent, text
		if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{
			"hold": true, "hold_kind": HoldConsent, "hold_reason": text, "updated_at": s.Now()}).Error; err != nil {
			return nil, err
		}
		e := actor.Entry("sample.consent_hold", "sample", smp.Accession)
		e.Reason, e.Before, e.After = reason, before, smp.record()
		tx.Record(e)
		held = append(held, smp.Accession)
	}
	return held, nil
}

// Decision is a manager's decision on a sample held after a consent withdrawal.
type Decision string

// The decisions.
const (
	DecideDestroy Decision = "destroy"
	// DecideKeep keeps the material where the consent still in force allows it (storage
	// granted) — anonymised use is a matter for the study's governance, recorded in the
	// reason.
	DecideKeep Decision = "keep"
)

// Decide records the manager's decision on a consent-held sample: destroy it, or keep it
// (only where the participant's consent still grants storage), releasing the hold.
func (s *Service) Decide(ctx context.Context, actor auth.Actor, code string, d Decision, reason string) (Sample, error) {
	var out Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.DecideTx(tx, actor, code, d, reason)
		return err
	})
	if err != nil {
		return Sample{}, fmt.Errorf("sample: decide on %s: %w", code, err)
	}
	return out, nil
}

// DecideTx is Decide inside the caller's transaction (a withdrawal case closed in one go).
func (s *Service) DecideTx(tx *db.Tx, actor auth.Actor, code string, d Decision, reason string) (Sample, error) {
	if err := actor.Require(managerRoles...); err != nil {
		return Sample{}, err
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return Sample{}, err
	}
	if d != DecideDestroy && d != DecideKeep {
		return Sample{}, apperr.Invalid("decision", "Decide destroy or keep.")
	}
	var smp Sample
	err = func() error {
		if smp, err = s.lock(tx, actor, code); err != nil {
			return err
		}
		if smp.HoldKind != HoldConsent {
			return apperr.Conflict("no_consent_hold", "", fmt.Sprintf("%s is not held for a consent withdrawal.", smp.Accession))
		}
		if d == DecideKeep {
			may, err := consent.MayUse(tx.DB, smp.ParticipantID, smp.StudyID, study.TierStorage)
			if err != nil {
				return err
			}
			if !may {
				return apperr.Conflict("consent_forbids_keeping", "decision",
					fmt.Sprintf("The participant's consent no longer grants storage: %s cannot be kept.", smp.Accession))
			}
		} else if _, err := Next(smp, ActDestroy); err != nil {
			return err
		}
		if smp, err = s.decideOne(tx, actor, smp, d, reason); err != nil {
			return err
		}
		if d != DecideDestroy {
			return nil
		}
		// Destroying a tube reaches the aliquots and derivatives made from it that the same
		// withdrawal put on hold: one decision for the material, each tube recorded. They
		// are locked in id order, after their ancestor (a child's id is always greater).
		var kids []Sample
		if err := tx.Raw(`WITH RECURSIVE tree AS (
				SELECT id FROM samples WHERE parent_id = ?
				UNION ALL
				SELECT c.id FROM samples c JOIN tree t ON c.parent_id = t.id)
			SELECT * FROM samples WHERE id IN (SELECT id FROM tree) AND hold_kind = ?
				AND status NOT IN ('consumed', 'destroyed', 'lost')
			ORDER BY id FOR UPDATE`, smp.ID, HoldConsent).Scan(&kids).Error; err != nil {
			return err
		}
		for _, k := range kids {
			if _, err := Next(k, ActDestroy); err != nil {
				return err
			}
			if _, err := s.decideOne(tx, actor, k, DecideDestroy, reason+" (decided for "+smp.Accession+")"); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		return Sample{}, err
	}
	return smp, nil
}

// decideOne carries out a decision on one consent-held, locked sample: the hold ends
// either way (kept, or destroyed — a destroyed tube is no longer held, it is gone), a
// destroyed one gives up its position, and the decision is stored and audited.
func (s *Service) decideOne(tx *db.Tx, actor auth.Actor, smp Sample, d Decision, reason string) (Sample, error) {
	before := smp.record()
	smp.Hold, smp.HoldKind, smp.HoldReason = false, "", ""
	if d == DecideDestroy {
		smp.Status = Destroyed
	}
	if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{"status": smp.Status,
		"hold": smp.Hold, "hold_kind": smp.HoldKind, "hold_reason": smp.HoldReason, "updated_at": s.Now()}).Error; err != nil {
		return Sample{}, err
	}
	var freed audit.Payload
	if smp.Status == Destroyed {
		var err error
		if freed, err = s.leave(tx, smp); err != nil {
			return Sample{}, err
		}
	}
	if err := tx.Exec("INSERT INTO consent_decisions (sample_id, decision, reason, decided_by) VALUES (?, ?, ?, ?)",
		smp.ID, string(d), reason, actor.ID()).Error; err != nil {
		return Sample{}, err
	}
	e := actor.Entry("sample.consent_decision", "sample", smp.Accession)
	e.Reason, e.Before, e.After = reason, before, decisionEvent{Decision: d, Sample: smp.record(), FreedPosition: freed}
	tx.Record(e)
	return smp, nil
}
