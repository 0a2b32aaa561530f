package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
)

// BoxUse is how full one box is.
type BoxUse struct {
	FreezerID int64  `json:"-"`
	Site      string `json:"site"`
	Freezer   string `json:"freezer"`
	Type      string `json:"type"`
	Rack      string `json:"rack"`
	Box       string `json:"box"`
	Used      int    `json:"used"`
	Size      int    `json:"size"`
}

// Percent is the share of positions used.
func (b BoxUse) Percent() int {
	if b.Size == 0 {
		return 0
	}
	return b.Used * 100 / b.Size
}

// Occupancy lists every box the actor may see with its used and total positions, by site,
// freezer and box, in one query.
func (s *Service) Occupancy(ctx context.Context, actor auth.Actor) ([]BoxUse, error) {
	q := `SELECT f.id AS freezer_id, si.code AS site, f.name AS freezer, f.type, COALESCE(r.name, '') AS rack, b.barcode AS box,
			count(p.sample_id) AS used, b.rows * b.cols AS size
		FROM boxes b JOIN freezers f ON f.id = b.freezer_id JOIN sites si ON si.id = f.site_id
		LEFT JOIN racks r ON r.id = b.rack_id LEFT JOIN sample_positions p ON p.box_id = b.id`
	var args []any
	if !actor.AllSites() {
		q += " WHERE f.site_id = ?"
		args = append(args, actor.SiteID)
	}
	q += " GROUP BY b.id, si.code, f.id, f.name, f.type, r.name ORDER BY si.code, f.name, r.name NULLS FIRST, b.barcode"
	var out []BoxUse
	if err := s.DB.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: occupancy: %w", err)
	}
	return out, nil
}

// MoveBox moves a box, with everything in it, to another freezer (and rack) — for a
// failing freezer. Every sample inside gets its own audited move.
func (s *Service) MoveBox(ctx context.Context, actor auth.Actor, barcode, freezer, rack, reason string) (Box, error) {
	var out Box
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.MoveBoxTx(tx, actor, barcode, freezer, rack, reason)
		return err
	})
	if err != nil {
		return Box{}, fmt.Errorf("storage: move box %s: %w", barcode, err)
	}
	return out, nil
}

// MoveBoxTx is MoveBox inside the caller's transaction (a box packed into a shipment).
func (s *Service) MoveBoxTx(tx *db.Tx, actor auth.Actor, barcode, freezer, rack, reason string) (Box, error) {
	if err := actor.Require(setupRoles...); err != nil {
		return Box{}, err
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return Box{}, err
	}
	var b Box
	err = func() error {
		if b, err = findBox(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "boxes"}}), actor, barcode); err != nil {
			return err
		}
		f, err := findFreezer(tx.DB, actor, freezer)
		if err != nil {
			return err
		}
		if f.SiteID != b.Freezer.SiteID {
			return apperr.Invalid("freezer", "A box moves between freezers of one site; to another site it is shipped.")
		}
		var rackID *int64
		if name := strings.TrimSpace(rack); name != "" {
			var r Rack
			if err := tx.Where("freezer_id = ? AND name = ?", f.ID, name).Take(&r).Error; err != nil {
				return apperr.Invalid("rack", fmt.Sprintf("%s has no rack %q.", f.Name, name))
			}
			rackID = &r.ID
		}
		if f.ID == b.FreezerID && ((rackID == nil && b.RackID == nil) || (rackID != nil && b.RackID != nil && *rackID == *b.RackID)) {
			return apperr.Invalid("freezer", "The box is already there.")
		}
		return s.relocate(tx, actor, []Box{b}, f, rackID, reason)
	}()
	if err != nil {
		return Box{}, err
	}
	return findBox(tx.DB, actor, barcode)
}

// MoveRack moves a rack with all its boxes to another freezer of the same site.
func (s *Service) MoveRack(ctx context.Context, actor auth.Actor, rackID int64, freezer, reason string) error {
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		return s.MoveRackTx(tx, actor, rackID, freezer, reason)
	})
	if err != nil {
		return fmt.Errorf("storage: move rack %d: %w", rackID, err)
	}
	return nil
}

// MoveRackTx is MoveRack inside the caller's transaction.
func (s *Service) MoveRackTx(tx *db.Tx, actor auth.Actor, rackID int64, freezer, reason string) error {
	if err := actor.Require(setupRoles...); err != nil {
		return err
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return err
	}
	err = func() error {
		var r Rack
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", rackID).Take(&r).Error; err != nil {
			return apperr.NotFound("rack", strconv.FormatInt(rackID, 10))
		}
		from, err := findFreezer(tx.DB, actor, strconv.FormatInt(r.FreezerID, 10))
		if err != nil {
			return err
		}
		to, err := findFreezer(tx.DB, actor, freezer)
		if err != nil {
			return err
		}
		if to.SiteID != from.SiteID || to.ID == from.ID {
			return apperr.Invalid("freezer", "Choose another freezer of the same site.")
		}
		var boxes []Box
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Preload("Freezer").Preload("Rack").Where("rack_id = ?", r.ID).Order("id").Find(&boxes).Error; err != nil {
			return err
		}
		if err := tx.Model(&Rack{}).Where("id = ?", r.ID).Update("freezer_id", to.ID).Error; err != nil {
			if strings.Contains(err.Error(), "23505") {
				return apperr.Conflict("duplicate_rack", "freezer", fmt.Sprintf("%s already has a rack %q.", to.Name, r.Name))
			}
			return err
		}
		return s.relocate(tx, actor, boxes, to, &r.ID, reason)
	}()
	if err != nil {
		return err
	}
	return nil
}

// relocate points boxes at a freezer and rack and audits a move for every sample inside.
func (s *Service) relocate(tx *db.Tx, actor auth.Actor, boxes []Box, to Freezer, rackID *int64, reason string) error {
	type moved struct {
		Accession string
		Row, Col  int
	}
	for _, b := range boxes {
		var inside []moved
		if err := tx.Raw(`SELECT s.accession, p.row, p.col FROM sample_positions p JOIN samples s ON s.id = p.sample_id
			WHERE p.box_id = ? ORDER BY p.row, p.col FOR UPDATE OF s`, b.ID).Scan(&inside).Error; err != nil {
			return err
		}
		// One lookup of the box's place before and after serves every sample inside.
		from, err := locationOf(tx.DB, b.ID, Position{1, 1})
		if err != nil {
			return err
		}
		if err := tx.Model(&Box{}).Where("id = ?", b.ID).Updates(map[string]any{"freezer_id": to.ID, "rack_id": rackID}).Error; err != nil {
			return err
		}
		dest, err := locationOf(tx.DB, b.ID, Position{1, 1})
		if err != nil {
			return err
		}
		for _, m := range inside {
			before, after := from, dest
			before.Position = Position{m.Row, m.Col}.String()
			after.Position = before.Position
			e := actor.Entry("sample.move", "sample", m.Accession)
			e.Reason, e.Before, e.After = reason, locationEvent{Location: &before}, locationEvent{Location: &after}
			tx.Record(e)
		}
		be := actor.Entry("storage.move_box", "box", b.Barcode)
		n := len(inside)
		be.Reason, be.Before, be.After = reason, boxMoveEvent{Freezer: b.Freezer.Name}, boxMoveEvent{Freezer: to.Name, Samples: &n}
		tx.Record(be)
	}
	return nil
}
