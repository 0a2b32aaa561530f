package label

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"biobank/internal/apperr"
)

// Sheet is a page of labels for an office printer: its size, the grid of labels and the
// margins and gaps between them, in millimetres.
type Sheet struct {
	Name                   string
	Label                  string // for people
	PageW, PageH           float64
	Cols, Rows             int
	LabelW, LabelH         float64
	MarginLeft, MarginTop  float64
	GapX, GapY             float64
	FitTemplateLabelToGrid bool // the plain grid takes the template's label size
}

// Sheets are the sheet presets: two common cryo-label sheets and a plain A4 grid.
var Sheets = []Sheet{
	{Name: "cryo-32x13-a4", Label: "cryo labels 32.5 × 12.7 mm, 5 × 20 on A4", PageW: 210, PageH: 297, Cols: 5, Rows: 20,
		LabelW: 32.5, LabelH: 12.7, MarginLeft: 18.75, MarginTop: 16.75, GapX: 2.5, GapY: 0.5},
	{Name: "cryo-25x10-a4", Label: "cryo labels 25.4 × 9.5 mm, 7 × 25 on A4", PageW: 210, PageH: 297, Cols: 7, Rows: 25,
		LabelW: 25.4, LabelH: 9.5, MarginLeft: 10.1, MarginTop: 17.75, GapX: 2, GapY: 1},
	{Name: "a4-grid", Label: "plain A4, a grid of the template's label size", PageW: 210, PageH: 297, MarginLeft: 10, MarginTop: 10,
		GapX: 2, GapY: 2, FitTemplateLabelToGrid: true},
}

// SheetByName finds a preset; "" is the plain A4 grid.
func SheetByName(name string) (Sheet, error) {
	if name == "" {
		name = "a4-grid"
	}
	for _, s := range Sheets {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(Sheets))
	for i, s := range Sheets {
		names[i] = s.Name
	}
	return Sheet{}, apperr.Invalid("sheet", fmt.Sprintf("The sheet is one of %s.", strings.Join(names, ", ")))
}

// grid is the sheet for template t: a plain grid fits as many of t's labels as the page
// holds.
func (s Sheet) grid(t Template) Sheet {
	if !s.FitTemplateLabelToGrid {
		return s
	}
	s.LabelW, s.LabelH = t.WidthMM, t.HeightMM
	s.Cols = int((s.PageW - 2*s.MarginLeft + s.GapX) / (s.LabelW + s.GapX))
	s.Rows = int((s.PageH - 2*s.MarginTop + s.GapY) / (s.LabelH + s.GapY))
	return s
}

// Origin is where label i of a page (row by row) starts.
func (s Sheet) Origin(i int) (x, y float64) {
	col, row := i%s.Cols, i/s.Cols
	return s.MarginLeft + float64(col)*(s.LabelW+s.GapX), s.MarginTop + float64(row)*(s.LabelH+s.GapY)
}

// PDF draws the labels on sheets, in order, as many pages as they need: codes as vector
// rectangles of the exact module size, text in Helvetica. It returns the PDF and the sheet
// used (its grid resolved), so a caller can find each label.
func PDF(t Template, sheet Sheet, labels []Data, copies int) ([]byte, Sheet, error) {
	if copies < 1 {
		copies = 1
	}
	g := sheet.grid(t)
	if g.Cols < 1 || g.Rows < 1 {
		return nil, g, apperr.Invalid("sheet", fmt.Sprintf("A %g × %g mm label does not fit on the %s sheet.", t.WidthMM, t.HeightMM, sheet.Name))
	}
	lt := t
	lt.WidthMM, lt.HeightMM = g.LabelW, g.LabelH
	var all [][]Item
	for _, d := range labels {
		items, err := lt.Layout(d)
		if err != nil {
			return nil, g, err
		}
		for range copies {
			all = append(all, items)
		}
	}
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: g.PageW, Ht: g.PageH}})
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreationDate(time.Unix(0, 0).UTC()) // the same labels give the same file
	pdf.SetProducer("biobank", false)
	pdf.SetFillColor(0, 0, 0)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252, Helvetica's encoding
	perPage := g.Cols * g.Rows
	module := float64(ModuleDots(t.DPI)) * 25.4 / float64(t.DPI)
	for i, items := range all {
		if i%perPage == 0 {
			pdf.AddPage()
		}
		ox, oy := g.Origin(i % perPage)
		for _, it := range items {
			switch it.Kind {
			case "code":
				drawCode(pdf, it, ox+it.X, oy+it.Y, module)
			case "text":
				pt := it.HeightMM * 72 / 25.4
				pdf.SetFont("Helvetica", "", pt)
				pdf.Text(ox+it.X, oy+it.Y+it.HeightMM*0.8, tr(strings.ReplaceAll(it.Text, "−", "-")))
			}
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, g, fmt.Errorf("label: pdf: %w", err)
	}
	return buf.Bytes(), g, nil
}

// drawCode draws a code's dark modules as filled rectangles: one per run of dark modules
// along a row (a bar of Code 128 is one rectangle).
func drawCode(pdf *fpdf.Fpdf, it Item, x, y, module float64) {
	DrawCode(pdf, it.Matrix, x, y, module, it.H)
}

// DrawCode draws m at (x, y) on pdf with modules of module mm; a linear code's bars are
// height mm tall.
func DrawCode(pdf *fpdf.Fpdf, m Matrix, x, y, module, height float64) {
	for r := 0; r < m.H; r++ {
		for c := 0; c < m.W; {
			if !m.Dark(c, r) {
				c++
				continue
			}
			start := c
			for c < m.W && m.Dark(c, r) {
				c++
			}
			h := module
			if m.Linear() {
				h = height
			}
			pdf.Rect(x+float64(start)*module, y+float64(r)*module, float64(c-start)*module, h, "F")
		}
	}
}
