package storage

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/input"
	"biobank/internal/sample"
)

// Cell is one position of a box grid as shown: empty, or the sample in it.
type Cell struct {
	Position     Position
	Accession    string
	SpecimenType string
	Status       sample.Status
	Hold         bool
}

// Occupied reports whether a sample holds the cell.
func (c Cell) Occupied() bool { return c.Accession != "" }

// Reserved reports whether the cell is kept for a checked-out sample.
func (c Cell) Reserved() bool { return c.Status == sample.CheckedOut }

// Grid is a box with every cell, row by row.
type Grid struct {
	Box   Box
	Cells [][]Cell
	Free  int
}

// FindBox returns the box with barcode (as scanned) that the actor may see, with its
// freezer and rack.
func (s *Service) FindBox(ctx context.Context, actor auth.Actor, barcode string) (Box, error) {
	return findBox(s.DB.Gorm.WithContext(ctx), actor, barcode)
}

func findBox(q *gorm.DB, actor auth.Actor, barcode string) (Box, error) {
	code := input.Scanned(barcode)
	var bs []Box
	if err := q.Preload("Freezer.Site").Preload("Rack").Where("barcode = ?", code).Limit(1).Find(&bs).Error; err != nil {
		return Box{}, fmt.Errorf("storage: box %s: %w", code, err)
	}
	if len(bs) == 0 {
		return Box{}, apperr.NotFound("box", code)
	}
	if err := actor.RequireSite(bs[0].Freezer.SiteID); err != nil {
		return Box{}, err
	}
	return bs[0], nil
}

// Grid returns a box and all its cells: one query for the box, one for its occupants,
// never a query per position, so a 12×12 box costs the same as a 2×2 one.
func (s *Service) Grid(ctx context.Context, actor auth.Actor, barcode string) (Grid, error) {
	b, err := s.FindBox(ctx, actor, barcode)
	if err != nil {
		return Grid{}, err
	}
	var rows []struct {
		Row, Col     int
		Accession    string
		SpecimenType string
		Status       sample.Status
		Hold         bool
	}
	err = s.DB.Gorm.WithContext(ctx).Raw(`SELECT p.row, p.col, s.accession, s.specimen_type, s.status, s.hold
		FROM sample_positions p JOIN samples s ON s.id = p.sample_id WHERE p.box_id = ?`, b.ID).Scan(&rows).Error
	if err != nil {
		return Grid{}, fmt.Errorf("storage: grid of %s: %w", b.Barcode, err)
	}
	g := Grid{Box: b, Cells: make([][]Cell, b.Rows), Free: b.Rows * b.Cols}
	for r := range g.Cells {
		g.Cells[r] = make([]Cell, b.Cols)
		for c := range g.Cells[r] {
			g.Cells[r][c].Position = Position{Row: r + 1, Col: c + 1}
		}
	}
	for _, o := range rows {
		if o.Row <= b.Rows && o.Col <= b.Cols {
			g.Cells[o.Row-1][o.Col-1] = Cell{Position: Position{o.Row, o.Col}, Accession: o.Accession,
				SpecimenType: o.SpecimenType, Status: o.Status, Hold: o.Hold}
			g.Free--
		}
	}
	return g, nil
}
