package storage

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
)

// slot is a sample's stored position.
type slot struct {
	SampleID int64
	BoxID    int64
	Row      int
	Col      int
}

// TableName is the positions table.
func (slot) TableName() string { return "sample_positions" }

// locationOf describes a stored position for people and the audit trail.
func locationOf(tx *gorm.DB, boxID int64, p Position) (Location, error) {
	var l Location
	err := tx.Raw(`SELECT si.code AS site, f.name AS freezer, COALESCE(r.name, '') AS rack, b.barcode AS box
		FROM boxes b JOIN freezers f ON f.id = b.freezer_id JOIN sites si ON si.id = f.site_id
		LEFT JOIN racks r ON r.id = b.rack_id WHERE b.id = ?`, boxID).Scan(&l).Error
	l.Position = p.String()
	return l, err
}

// currentSlot returns the sample's position, if it has one.
func currentSlot(tx *gorm.DB, sampleID int64) (*slot, error) {
	var sl []slot
	if err := tx.Where("sample_id = ?", sampleID).Limit(1).Find(&sl).Error; err != nil {
		return nil, err
	}
	if len(sl) == 0 {
		return nil, nil
	}
	return &sl[0], nil
}

// Placed is the result of a placement.
type Placed struct {
	Sample   sample.Sample
	Position Position
	From     *Location
	To       Location
}

// Place puts a sample into a box: at position, or at the next free position row by row
// when position is empty. A sample that was elsewhere is moved (audited as a move). Two
// placements into one box are serialised by a lock on the box, and the unique index on
// (box, row, col) refuses a double booking whatever happens.
func (s *Service) Place(ctx context.Context, actor auth.Actor, barcode, position, code string) (Placed, error) {
	if err := actor.Require(labRoles...); err != nil {
		return Placed{}, err
	}
	var out Placed
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.PlaceTx(tx, actor, barcode, position, code)
		return err
	})
	if err != nil {
		return Placed{}, fmt.Errorf("storage: place %s in %s: %w", code, barcode, err)
	}
	return out, nil
}

// PlaceTx is Place inside the caller's transaction (one well of a rack import, a tube of a
// shipment received): it locks the box, then the sample, and records the event on tx.
func (s *Service) PlaceTx(tx *db.Tx, actor auth.Actor, barcode, position, code string) (Placed, error) {
	if err := actor.Require(labRoles...); err != nil {
		return Placed{}, err
	}
	out, e, err := s.placeIn(tx, actor, barcode, position, code)
	if err != nil {
		return Placed{}, err
	}
	tx.Record(e)
	return out, nil
}

// placeIn does the placement and returns its audit entry.
func (s *Service) placeIn(tx *db.Tx, actor auth.Actor, barcode, position, code string) (Placed, audit.Entry, error) {
	var out Placed
	var none audit.Entry
	b, err := findBox(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "boxes"}}), actor, barcode)
	if err != nil {
		return out, none, err
	}
	smp, err := s.Samples.Lock(tx, actor, code)
	if err != nil {
		return out, none, err
	}
	if !b.Freezer.Active {
		return out, none, apperr.Conflict("freezer_inactive", "box", fmt.Sprintf("Box %s is in %s, which is out of service.", b.Barcode, b.Freezer.Name))
	}
	if smp.SiteID != b.Freezer.SiteID {
		return out, none, apperr.Conflict("wrong_site", "sample", fmt.Sprintf("%s is in the custody of another site than box %s.", smp.Accession, b.Barcode))
	}
	old, err := currentSlot(tx.DB, smp.ID)
	if err != nil {
		return out, none, err
	}
	if smp.Status == sample.CheckedOut && old != nil && old.BoxID != b.ID {
		// Its position is kept for it elsewhere: say where, rather than the status rule.
		var home Box
		if err := tx.Select("barcode").Take(&home, old.BoxID).Error; err != nil {
			return out, none, err
		}
		return out, none, apperr.Conflict("checked_out_elsewhere", "sample", fmt.Sprintf(
			"%s is checked out from box %s, where position %s is kept for it: check it in there, not in box %s.",
			smp.Accession, home.Barcode, Position{old.Row, old.Col}, b.Barcode))
	}
	next, err := sample.Next(smp, sample.ActPlace)
	if err != nil {
		return out, none, err
	}
	var pos Position
	if position == "" {
		// A repeat scan (or a resubmitted page) of a tube already in this box must not
		// move it on to the next free position.
		if old != nil && old.BoxID == b.ID {
			return out, none, apperr.Conflict("already_there", "position", fmt.Sprintf("%s is already in %s at %s.",
				smp.Accession, b.Barcode, Position{old.Row, old.Col}))
		}
		if pos, err = nextFree(tx.DB, b); err != nil {
			return out, none, err
		}
	} else {
		if pos, err = ParsePosition("position", position); err != nil {
			return out, none, err
		}
		if !b.Contains(pos) {
			return out, none, apperr.Invalid("position", fmt.Sprintf("Box %s has positions A1 to %s; there is no %s.", b.Barcode,
				Position{b.Rows, b.Cols}, pos))
		}
	}
	if old != nil && old.BoxID == b.ID && old.Row == pos.Row && old.Col == pos.Col {
		return out, none, apperr.Conflict("already_there", "position", fmt.Sprintf("%s is already at %s in %s.", smp.Accession, pos, b.Barcode))
	}
	if err := s.occupant(tx.DB, b, pos); err != nil {
		return out, none, err
	}
	if old != nil {
		from, err := locationOf(tx.DB, old.BoxID, Position{old.Row, old.Col})
		if err != nil {
			return out, none, err
		}
		out.From = &from
		if err := tx.Where("sample_id = ?", smp.ID).Delete(&slot{}).Error; err != nil {
			return out, none, err
		}
	}
	// A savepoint, so that a lost race on the unique index can be reported as a conflict
	// without aborting the caller's transaction.
	err = tx.Transaction(func(sp *gorm.DB) error {
		return sp.Exec("INSERT INTO sample_positions (sample_id, box_id, row, col, placed_by) VALUES (?, ?, ?, ?, ?)",
			smp.ID, b.ID, pos.Row, pos.Col, actor.ID()).Error
	})
	if err != nil {
		if db.IsUniqueViolation(err) {
			return out, none, apperr.Conflict("position_occupied", "position", fmt.Sprintf("%s in %s was just taken.", pos, b.Barcode))
		}
		return out, none, err
	}
	before := smp.Status
	if next != smp.Status {
		if err := tx.Model(&sample.Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{"status": next, "updated_at": s.Now()}).Error; err != nil {
			return out, none, err
		}
		smp.Status = next
	}
	to, err := locationOf(tx.DB, b.ID, pos)
	if err != nil {
		return out, none, err
	}
	action := "sample.place"
	if old != nil {
		action = "sample.move"
	}
	e := actor.Entry(action, "sample", smp.Accession)
	e.Before = placeEvent{Status: before, Location: out.From}
	e.After = placeEvent{Status: smp.Status, Location: &to}
	out.Sample, out.Position, out.To = smp, pos, to
	return out, e, nil
}

// occupant refuses a position that holds a sample, naming it.
func (s *Service) occupant(tx *gorm.DB, b Box, pos Position) error {
	var acc []string
	if err := tx.Raw(`SELECT s.accession FROM sample_positions p JOIN samples s ON s.id = p.sample_id
		WHERE p.box_id = ? AND p.row = ? AND p.col = ?`, b.ID, pos.Row, pos.Col).Scan(&acc).Error; err != nil {
		return err
	}
	if len(acc) > 0 {
		return apperr.Conflict("position_occupied", "position", fmt.Sprintf("%s in %s already holds %s.", pos, b.Barcode, acc[0]))
	}
	return nil
}

// nextFree is the first free position of a box, row by row.
func nextFree(q *gorm.DB, b Box) (Position, error) {
	free, err := freePositions(q, b)
	if err != nil {
		return Position{}, err
	}
	if len(free) > 0 {
		return free[0], nil
	}
	return Position{}, apperr.Conflict("box_full", "box", fmt.Sprintf("Box %s is full.", b.Barcode))
}

// Remove takes the sample out of a position; it keeps its status, without a position.
func (s *Service) Remove(ctx context.Context, actor auth.Actor, barcode, position string) (sample.Sample, error) {
	var out sample.Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.RemoveTx(tx, actor, barcode, position)
		return err
	})
	if err != nil {
		return sample.Sample{}, fmt.Errorf("storage: remove %s from %s: %w", position, barcode, err)
	}
	return out, nil
}

// RemoveTx is Remove inside the caller's transaction.
func (s *Service) RemoveTx(tx *db.Tx, actor auth.Actor, barcode, position string) (sample.Sample, error) {
	if err := actor.Require(labRoles...); err != nil {
		return sample.Sample{}, err
	}
	pos, err := ParsePosition("position", position)
	if err != nil {
		return sample.Sample{}, err
	}
	var smp sample.Sample
	err = func() error {
		b, err := findBox(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "boxes"}}), actor, barcode)
		if err != nil {
			return err
		}
		if !b.Contains(pos) {
			return apperr.Invalid("position", fmt.Sprintf("Box %s has positions A1 to %s; there is no %s.", b.Barcode, Position{b.Rows, b.Cols}, pos))
		}
		var acc []string
		if err := tx.Raw(`SELECT s.accession FROM sample_positions p JOIN samples s ON s.id = p.sample_id
			WHERE p.box_id = ? AND p.row = ? AND p.col = ?`, b.ID, pos.Row, pos.Col).Scan(&acc).Error; err != nil {
			return err
		}
		if len(acc) == 0 {
			return apperr.NotFound("sample at position", pos.String()+" of "+b.Barcode)
		}
		if smp, err = s.Samples.Lock(tx, actor, acc[0]); err != nil {
			return err
		}
		from, err := locationOf(tx.DB, b.ID, pos)
		if err != nil {
			return err
		}
		if err := tx.Where("sample_id = ?", smp.ID).Delete(&slot{}).Error; err != nil {
			return err
		}
		e := actor.Entry("sample.remove_from_position", "sample", smp.Accession)
		e.Before, e.After = locationEvent{Location: &from}, placeEvent{Status: smp.Status}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return sample.Sample{}, err
	}
	return smp, nil
}

// Positions gives up a sample's position when its life ends; it is the sample service's
// sample.Releaser, and needs nothing but the transaction it is handed.
type Positions struct{}

// Release frees smp's position, if it has one, and returns where it was. The caller's
// event (consumed, destroyed, lost) records it.
func (Positions) Release(tx *db.Tx, smp sample.Sample) (audit.Payload, error) {
	old, err := currentSlot(tx.DB, smp.ID)
	if err != nil || old == nil {
		return nil, err
	}
	loc, err := locationOf(tx.DB, old.BoxID, Position{old.Row, old.Col})
	if err != nil {
		return nil, err
	}
	return loc, tx.Where("sample_id = ?", smp.ID).Delete(&slot{}).Error
}
