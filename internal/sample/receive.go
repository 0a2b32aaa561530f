package sample

import (
	"context"
	"fmt"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
)

// Warning is something the technician should notice about a scan that nonetheless went
// through (or changed nothing, for a repeat scan).
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Receipt is the result of scanning a tube at receipt.
type Receipt struct {
	Sample   Sample
	Warnings []Warning
	// Changed is false when the tube was already received (a repeat scan).
	Changed bool
}

// Receive marks a collected tube as received in the lab, by the actor, now. A repeat
// scan of a received tube changes nothing and says so; a held or late tube is received
// with a warning.
func (s *Service) Receive(ctx context.Context, actor auth.Actor, code string) (Receipt, error) {
	var out Receipt
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.ReceiveTx(tx, actor, code)
		return err
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("sample: receive %s: %w", code, err)
	}
	return out, nil
}

// ReceiveTx is Receive inside the caller's transaction.
func (s *Service) ReceiveTx(tx *db.Tx, actor auth.Actor, code string) (Receipt, error) {
	if err := actor.Require(labRoles...); err != nil {
		return Receipt{}, err
	}
	var r Receipt
	err := func() error {
		smp, err := s.lock(tx, actor, code)
		if err != nil {
			return err
		}
		if smp.Status == Received && smp.ReceivedAt != nil {
			r.Sample = smp
			r.Warnings = append(r.Warnings, Warning{"already_received", fmt.Sprintf("%s was already received on %s.",
				smp.Accession, smp.ReceivedAt.UTC().Format("2006-01-02 15:04 UTC"))})
			return nil
		}
		next, err := Next(smp, ActReceive)
		if err != nil {
			return err
		}
		before := smp.record()
		now := s.Now()
		smp.Status, smp.ReceivedAt, smp.ReceivedBy = next, &now, actor.ID()
		if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{
			"status": smp.Status, "received_at": now, "received_by": smp.ReceivedBy, "updated_at": now}).Error; err != nil {
			return err
		}
		if smp.Hold {
			r.Warnings = append(r.Warnings, Warning{"on_hold", fmt.Sprintf("%s is on hold (%s): keep it apart.", smp.Accession, smp.HoldText())})
		}
		if late := now.Sub(smp.CollectedAt); late > s.LateReceipt {
			r.Warnings = append(r.Warnings, Warning{"late", fmt.Sprintf("%s was collected %s ago: check the pre-analytical delay.",
				smp.Accession, late.Round(time.Minute))})
		}
		e := actor.Entry("sample.receive", "sample", smp.Accession)
		e.Before, e.After = before, smp.record()
		tx.Record(e)
		r.Sample, r.Changed = smp, true
		return nil
	}()
	if err != nil {
		return Receipt{}, err
	}
	return r, nil
}

// UndoReceive takes back a mistaken receipt: the tube is collected again. Only a tube that
// has not been processed further (no aliquots, not stored) can be taken back.
func (s *Service) UndoReceive(ctx context.Context, actor auth.Actor, code, reason string) (Sample, error) {
	var out Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.UndoReceiveTx(tx, actor, code, reason)
		return err
	})
	if err != nil {
		return Sample{}, fmt.Errorf("sample: undo receipt of %s: %w", code, err)
	}
	return out, nil
}

// UndoReceiveTx is UndoReceive inside the caller's transaction.
func (s *Service) UndoReceiveTx(tx *db.Tx, actor auth.Actor, code, reason string) (Sample, error) {
	if err := actor.Require(labRoles...); err != nil {
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
		if smp.ParentID != nil {
			return apperr.Conflict("not_a_primary_tube", "", fmt.Sprintf("%s is an aliquot: it was created in the lab, not received.", smp.Accession))
		}
		next, err := Next(smp, ActUndoReceive)
		if err != nil {
			return err
		}
		var children int64
		if err := tx.Model(&Sample{}).Where("parent_id = ?", smp.ID).Count(&children).Error; err != nil {
			return err
		}
		if children > 0 {
			return apperr.Conflict("has_aliquots", "", fmt.Sprintf("%s already has aliquots: its receipt cannot be taken back.", smp.Accession))
		}
		before := smp.record()
		smp.Status, smp.ReceivedAt, smp.ReceivedBy = next, nil, nil
		if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{
			"status": smp.Status, "received_at": nil, "received_by": nil, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		e := actor.Entry("sample.undo_receive", "sample", smp.Accession)
		e.Reason, e.Before, e.After = reason, before, smp.record()
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return Sample{}, err
	}
	return smp, nil
}
