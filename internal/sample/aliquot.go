package sample

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/study"
)

// Split is a request to split a parent into aliquots or to extract derivatives.
type Split struct {
	// Count aliquots of Volume each.
	Count  int             `json:"count"`
	Volume decimal.Decimal `json:"volume"`
	// Unit of Volume; the parent's unit when empty. An aliquot in the parent's unit takes
	// Count × Volume from it.
	Unit string `json:"unit"`
	// SpecimenType of the children; the parent's when empty (plasma from EDTA blood, DNA from
	// blood are other types).
	SpecimenType string `json:"specimen_type"`
	// InputVolume is the amount of the parent used for a derivative whose amount is in
	// another unit (a DNA yield in µg from 0.2 mL of blood). Required then; ignored
	// otherwise.
	InputVolume *decimal.Decimal `json:"input_volume"`
	// Container of the children; cryovials (CRY) when empty.
	Container string `json:"container"`
}

// MaxAliquots bounds one split.
const MaxAliquots = 200

// Aliquot splits a received or stored, unheld parent into Count children with their own
// accession IDs, linked to the parent, starting as received at the parent's site. The
// amount taken is subtracted under a row lock with a conditional update, and a CHECK
// constraint backs it, so concurrent splits can never overdraw the parent; a parent
// emptied this way becomes consumed.
func (s *Service) Aliquot(ctx context.Context, actor auth.Actor, code string, in Split) ([]Sample, error) {
	var out []Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.AliquotTx(tx, actor, code, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sample: aliquot %s: %w", code, err)
	}
	return out, nil
}

// AliquotTx is Aliquot inside the caller's transaction.
func (s *Service) AliquotTx(tx *db.Tx, actor auth.Actor, code string, in Split) ([]Sample, error) {
	if err := actor.Require(labRoles...); err != nil {
		return nil, err
	}
	if in.Count < 1 || in.Count > MaxAliquots {
		return nil, apperr.Invalid("count", fmt.Sprintf("The number of aliquots must be from 1 to %d.", MaxAliquots))
	}
	var children []Sample
	err := func() error {
		// The participant before the tube (the lock order of db.Tx): a share lock lets
		// aliquots of one participant run side by side, but queues them with a consent
		// withdrawal, which then either holds the tube first (and this split is refused)
		// or sees the children made here and holds them too.
		found, err := s.find(tx.DB, code)
		if err != nil {
			return err
		}
		if err := tx.Exec("SELECT 1 FROM participants WHERE id = ? FOR SHARE", found.ParticipantID).Error; err != nil {
			return err
		}
		parent, err := s.lock(tx, actor, code)
		if err != nil {
			return err
		}
		if _, err := Next(parent, ActAliquot); err != nil {
			// A parent emptied by aliquoting is consumed; to a split that lost the race for
			// its last millilitres (or a second look at an empty tube) the answer is that
			// nothing is left, as for any other split that asks for more than remains.
			if parent.Status == Consumed && parent.Volume.IsZero() {
				return apperr.Conflict("insufficient_volume", "volume", fmt.Sprintf("%s has 0 %s left: it was used up by earlier aliquots.",
					parent.Accession, parent.Unit))
			}
			return err
		}
		childType := strings.TrimSpace(in.SpecimenType)
		if childType == "" {
			childType = parent.SpecimenType
		}
		if err := study.Vocabulary(tx.DB, "specimen_types", "specimen_type", "specimen type", childType); err != nil {
			return err
		}
		unit := strings.TrimSpace(in.Unit)
		if unit == "" {
			unit = parent.Unit
		}
		each, unit, err := study.NormaliseVolume("volume", in.Volume, unit)
		if err != nil {
			return err
		}
		take := each.Mul(decimal.NewFromInt(int64(in.Count)))
		if unit != parent.Unit {
			if in.InputVolume == nil {
				return apperr.Invalid("input_volume", fmt.Sprintf("Give the amount of %s (in %s) used for the %s.", parent.Accession, parent.Unit, childType))
			}
			if take, _, err = study.NormaliseVolume("input_volume", *in.InputVolume, parent.Unit); err != nil {
				return err
			}
		}
		container := strings.ToUpper(strings.TrimSpace(in.Container))
		if container == "" {
			container = "CRY"
		}
		if err := study.Vocabulary(tx.DB, "container_types", "container", "container", container); err != nil {
			return err
		}
		// The conditional update is what guarantees the invariant under concurrency: it
		// takes the volume only if it is still there.
		var remaining []decimal.Decimal
		if err := tx.Raw("UPDATE samples SET volume = volume - ?, updated_at = now() WHERE id = ? AND volume >= ? RETURNING volume",
			take, parent.ID, take).Scan(&remaining).Error; err != nil {
			return err
		}
		if len(remaining) == 0 {
			return apperr.Conflict("insufficient_volume", "volume", fmt.Sprintf("%s has %s %s left; %d × %s %s needs %s %s.",
				parent.Accession, parent.Volume, parent.Unit, in.Count, each, unit, take, parent.Unit))
		}
		before := parent.record()
		parent.Volume = remaining[0]
		var freed audit.Payload
		if parent.Volume.IsZero() {
			parent.Status = Consumed
			if err := tx.Model(&Sample{}).Where("id = ?", parent.ID).Update("status", Consumed).Error; err != nil {
				return err
			}
			if freed, err = s.leave(tx, parent); err != nil {
				return err
			}
		}
		ids, err := s.nextAccessions(tx.DB, in.Count)
		if err != nil {
			return err
		}
		processing, err := childProcessing(parent)
		if err != nil {
			return err
		}
		now := s.Now()
		for i := range ids {
			c := Sample{Accession: ids[i], ParticipantID: parent.ParticipantID, StudyID: parent.StudyID, VisitID: parent.VisitID,
				SpecimenType: childType, Container: container, Volume: each, InitialVolume: each, Unit: unit,
				CollectedAt: parent.CollectedAt, CollectedBy: parent.CollectedBy, ReceivedAt: &now, ReceivedBy: actor.ID(),
				Status: Received, SiteID: parent.SiteID, ParentID: &parent.ID, Processing: processing}
			if err := s.computeSPREC(&c); err != nil {
				return err
			}
			children = append(children, c)
		}
		if err := tx.Omit(clause.Associations).Create(&children).Error; err != nil {
			return err
		}
		accessions := make([]string, len(children))
		for i, c := range children {
			accessions[i] = c.Accession
		}
		e := actor.Entry("sample.aliquot", "sample", parent.Accession)
		e.Before, e.After = before, aliquotEvent{Sample: parent.record(), Taken: take.String(), Children: accessions, FreedPosition: freed,
			ChildType: childType, ChildVolume: each.String(), ChildUnit: unit}
		tx.Record(e)
		for _, c := range children {
			ce := actor.Entry("sample.create_aliquot", "sample", c.Accession)
			ce.After = createAliquotEvent{Parent: parent.Accession, SpecimenType: c.SpecimenType, Container: c.Container,
				Volume: c.Volume.String(), Unit: c.Unit, Status: c.Status, SiteID: c.SiteID, SPREC: c.SPREC}
			tx.Record(ce)
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return children, nil
}
