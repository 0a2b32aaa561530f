package sample

import (
	"context"
	"fmt"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
)

// End ends a sample's life: consumed (used up), destroyed or lost, with a reason. A held
// sample may be destroyed or marked lost; consent-held samples are destroyed through the
// manager's decision so that the decision is recorded.
func (s *Service) End(ctx context.Context, actor auth.Actor, code string, action Action, reason string) (Sample, error) {
	var out Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.EndTx(tx, actor, code, action, reason)
		return err
	})
	if err != nil {
		return Sample{}, fmt.Errorf("sample: %s %s: %w", action, code, err)
	}
	return out, nil
}

// EndTx is End inside the caller's transaction.
func (s *Service) EndTx(tx *db.Tx, actor auth.Actor, code string, action Action, reason string) (Sample, error) {
	if err := actor.Require(terminalRoles...); err != nil {
		return Sample{}, err
	}
	if action != ActConsume && action != ActDestroy && action != ActLose {
		return Sample{}, apperr.Invalid("action", "End a sample as consumed, destroyed or lost.")
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
		next, err := Next(smp, action)
		if err != nil {
			return err
		}
		if smp.HoldKind == HoldConsent && action == ActDestroy {
			return apperr.Conflict("consent_hold", "", fmt.Sprintf("%s is held because consent was withdrawn: record the decision in the consent actions list.", smp.Accession))
		}
		before := smp.record()
		smp.Status = next
		if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{"status": next, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		freed, err := s.leave(tx, smp)
		if err != nil {
			return err
		}
		e := actor.Entry("sample."+map[Action]string{ActConsume: "consume", ActDestroy: "destroy", ActLose: "lose"}[action], "sample", smp.Accession)
		e.Reason, e.Before, e.After = reason, before, endEvent{Sample: smp.record(), FreedPosition: freed}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Sample{}, err
	}
	return smp, nil
}
