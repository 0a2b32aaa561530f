package label

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"biobank/internal/apperr"
)

// Line is one line of text on a label: a field of the sample (Field) or fixed text (Text).
type Line struct {
	Field string `json:"field,omitempty"`
	Text  string `json:"text,omitempty"`
}

// Fields a label line can show, in the words the template page uses.
var Fields = map[string]string{
	"accession":      "accession ID",
	"tube_barcode":   "tube barcode",
	"pseudonym":      "pseudonym",
	"study":          "study",
	"visit":          "visit",
	"specimen_type":  "specimen type",
	"specimen_short": "specimen type, short",
	"collected_on":   "collection date",
	"volume":         "volume with unit",
	"sprec":          "SPREC code",
	"position":       "box and position",
}

// Template is how a label looks: its size, its codes (the first the primary, a 2D code or
// Code 128), its lines of text in order, the font size, and the label stock it is meant for.
type Template struct {
	Name     string      `json:"name"`
	WidthMM  float64     `json:"width_mm"`
	HeightMM float64     `json:"height_mm"`
	DPI      int         `json:"dpi"`
	Codes    []Symbology `json:"codes"`
	Lines    []Line      `json:"lines"`
	FontPt   float64     `json:"font_pt"`
	Stock    string      `json:"stock"`
}

// Data is what one label shows: the code its barcodes carry and the fields its lines name.
type Data struct {
	Code   string
	Fields map[string]string
}

// Label sizes printers take, in millimetres.
const (
	MinSizeMM = 5.0
	MaxSizeMM = 120.0
	marginMM  = 1.0
	gapMM     = 1.0
)

// Check refuses a template no printer can print or whose parts are unknown.
func (t Template) Check() error {
	if strings.TrimSpace(t.Name) == "" {
		return apperr.Invalid("name", "Give the template a name.")
	}
	if t.WidthMM < MinSizeMM || t.WidthMM > MaxSizeMM || t.HeightMM < MinSizeMM || t.HeightMM > MaxSizeMM {
		return apperr.Invalid("width_mm", fmt.Sprintf("A label is %.0f to %.0f mm wide and high; this one is %g × %g mm.", MinSizeMM, MaxSizeMM, t.WidthMM, t.HeightMM))
	}
	if err := CheckDPI(t.DPI); err != nil {
		return err
	}
	if len(t.Codes) == 0 {
		return apperr.Invalid("codes", "A label carries at least one code: Data Matrix first for a tube.")
	}
	seen := map[Symbology]bool{}
	for _, c := range t.Codes {
		if !c.Known() || seen[c] {
			return apperr.Invalid("codes", fmt.Sprintf("Codes are datamatrix, code128 and qr, each once; %q is not.", c))
		}
		seen[c] = true
	}
	if t.FontPt < 4 || t.FontPt > 24 {
		return apperr.Invalid("font_pt", "The font size is 4 to 24 points.")
	}
	for i, l := range t.Lines {
		if (l.Field == "") == (l.Text == "") {
			return apperr.Invalid(fmt.Sprintf("lines[%d]", i), "Each line is a field or a fixed text.")
		}
		if _, ok := Fields[l.Field]; l.Field != "" && !ok {
			return apperr.Invalid(fmt.Sprintf("lines[%d]", i), fmt.Sprintf("There is no field %q for a label line.", l.Field))
		}
		if utf8.RuneCountInString(l.Text) > 60 {
			return apperr.Invalid(fmt.Sprintf("lines[%d]", i), "A fixed text has at most 60 characters.")
		}
	}
	if utf8.RuneCountInString(t.Stock) > 40 {
		return apperr.Invalid("stock", "Name the label stock in at most 40 characters.")
	}
	return nil
}

// Item is one thing placed on a label, in millimetres from its top-left corner.
type Item struct {
	Kind      string // "code" or "text"
	X, Y      float64
	W, H      float64
	Matrix    Matrix // Kind code
	Text      string // Kind text
	HeightMM  float64
	LineIndex int // the template line a text item shows; -1 for the stock note
	// Overflow marks a line that does not fit (a preview shows it; printing refuses it).
	Overflow bool
}

// Layout places the template's codes and lines for data: the 2D code at the top left, the
// lines beside it, Code 128 along the bottom, the stock note small at the bottom right. An
// error names the first line that does not fit (a template is checked with the longest
// values of a real sample when it is saved); the items are returned with it, the lines
// that do not fit marked Overflow, so that a preview can show them.
func (t Template) Layout(d Data) ([]Item, error) {
	var items []Item
	dot := 25.4 / float64(t.DPI)
	moduleMM := float64(ModuleDots(t.DPI)) * dot
	textX := marginMM
	bottom := t.HeightMM - marginMM
	for _, sym := range t.Codes {
		m, err := Encode(sym, d.Code)
		if err != nil {
			return nil, err
		}
		if m.Linear() {
			w := float64(m.W) * moduleMM
			h := min(8, (t.HeightMM-2*marginMM)/3)
			if w > t.WidthMM-2*marginMM {
				return nil, apperr.Invalid("codes", fmt.Sprintf("Code 128 of %s is %.1f mm wide and does not fit a %g mm label at %d dpi.", d.Code, w, t.WidthMM, t.DPI))
			}
			bottom -= h
			items = append(items, Item{Kind: "code", X: marginMM, Y: bottom, W: w, H: h, Matrix: m})
			bottom -= gapMM
			continue
		}
		size := float64(m.W) * moduleMM
		if size > t.HeightMM-2*marginMM || textX+size > t.WidthMM-marginMM {
			return nil, apperr.Invalid("codes", fmt.Sprintf("The %s of %s is %.1f mm square and does not fit a %g × %g mm label at %d dpi.",
				sym.name(), d.Code, size, t.WidthMM, t.HeightMM, t.DPI))
		}
		items = append(items, Item{Kind: "code", X: textX, Y: marginMM, W: size, H: size, Matrix: m})
		// The gap keeps the widest quiet zone a neighbouring code needs (QR: 4 modules).
		textX += size + max(gapMM, 4*moduleMM)
	}
	lineH := t.FontPt * 25.4 / 72
	y := marginMM
	var overflow error
	for i, l := range t.Lines {
		text := l.Text
		if l.Field != "" {
			text = d.Fields[l.Field]
		}
		w := textWidthMM(text, lineH)
		it := Item{Kind: "text", X: textX, Y: y, W: w, H: lineH, Text: text, HeightMM: lineH, LineIndex: i}
		var err error
		if y+lineH > bottom+0.01 {
			err = apperr.Invalid(fmt.Sprintf("lines[%d]", i), fmt.Sprintf("Line %d (%s) does not fit: the label is full %.1f mm from its top.", i+1, lineName(l), y))
		} else if textX+w > t.WidthMM-marginMM+0.01 {
			err = apperr.Invalid(fmt.Sprintf("lines[%d]", i), fmt.Sprintf("Line %d (%s, %q) is %.1f mm long; %.1f mm are free beside the code.",
				i+1, lineName(l), text, w, t.WidthMM-marginMM-textX))
		}
		if err != nil {
			it.Overflow = true
			if overflow == nil {
				overflow = err
			}
		}
		items = append(items, it)
		y += lineH * 1.15
	}
	if overflow != nil {
		return items, overflow
	}
	if t.Stock != "" {
		h := min(lineH*0.7, 1.8)
		w := textWidthMM(t.Stock, h)
		if w <= t.WidthMM-textX-marginMM && y+h <= bottom+0.01 {
			items = append(items, Item{Kind: "text", X: t.WidthMM - marginMM - w, Y: bottom - h, W: w, H: h, Text: t.Stock, HeightMM: h, LineIndex: -1})
		}
	}
	return items, nil
}

// textWidthMM estimates how long a line of the printer's scalable font (^A0, Helvetica-like
// condensed) is: 0.55 of its height per character.
func textWidthMM(s string, h float64) float64 {
	return float64(utf8.RuneCountInString(s)) * h * 0.55
}

func lineName(l Line) string {
	if l.Field != "" {
		return Fields[l.Field]
	}
	return "fixed text"
}
