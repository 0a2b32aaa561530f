package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/sample"
)

// CheckOut takes a stored sample out for use. Its position stays reserved for it (shown as
// reserved in the grid) until it is checked in or its life ends. A held sample cannot be
// checked out.
func (s *Service) CheckOut(ctx context.Context, actor auth.Actor, code, reason string) (sample.Sample, error) {
	return s.inTx(ctx, "check out", code, func(tx *db.Tx) (sample.Sample, error) { return s.CheckOutTx(tx, actor, code, reason) })
}

// CheckOutTx is CheckOut inside the caller's transaction.
func (s *Service) CheckOutTx(tx *db.Tx, actor auth.Actor, code, reason string) (sample.Sample, error) {
	if err := actor.Require(labRoles...); err != nil {
		return sample.Sample{}, err
	}
	reason, err := input.Text("reason", "reason", reason, input.MaxReasonLength, false)
	if err != nil {
		return sample.Sample{}, err
	}
	return s.turnTx(tx, actor, code, sample.ActCheckOut, "sample.check_out", reason)
}

// CheckIn returns a checked-out sample to its reserved position; its freeze–thaw count
// goes up by one.
func (s *Service) CheckIn(ctx context.Context, actor auth.Actor, code string) (sample.Sample, error) {
	return s.inTx(ctx, "check in", code, func(tx *db.Tx) (sample.Sample, error) { return s.CheckInTx(tx, actor, code) })
}

// CheckInTx is CheckIn inside the caller's transaction.
func (s *Service) CheckInTx(tx *db.Tx, actor auth.Actor, code string) (sample.Sample, error) {
	if err := actor.Require(labRoles...); err != nil {
		return sample.Sample{}, err
	}
	return s.turnTx(tx, actor, code, sample.ActCheckIn, "sample.check_in", "")
}

// inTx runs one sample's change in a transaction of its own.
func (s *Service) inTx(ctx context.Context, what, code string, fn func(tx *db.Tx) (sample.Sample, error)) (sample.Sample, error) {
	var out sample.Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		return sample.Sample{}, fmt.Errorf("storage: %s %s: %w", what, code, err)
	}
	return out, nil
}

// turnTx checks a sample out or in.
func (s *Service) turnTx(tx *db.Tx, actor auth.Actor, code string, act sample.Action, event, reason string) (sample.Sample, error) {
	var smp sample.Sample
	err := func() error {
		var err error
		if smp, err = s.Samples.Lock(tx, actor, code); err != nil {
			return err
		}
		next, err := sample.Next(smp, act)
		if err != nil {
			return err
		}
		var loc *Location
		if sl, err := currentSlot(tx.DB, smp.ID); err != nil {
			return err
		} else if sl != nil {
			l, err := locationOf(tx.DB, sl.BoxID, Position{sl.Row, sl.Col})
			if err != nil {
				return err
			}
			loc = &l
		}
		before := turnEvent{Status: smp.Status, FreezeThawCount: smp.FreezeThawCount, Location: loc}
		smp.Status = next
		if act == sample.ActCheckIn {
			smp.FreezeThawCount++
		}
		if err := tx.Model(&sample.Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{"status": next,
			"freeze_thaw_count": smp.FreezeThawCount, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		e := actor.Entry(event, "sample", smp.Accession)
		e.Reason, e.Before = reason, before
		e.After = turnEvent{Status: smp.Status, FreezeThawCount: smp.FreezeThawCount, Location: loc}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return sample.Sample{}, err
	}
	return smp, nil
}

// Location returns where a sample is stored, or nil when it has no position.
func (s *Service) Location(ctx context.Context, sampleID int64) (*Location, error) {
	var rows []Location
	err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT si.code AS site, f.name AS freezer, COALESCE(r.name, '') AS rack, b.barcode AS box,
		chr(64 + p.row) || p.col AS position
		FROM sample_positions p JOIN boxes b ON b.id = p.box_id JOIN freezers f ON f.id = b.freezer_id
		JOIN sites si ON si.id = f.site_id LEFT JOIN racks r ON r.id = b.rack_id WHERE p.sample_id = ?`, sampleID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: location: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// CheckedOut is a sample out of its box.
type CheckedOut struct {
	Accession    string    `json:"id"`
	SpecimenType string    `json:"specimen_type"`
	By           string    `json:"by"`
	Since        time.Time `json:"since"`
	Reason       string    `json:"reason"`
	Box          string    `json:"box"`
	Position     string    `json:"position"`
}

// CheckedOutList lists what is checked out at the actor's site (every site for managers),
// who took it and since when, from the check-out audit events.
func (s *Service) CheckedOutList(ctx context.Context, actor auth.Actor) ([]CheckedOut, error) {
	var out []CheckedOut
	q := `SELECT s.accession, s.specimen_type, e.actor AS by, e.at AS since, e.reason, COALESCE(b.barcode, '') AS box,
		COALESCE(chr(64 + p.row) || p.col, '') AS position
		FROM samples s
		JOIN LATERAL (SELECT actor, at, reason FROM audit_events
			WHERE entity_type = 'sample' AND entity_id = s.accession AND action = 'sample.check_out'
			ORDER BY seq DESC LIMIT 1) e ON true
		LEFT JOIN sample_positions p ON p.sample_id = s.id LEFT JOIN boxes b ON b.id = p.box_id
		WHERE s.status = 'checked_out'`
	args := []any{}
	if !actor.AllSites() {
		q += " AND s.site_id = ?"
		args = append(args, actor.SiteID)
	}
	q += " ORDER BY e.at"
	if err := s.DB.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: checked out: %w", err)
	}
	return out, nil
}

// FreeBox is a box with room.
type FreeBox struct {
	Barcode string `json:"barcode"`
	Freezer string `json:"freezer"`
	Type    string `json:"type"`
	Rack    string `json:"rack"`
	Free    int    `json:"free"`
	Size    int    `json:"size"`
}

// FreeSpace proposes boxes at the actor's site with room for n tubes, in freezers of
// freezerType (any when empty), fullest first so that boxes fill up before new ones open.
// specimenType, when given, prefers boxes already holding that type.
func (s *Service) FreeSpace(ctx context.Context, actor auth.Actor, n int, freezerType, specimenType string) ([]FreeBox, error) {
	if n < 1 {
		n = 1
	}
	q := `SELECT b.barcode, f.name AS freezer, f.type, COALESCE(r.name, '') AS rack,
			b.rows * b.cols - count(p.sample_id) AS free, b.rows * b.cols AS size
		FROM boxes b JOIN freezers f ON f.id = b.freezer_id LEFT JOIN racks r ON r.id = b.rack_id
		LEFT JOIN sample_positions p ON p.box_id = b.id
		LEFT JOIN samples sm ON sm.id = p.sample_id
		WHERE f.active AND f.site_id = ?`
	args := []any{actor.SiteID}
	if t := strings.TrimSpace(freezerType); t != "" {
		q += " AND f.type = ?"
		args = append(args, t)
	}
	q += ` GROUP BY b.id, f.name, f.type, r.name
		HAVING b.rows * b.cols - count(p.sample_id) >= ?
		ORDER BY bool_or(sm.specimen_type = ?) DESC NULLS LAST, b.rows * b.cols - count(p.sample_id), b.barcode LIMIT 20`
	args = append(args, n, strings.TrimSpace(specimenType))
	var out []FreeBox
	if err := s.DB.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: free space: %w", err)
	}
	return out, nil
}

// CheckInAt checks a tube in when it is scanned into the box that keeps its reserved
// position (the box page's scan field): refused unless the tube is checked out from that
// very box, so that a scan into another box is never taken for a check-in.
func (s *Service) CheckInAt(ctx context.Context, actor auth.Actor, barcode, code string) (sample.Sample, Position, error) {
	var out sample.Sample
	var at Position
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		smp, err := s.Samples.Lock(tx, actor, code)
		if err != nil {
			return err
		}
		sl, err := currentSlot(tx.DB, smp.ID)
		if err != nil {
			return err
		}
		b, err := findBox(tx.DB, actor, barcode)
		if err != nil {
			return err
		}
		if smp.Status != sample.CheckedOut || sl == nil || sl.BoxID != b.ID {
			return apperr.Conflict("not_reserved_here", "sample", fmt.Sprintf("%s is not checked out from box %s.", smp.Accession, b.Barcode))
		}
		at = Position{sl.Row, sl.Col}
		out, err = s.CheckInTx(tx, actor, code)
		return err
	})
	if err != nil {
		return sample.Sample{}, Position{}, fmt.Errorf("storage: check in %s at %s: %w", code, barcode, err)
	}
	return out, at, nil
}
