// Package label draws the codes and labels that go on tubes and boxes: barcodes as PNG
// (github.com/boombuler/barcode: Data Matrix ECC 200, Code 128, QR), and labels as ZPL for
// thermal printers, laid out from a template in millimetres and turned into printer dots
// (STANDARDS.md §6).
package label

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/datamatrix"
	"github.com/boombuler/barcode/qr"

	"biobank/internal/apperr"
)

// Symbology is a kind of barcode.
type Symbology string

const (
	DataMatrix Symbology = "datamatrix" // ECC 200, the primary code for cryovials
	Code128    Symbology = "code128"    // the secondary, linear code
	QR         Symbology = "qr"         // where a phone scans
)

// Symbologies are those a label can carry.
var Symbologies = []Symbology{DataMatrix, Code128, QR}

// Known reports whether s is one of Symbologies.
func (s Symbology) Known() bool { return s == DataMatrix || s == Code128 || s == QR }

// QuietZone is the blank margin a reader needs around the code, in modules (ISO/IEC 16022,
// 15417, 18004).
func (s Symbology) QuietZone() int {
	switch s {
	case Code128:
		return 10
	case QR:
		return 4
	}
	return 1
}

// DPIs are the printer resolutions labels are made for.
var DPIs = []int{203, 300, 600}

// CheckDPI refuses a resolution printers do not have.
func CheckDPI(dpi int) error {
	for _, d := range DPIs {
		if d == dpi {
			return nil
		}
	}
	return apperr.Invalid("dpi", fmt.Sprintf("Label printers print at 203, 300 or 600 dots per inch, not %d.", dpi))
}

// Matrix is a barcode as modules: Dark(x, y) for x < W, y < H. A linear code (Code 128)
// has H = 1; its bars are drawn as tall as the label asks.
type Matrix struct {
	Symbology Symbology
	Content   string
	W, H      int
	dark      []bool
}

// Dark reports whether the module at x, y is dark.
func (m Matrix) Dark(x, y int) bool { return m.dark[y*m.W+x] }

// Linear reports whether the code is one row of bars.
func (m Matrix) Linear() bool { return m.H == 1 }

// Encode makes the barcode of content, or says why the symbology cannot carry it.
func Encode(sym Symbology, content string) (Matrix, error) {
	if content == "" {
		return Matrix{}, apperr.Invalid("code", "There is no code to encode.")
	}
	if sym == DataMatrix || sym == Code128 {
		for i, r := range content {
			if r < 0x20 || r > 0x7e {
				return Matrix{}, apperr.Invalid("symbology", fmt.Sprintf(
					"%s encodes letters, digits and ASCII punctuation only; %q has %q at position %d. Use QR for other characters.",
					sym.name(), content, r, i+1))
			}
		}
	}
	var bc barcode.Barcode
	var err error
	switch sym {
	case DataMatrix:
		bc, err = datamatrix.Encode(content)
	case Code128:
		bc, err = code128.Encode(content)
	case QR:
		bc, err = qr.Encode(content, qr.M, qr.Auto)
	default:
		return Matrix{}, apperr.Invalid("symbology", fmt.Sprintf("The barcode kind is one of datamatrix, code128 or qr, not %q.", sym))
	}
	if err != nil {
		return Matrix{}, apperr.Invalid("code", fmt.Sprintf("%s cannot encode %q: %v.", sym.name(), content, err))
	}
	b := bc.Bounds()
	m := Matrix{Symbology: sym, Content: content, W: b.Dx(), H: b.Dy()}
	if sym == Code128 {
		m.H = 1
	}
	m.dark = make([]bool, m.W*m.H)
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			r, _, _, _ := bc.At(b.Min.X+x, b.Min.Y+y).RGBA()
			m.dark[y*m.W+x] = r < 0x8000
		}
	}
	return m, nil
}

func (s Symbology) name() string {
	switch s {
	case DataMatrix:
		return "Data Matrix"
	case Code128:
		return "Code 128"
	case QR:
		return "QR"
	}
	return string(s)
}

// ModuleDots is the size of one module at dpi: the nearest whole number of dots to 0.25 mm
// (so 2 at 203 dpi, 3 at 300, 6 at 600), never less than 2 so that a module survives a
// printer's dot gain.
func ModuleDots(dpi int) int {
	n := int(float64(dpi)*0.25/25.4 + 0.5)
	if n < 2 {
		n = 2
	}
	return n
}

// PNG draws m with each module n × n pixels (Code 128: bars 15 mm tall at dpi, at least
// 0.25 inch, as ISO/IEC 15417 asks), inside its quiet zone, black on white.
func PNG(m Matrix, n, dpi int) []byte {
	q := m.Symbology.QuietZone()
	w := (m.W + 2*q) * n
	rows := m.H
	barHeight := n
	if m.Linear() {
		barHeight = max(int(float64(dpi)*15/25.4), dpi/4) // 15 mm, at least a quarter inch
		rows = 1
	}
	qy := q * n
	if m.Linear() {
		qy = n * 2
	}
	h := rows*barHeight + 2*qy
	if !m.Linear() {
		h = (m.H + 2*q) * n
	}
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
	for y := 0; y < rows; y++ {
		for x := 0; x < m.W; x++ {
			if !m.Dark(x, y) {
				continue
			}
			x0 := (q + x) * n
			y0, y1 := qy+y*n, qy+(y+1)*n
			if m.Linear() {
				y0, y1 = qy, qy+barHeight
			}
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x0+n; xx++ {
					img.SetColorIndex(xx, yy, 1)
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}
