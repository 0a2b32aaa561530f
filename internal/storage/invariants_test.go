package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The database itself refuses a double booking, a sample in two places and a position
// outside its box, whatever the code above it does: these go straight to SQL.
func TestSamplePositions_DatabaseRefusesBadRows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX-S", "F1", "", 3, 4)
	w.mustBox(t, "BOX-T", "F1", "", 9, 9)
	tubes := w.mustTubes(t, 3)
	var small, big int64
	if err := w.db.SQL.QueryRowContext(ctx, "SELECT (SELECT id FROM boxes WHERE barcode = 'BOX-S'), (SELECT id FROM boxes WHERE barcode = 'BOX-T')").Scan(&small, &big); err != nil {
		t.Fatal(err)
	}
	insert := func(sampleID, boxID int64, row, col int) error {
		_, err := w.db.SQL.ExecContext(ctx, "INSERT INTO sample_positions (sample_id, box_id, row, col) VALUES ($1, $2, $3, $4)", sampleID, boxID, row, col)
		return err
	}
	if err := insert(tubes[0].ID, small, 2, 3); err != nil {
		t.Fatalf("a first sample at B3: %v", err)
	}
	for _, tc := range []struct {
		name                 string
		sampleID, boxID      int64
		row, col             int
		code, constraint, in string
	}{
		{"another sample at the same position", tubes[1].ID, small, 2, 3, "23505", "sample_positions_box_cell_key", ""},
		{"the same sample at a second position", tubes[0].ID, big, 1, 1, "23505", "sample_positions_pkey", ""},
		{"the same sample at a second position of its box", tubes[0].ID, small, 1, 1, "23505", "sample_positions_pkey", ""},
		{"a row below the box", tubes[1].ID, small, 4, 1, "23514", "", "outside box"},
		{"a column right of the box", tubes[1].ID, small, 1, 5, "23514", "", "outside box"},
		{"a column beyond any box", tubes[1].ID, big, 1, 31, "23514", "", ""},
		{"row zero", tubes[1].ID, big, 0, 1, "23514", "sample_positions_row_range", ""},
		{"a box that does not exist", tubes[1].ID, big + 1000, 1, 1, "23503", "sample_positions_box_id_fkey", ""},
		{"a sample that does not exist", tubes[2].ID + 1000, big, 1, 1, "23503", "sample_positions_sample_id_fkey", ""},
	} {
		err := insert(tc.sampleID, tc.boxID, tc.row, tc.col)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a refusal by the database", tc.name, err)
			continue
		}
		if (tc.code != "" && pe.Code != tc.code) || (tc.constraint != "" && pe.ConstraintName != tc.constraint) || !strings.Contains(pe.Message, tc.in) {
			t.Errorf("%s: refused with %s %s %q, want %s %s %q", tc.name, pe.Code, pe.ConstraintName, pe.Message, tc.code, tc.constraint, tc.in)
		}
	}
	// An UPDATE is held to the same rules: out of the box, or onto an occupied cell.
	_, err := w.db.SQL.ExecContext(ctx, "UPDATE sample_positions SET row = 9 WHERE sample_id = $1", tubes[0].ID)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23514" {
		t.Errorf("update out of the box: %v", err)
	}
	if err := insert(tubes[1].ID, small, 3, 4); err != nil {
		t.Fatalf("the last cell C4: %v", err)
	}
	_, err = w.db.SQL.ExecContext(ctx, "UPDATE sample_positions SET row = 2, col = 3 WHERE sample_id = $1", tubes[1].ID)
	if !errors.As(err, &pe) || pe.ConstraintName != "sample_positions_box_cell_key" {
		t.Errorf("update onto an occupied cell: %v", err)
	}
	var n int
	if err := w.db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sample_positions").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d positions, %v; want the 2 good ones", n, err)
	}
}
