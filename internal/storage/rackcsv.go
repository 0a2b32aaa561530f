package storage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
)

// RackFile is a rack scanner's reading of one box: every well with the tube in it.
type RackFile struct {
	Rack  string
	Wells []Well
	// Layout says in words what was recognised ("TraceRack text: metadata, position; tube"),
	// for the preview.
	Layout string
	// ColumnOrder says numbered positions (1…N) count down the columns (A1, B1, …) rather
	// than along the rows.
	ColumnOrder bool
	// RackFromFileName says only the file's name gave the rack barcode.
	RackFromFileName bool
}

// Well is one line of a rack scanner file. Tube is empty for an empty or unreadable well.
type Well struct {
	Line     int
	Position Position
	// Index is the well's number (1…N) when the file numbers wells instead of naming them;
	// the box's grid turns it into a Position (see RackFile.ColumnOrder).
	Index int
	Tube  string
	// NoRead says the scanner could not read the well (NO READ, No Code).
	NoRead bool
}

// Label is the well's position as the file gave it.
func (w Well) Label() string {
	if w.Index > 0 {
		return "#" + strconv.Itoa(w.Index)
	}
	return w.Position.String()
}

// LineError names a line of a rack scanner file and what is wrong with it.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// FileError is a rack scanner file that cannot be used, with every offending line.
type FileError struct {
	Problems []LineError
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("The rack scanner file cannot be used:")
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, " … and %d more.", len(e.Problems)-10)
			break
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, " line %d: %s", p.Line, p.Message)
		} else {
			b.WriteString(" " + p.Message)
		}
	}
	return b.String()
}

// MaxRackFile bounds the size of an uploaded rack scanner file.
const MaxRackFile = 256 << 10

// sortProblems puts problems in line order, keeping the order of those on one line. (An
// insertion sort took over a second on a 256 KiB file of one rack barcode per line.)
func sortProblems(p []LineError) {
	slices.SortStableFunc(p, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
}

// WellCheck is what importing one well would do.
type WellCheck struct {
	Line     int    `json:"line"`
	Position string `json:"position"`
	Tube     string `json:"tube"`
	// Outcome is matched (placed here), moved (from elsewhere), already (in place), empty,
	// no_read, unknown (no such tube), or conflict (the position holds another sample, or
	// the tube cannot be stored).
	Outcome   string `json:"outcome"`
	Accession string `json:"accession,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Preview is the checked import of a rack file into its box.
type Preview struct {
	Box Box `json:"-"`
	// Layout is what the file was read as.
	Layout string      `json:"layout"`
	Wells  []WellCheck `json:"wells"`
	Clean  bool        `json:"clean"`
}

// PreviewRack checks what importing the file would do, changing nothing. The rack barcode
// must be a box of the actor's site whose grid holds every position.
func (s *Service) PreviewRack(ctx context.Context, actor auth.Actor, f RackFile) (Preview, error) {
	if err := actor.Require(labRoles...); err != nil {
		return Preview{}, err
	}
	return s.preview(s.DB.Gorm.WithContext(ctx), actor, f)
}

func (s *Service) preview(q *gorm.DB, actor auth.Actor, f RackFile) (Preview, error) {
	b, err := findBox(q, actor, f.Rack)
	if err != nil {
		if _, missing := apperr.AsNotFound(err); missing {
			if f.RackFromFileName {
				return Preview{}, apperr.Invalid("box", fmt.Sprintf("The file (%s) does not name its rack, and no box is called %s like the file: choose the box to import into.",
					f.Layout, f.Rack))
			}
			return Preview{}, apperr.Invalid("file", fmt.Sprintf("No box has the rack barcode %s: create the box first.", f.Rack))
		}
		return Preview{}, err
	}
	p := Preview{Box: b, Clean: true, Layout: f.Layout}
	var occupants []struct {
		Row, Col  int
		Accession string
		Tube      *string
	}
	if err := q.Raw(`SELECT p.row, p.col, s.accession, s.tube_barcode AS tube FROM sample_positions p JOIN samples s ON s.id = p.sample_id
		WHERE p.box_id = ?`, b.ID).Scan(&occupants).Error; err != nil {
		return Preview{}, err
	}
	held := map[Position]string{}
	for _, o := range occupants {
		held[Position{o.Row, o.Col}] = o.Accession
	}
	for _, w := range f.Wells {
		if w.Index > 0 {
			w.Position = b.indexPosition(w.Index, f.ColumnOrder)
		}
		c := WellCheck{Line: w.Line, Position: w.Position.String(), Tube: w.Tube}
		switch {
		case w.Index > b.Rows*b.Cols:
			c.Position = w.Label()
			c.Outcome, c.Message = "conflict", fmt.Sprintf("box %s has %d positions, not %d: a different box size?", b.Barcode, b.Rows*b.Cols, w.Index)
		case !b.Contains(w.Position):
			c.Outcome, c.Message = "conflict", fmt.Sprintf("box %s (%d×%d) has no position %s: a different box size?", b.Barcode, b.Rows, b.Cols, w.Position)
		case w.Tube == "" && w.NoRead:
			c.Outcome, c.Message = "no_read", "the scanner could not read this well: check it by eye"
		case w.Tube == "":
			c.Outcome = "empty"
			if acc := held[w.Position]; acc != "" {
				c.Outcome, c.Message = "conflict", fmt.Sprintf("the LIMS has %s here but the scanner saw an empty well", acc)
			}
		default:
			s.checkTube(q, actor, b, w, held, &c)
		}
		if c.Outcome == "conflict" || c.Outcome == "unknown" || c.Outcome == "no_read" {
			p.Clean = false
		}
		p.Wells = append(p.Wells, c)
	}
	return p, nil
}

// indexPosition is the position of well number i (1-based) of the box, counted along the
// rows (A1, A2, …) or, with columnOrder, down the columns (A1, B1, …).
func (b Box) indexPosition(i int, columnOrder bool) Position {
	if b.Rows < 1 || b.Cols < 1 || i < 1 {
		return Position{}
	}
	if columnOrder {
		return Position{Row: (i-1)%b.Rows + 1, Col: (i-1)/b.Rows + 1}
	}
	return Position{Row: (i-1)/b.Cols + 1, Col: (i-1)%b.Cols + 1}
}

func (s *Service) checkTube(q *gorm.DB, actor auth.Actor, b Box, w Well, held map[Position]string, c *WellCheck) {
	var rows []struct {
		ID        int64
		Accession string
		Status    string
		SiteID    int64
		BoxID     *int64
		Row, Col  *int
	}
	err := q.Raw(`SELECT s.id, s.accession, s.status, s.site_id, p.box_id, p.row, p.col FROM samples s
		LEFT JOIN sample_positions p ON p.sample_id = s.id
		WHERE (s.tube_barcode = ? OR s.accession = ?) AND s.status NOT IN ('consumed', 'destroyed', 'lost') LIMIT 1`,
		w.Tube, strings.ToUpper(w.Tube)).Scan(&rows).Error
	switch {
	case err != nil:
		c.Outcome, c.Message = "conflict", "the tube could not be looked up"
		return
	case len(rows) == 0:
		c.Outcome, c.Message = "unknown", "no live sample has this tube barcode"
		return
	}
	r := rows[0]
	c.Accession = r.Accession
	if acc := held[w.Position]; acc != "" && acc != r.Accession {
		c.Outcome, c.Message = "conflict", fmt.Sprintf("the LIMS has %s at %s", acc, w.Position)
		return
	}
	switch {
	case r.SiteID != b.Freezer.SiteID:
		c.Outcome, c.Message = "conflict", "the tube is in the custody of another site"
	case r.Status != "received" && r.Status != "stored":
		c.Outcome, c.Message = "conflict", fmt.Sprintf("the sample is %s and cannot be stored", strings.ReplaceAll(r.Status, "_", " "))
	case r.BoxID != nil && *r.BoxID == b.ID && *r.Row == w.Position.Row && *r.Col == w.Position.Col:
		c.Outcome = "already"
	case r.BoxID != nil:
		c.Outcome, c.Message = "moved", "moves here from its current position"
	default:
		c.Outcome = "matched"
	}
}

// ImportRack places every tube of a clean preview in one transaction: all or nothing. The
// preview is recomputed under the box lock, so a change since the person looked refuses
// the whole import.
func (s *Service) ImportRack(ctx context.Context, actor auth.Actor, f RackFile) (int, error) {
	var out int
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.ImportRackTx(tx, actor, f)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: import rack %s: %w", f.Rack, err)
	}
	return out, nil
}

// ImportRackTx is ImportRack inside the caller's transaction.
func (s *Service) ImportRackTx(tx *db.Tx, actor auth.Actor, f RackFile) (int, error) {
	if err := actor.Require(labRoles...); err != nil {
		return 0, err
	}
	placed := 0
	err := func() error {
		// The box lock placeIn takes, taken before the preview so that no placement into
		// the box slips in between.
		if err := tx.Exec("SELECT 1 FROM boxes WHERE barcode = ? FOR UPDATE", strings.TrimSpace(f.Rack)).Error; err != nil {
			return err
		}
		p, err := s.preview(tx.DB, actor, f)
		if err != nil {
			return err
		}
		if !p.Clean {
			return apperr.Conflict("rack_not_clean", "file", "The rack file has wells that need attention (unknown tubes, conflicts or unreadable wells): fix them and upload it again.")
		}
		for _, w := range p.Wells {
			if w.Outcome != "matched" && w.Outcome != "moved" {
				continue
			}
			if _, err := s.PlaceTx(tx, actor, p.Box.Barcode, w.Position, w.Accession); err != nil {
				return err
			}
			placed++
		}
		return nil
	}()
	if err != nil {
		return 0, err
	}
	return placed, nil
}
