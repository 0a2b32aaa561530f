package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
)

// BoxType is a grid boxes are made from (9×9, 10×10, 8×12, …).
type BoxType struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Rows      int       `json:"rows"`
	Cols      int       `json:"cols"`
	CreatedAt time.Time `json:"created_at"`
}

// BoxTypeInput is a box type as entered.
type BoxTypeInput struct {
	Name string `json:"name"`
	Rows int    `json:"rows"`
	Cols int    `json:"cols"`
}

// CreateBoxType adds a box type. Administrators only.
func (s *Service) CreateBoxType(ctx context.Context, actor auth.Actor, in BoxTypeInput) (BoxType, error) {
	var out BoxType
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.CreateBoxTypeTx(tx, actor, in)
		return err
	})
	if err != nil {
		return BoxType{}, fmt.Errorf("storage: create box type %s: %w", strings.TrimSpace(in.Name), err)
	}
	return out, nil
}

// CreateBoxTypeTx is CreateBoxType inside the caller's transaction.
func (s *Service) CreateBoxTypeTx(tx *db.Tx, actor auth.Actor, in BoxTypeInput) (BoxType, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return BoxType{}, err
	}
	name, err := input.Text("name", "box type name", in.Name, 60, true)
	if err != nil {
		return BoxType{}, err
	}
	if err := checkGrid(in.Rows, in.Cols); err != nil {
		return BoxType{}, err
	}
	t := BoxType{Name: name, Rows: in.Rows, Cols: in.Cols}
	err = func() error {
		if err := tx.Create(&t).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_box_type", "name", fmt.Sprintf("A box type %q already exists.", name))
			}
			return err
		}
		e := actor.Entry("storage.create_box_type", "box_type", strconv.FormatInt(t.ID, 10))
		e.After = boxTypeEvent{ID: t.ID, Name: t.Name, Rows: t.Rows, Cols: t.Cols}
		tx.Record(e)
		return nil
	}()
	if err != nil {
		return BoxType{}, err
	}
	return t, nil
}

// BoxTypes lists the box types by size.
func (s *Service) BoxTypes(ctx context.Context) ([]BoxType, error) {
	var ts []BoxType
	if err := s.DB.Gorm.WithContext(ctx).Order("rows * cols, name").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("storage: box types: %w", err)
	}
	return ts, nil
}

// boxType resolves a box type by id or name.
func boxType(tx *gorm.DB, ref string) (BoxType, error) {
	var ts []BoxType
	q := tx.Limit(1)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q = q.Where("id = ?", id)
	} else {
		q = q.Where("name = ?", ref)
	}
	if err := q.Find(&ts).Error; err != nil {
		return BoxType{}, err
	}
	if len(ts) == 0 {
		return BoxType{}, apperr.Invalid("box_type", fmt.Sprintf("There is no box type %q.", ref))
	}
	return ts[0], nil
}

func checkGrid(rows, cols int) error {
	if rows < 1 || rows > 26 {
		return apperr.Invalid("rows", "A box has 1 to 26 rows (A to Z).")
	}
	if cols < 1 || cols > 30 {
		return apperr.Invalid("cols", "A box has 1 to 30 columns.")
	}
	return nil
}
