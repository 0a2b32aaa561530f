package storage

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
)

// MaxFill bounds one batch placement.
const MaxFill = 1000

// Fill places a batch of unplaced samples into a box's free positions, row by row, in the
// order given: the bench's "fill this box with these tubes". It is all or nothing: a
// sample that cannot be stored, is already in a position, or does not fit refuses the
// whole batch, naming it. One event per sample is recorded, as for single placements.
func (s *Service) Fill(ctx context.Context, actor auth.Actor, barcode string, codes []string) ([]Placed, error) {
	var out []Placed
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.FillTx(tx, actor, barcode, codes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: fill %s: %w", barcode, err)
	}
	return out, nil
}

// FillTx is Fill inside the caller's transaction. It locks the box, then the samples in id
// order (the lock order of db.Tx), and works in a fixed number of statements whatever the
// size of the batch.
func (s *Service) FillTx(tx *db.Tx, actor auth.Actor, barcode string, codes []string) ([]Placed, error) {
	if err := actor.Require(labRoles...); err != nil {
		return nil, err
	}
	if len(codes) == 0 {
		return nil, apperr.Invalid("samples", "Scan at least one sample.")
	}
	if len(codes) > MaxFill {
		return nil, apperr.Invalid("samples", fmt.Sprintf("At most %d samples can be placed at once.", MaxFill))
	}
	b, err := findBox(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "boxes"}}), actor, barcode)
	if err != nil {
		return nil, err
	}
	if !b.Freezer.Active {
		return nil, apperr.Conflict("freezer_inactive", "box", fmt.Sprintf("Box %s is in %s, which is out of service.", b.Barcode, b.Freezer.Name))
	}
	upper := make([]string, len(codes))
	for i, c := range codes {
		upper[i] = strings.ToUpper(strings.TrimSpace(c))
	}
	var smps []sample.Sample
	if err := tx.Raw(`SELECT * FROM samples WHERE accession IN ? ORDER BY id FOR UPDATE`, upper).Scan(&smps).Error; err != nil {
		return nil, err
	}
	byCode := make(map[string]sample.Sample, len(smps))
	ids := make([]int64, 0, len(smps))
	for _, smp := range smps {
		byCode[smp.Accession] = smp
		ids = append(ids, smp.ID)
	}
	var placed []int64
	if err := tx.Raw("SELECT sample_id FROM sample_positions WHERE sample_id IN ?", ids).Scan(&placed).Error; err != nil {
		return nil, err
	}
	inPlace := make(map[int64]bool, len(placed))
	for _, id := range placed {
		inPlace[id] = true
	}
	free, err := freePositions(tx.DB, b)
	if err != nil {
		return nil, err
	}
	if len(free) < len(codes) {
		return nil, apperr.Conflict("box_full", "box", fmt.Sprintf("Box %s has %d free positions; %d samples do not fit.", b.Barcode, len(free), len(codes)))
	}
	to, err := locationOf(tx.DB, b.ID, Position{1, 1})
	if err != nil {
		return nil, err
	}
	out := make([]Placed, len(codes))
	seen := make(map[string]bool, len(codes))
	rows, cols, sampleIDs := make([]int, len(codes)), make([]int, len(codes)), make([]int64, len(codes))
	for i, code := range upper {
		smp, ok := byCode[code]
		switch {
		case !ok:
			return nil, apperr.NotFound("sample", code)
		case seen[code]:
			return nil, apperr.Invalid("samples", fmt.Sprintf("%s is in the batch twice.", code))
		case smp.SiteID != b.Freezer.SiteID:
			return nil, apperr.Conflict("wrong_site", "sample", fmt.Sprintf("%s is in the custody of another site than box %s.", smp.Accession, b.Barcode))
		case inPlace[smp.ID]:
			return nil, apperr.Conflict("already_placed", "sample", fmt.Sprintf("%s already has a position: move it on its own.", smp.Accession))
		}
		seen[code] = true
		if err := actor.RequireSite(smp.SiteID); err != nil {
			return nil, err
		}
		next, err := sample.Next(smp, sample.ActPlace)
		if err != nil {
			return nil, err
		}
		pos := free[i]
		loc := to
		loc.Position = pos.String()
		before := smp.Status
		smp.Status = next
		out[i] = Placed{Sample: smp, Position: pos, To: loc}
		rows[i], cols[i], sampleIDs[i] = pos.Row, pos.Col, smp.ID
		e := actor.Entry("sample.place", "sample", smp.Accession)
		e.Before = placeEvent{Status: before}
		e.After = placeEvent{Status: next, Location: &loc}
		tx.Record(e)
	}
	if err := tx.Exec(`INSERT INTO sample_positions (sample_id, box_id, row, col, placed_by)
		SELECT x.sample_id, ?, x.row, x.col, ? FROM unnest(?::bigint[], ?::int[], ?::int[]) AS x(sample_id, row, col)`,
		b.ID, actor.ID(), db.Int64Array(sampleIDs), db.IntArray(rows), db.IntArray(cols)).Error; err != nil {
		if db.IsUniqueViolation(err) {
			return nil, apperr.Conflict("position_occupied", "position", fmt.Sprintf("A position in %s was just taken.", b.Barcode))
		}
		return nil, err
	}
	if err := tx.Exec(`UPDATE samples SET status = ?, updated_at = ? WHERE id = ANY(?::bigint[]) AND status <> ?`,
		sample.Stored, s.Now(), db.Int64Array(sampleIDs), sample.Stored).Error; err != nil {
		return nil, err
	}
	return out, nil
}

// freePositions lists a box's free positions, row by row.
func freePositions(q *gorm.DB, b Box) ([]Position, error) {
	var taken []struct{ Row, Col int }
	if err := q.Raw("SELECT row, col FROM sample_positions WHERE box_id = ?", b.ID).Scan(&taken).Error; err != nil {
		return nil, err
	}
	used := make(map[Position]bool, len(taken))
	for _, t := range taken {
		used[Position{t.Row, t.Col}] = true
	}
	var free []Position
	for r := 1; r <= b.Rows; r++ {
		for c := 1; c <= b.Cols; c++ {
			if !used[Position{r, c}] {
				free = append(free, Position{r, c})
			}
		}
	}
	return free, nil
}
