package shipment

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"biobank/internal/label"
	"biobank/internal/storage"
)

// Party is a shipper or consignee as the printed manifest names it.
type Party struct {
	Name, Code, Country string
}

// Parties are the shipment's shipper and consignee.
func (s Shipment) Parties() (shipper, consignee Party) {
	shipper = Party{Name: s.Origin.Name, Code: s.Origin.Code, Country: s.Origin.Country}
	if s.Destination != nil {
		consignee = Party{Name: s.Destination.Name, Code: s.Destination.Code, Country: s.Destination.Country}
	} else {
		consignee = Party{Name: s.DestinationExternal, Country: s.DestinationCountry()}
	}
	return shipper, consignee
}

// PDF is the printable manifest (A4): shipper and consignee, responsible person, courier
// and tracking, the condition with its UN lines, the shipment code as Code 128 (the code
// its labels carry), then per box its map and tubes, then the tubes packed loose — each
// with accession ID, tube barcode, type, volume with unit, SPREC code and position.
func (m Manifest) PDF(shipper, consignee Party) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetProducer("biobank", false)
	pdf.SetTitle("Manifest "+m.Shipment, true)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 18)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	t := func(s string) string {
		return tr(strings.NewReplacer("−", "-", "…", "...", "×", "x").Replace(s))
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 5, t(fmt.Sprintf("Manifest %s · created %s · page %d of {nb}", m.Shipment, m.CreatedAt, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(120, 8, t("Shipment manifest "+m.Shipment), "", 1, "L", false, 0, "")
	if code, err := label.Encode(label.Code128, m.Shipment); err == nil {
		pdf.SetFillColor(0, 0, 0)
		label.DrawCode(pdf, code, 15, pdf.GetY()+1, 0.33, 12)
		pdf.SetY(pdf.GetY() + 15)
	}
	pdf.SetFont("Helvetica", "", 10)
	party := func(title string, p Party) string {
		s := title + ": " + p.Name
		if p.Code != "" {
			s += " (" + p.Code + ")"
		}
		if p.Country != "" {
			s += ", " + p.Country
		}
		return s
	}
	for _, line := range []string{
		party("Shipper", shipper), party("Consignee", consignee),
		"Responsible person: " + dash(m.Responsible),
		"Courier: " + dash(m.Courier) + "    Tracking: " + dash(m.Tracking) + "    Data logger: " + dash(m.DataLogger),
		"Condition: " + Conditions[m.Condition],
	} {
		pdf.MultiCell(0, 5.5, t(line), "", "L", false)
	}
	pdf.SetFont("Helvetica", "B", 11)
	for _, l := range m.UNLines {
		pdf.CellFormat(0, 7, t(l), "1", 1, "L", false, 0, "")
	}
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5.5, t(fmt.Sprintf("%s: %s whole, %d loose.", count(len(m.Items), "tube"), count(len(m.Boxes), "box"), m.looseCount())), "", "L", false)

	for _, b := range m.Boxes {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.CellFormat(0, 7, t(fmt.Sprintf("Box %s (%d × %d)", b.Barcode, b.Rows, b.Cols)), "", 1, "L", false, 0, "")
		m.boxMap(pdf, b)
		m.itemTable(pdf, t, b.Barcode)
	}
	if m.looseCount() > 0 {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.CellFormat(0, 7, "Tubes packed loose", "", 1, "L", false, 0, "")
		m.itemTable(pdf, t, "")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("shipment: manifest pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// count says n things: "1 box", "2 boxes".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if strings.HasSuffix(thing, "x") {
		return fmt.Sprintf("%d %ses", n, thing)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func (m Manifest) looseCount() int {
	n := 0
	for _, it := range m.Items {
		if it.Box == "" {
			n++
		}
	}
	return n
}

// boxMap draws a box's grid with its packed positions filled and labelled.
func (m Manifest) boxMap(pdf *fpdf.Fpdf, b ManifestBox) {
	used := map[string]bool{}
	for _, it := range m.Items {
		if it.Box == b.Barcode {
			used[it.Position] = true
		}
	}
	cell := 6.0
	if b.Cols > 12 {
		cell = 150.0 / float64(b.Cols)
	}
	if float64(b.Rows+1)*cell > 250-pdf.GetY() {
		pdf.AddPage()
	}
	x0, y0 := 15.0, pdf.GetY()
	pdf.SetFont("Helvetica", "", 6)
	for c := 1; c <= b.Cols; c++ {
		pdf.Text(x0+float64(c)*cell+cell/3, y0+cell*0.7, fmt.Sprint(c))
	}
	for r := 1; r <= b.Rows; r++ {
		y := y0 + float64(r)*cell
		pdf.Text(x0+cell/3, y+cell*0.7, string(rune('A'+r-1)))
		for c := 1; c <= b.Cols; c++ {
			x := x0 + float64(c)*cell
			style := "D"
			if used[storage.Position{Row: r, Col: c}.String()] {
				pdf.SetFillColor(180, 180, 180)
				style = "FD"
			}
			pdf.Rect(x, y, cell, cell, style)
		}
	}
	pdf.SetY(y0 + float64(b.Rows+1)*cell + 2)
}

// itemTable lists the tubes of a box (or, for "", those packed loose).
func (m Manifest) itemTable(pdf *fpdf.Fpdf, t func(string) string, box string) {
	widths := []float64{30, 32, 32, 22, 48, 16}
	head := []string{"Accession ID", "Tube barcode", "Type", "Volume", "SPREC", "Position"}
	pdf.SetFont("Helvetica", "B", 8)
	for i, h := range head {
		pdf.CellFormat(widths[i], 6, h, "1", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 8)
	for _, it := range m.Items {
		if it.Box != box {
			continue
		}
		for i, v := range []string{it.Accession, it.TubeBarcode, it.SpecimenType, it.Volume + " " + it.Unit, it.SPREC, it.Position} {
			pdf.CellFormat(widths[i], 5.5, t(v), "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
}
