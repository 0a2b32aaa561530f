package custody

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"biobank/internal/input"
)

// CSV is the chain of custody as a spreadsheet, one row per step, oldest first.
func CSV(lines []Line) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"at_utc", "sample", "ancestor", "what", "actor", "site", "reason", "carried_from", "action", "audit_seq"})
	for _, l := range lines {
		seq := strconv.FormatInt(l.Seq, 10)
		if l.Carried {
			seq = "" // a partner's step is not an event of this trail
		}
		row := []string{l.At.UTC().Format(time.RFC3339), l.Sample, strconv.FormatBool(l.Ancestor), l.Text, l.Actor, l.Site, l.Reason,
			l.Instance, l.Action, seq}
		for i := range row {
			row[i] = input.CSVCell(row[i])
		}
		_ = w.Write(row) // a bytes.Buffer does not fail
	}
	w.Flush()
	return buf.Bytes()
}

// PDF is the chain of custody printed for an auditor (A4 landscape): the sample, then
// every step with time, sample, what happened, who, site and reason; steps carried in a
// partner's manifest are marked with the partner's name.
func PDF(accession, summary, printedBy string, printedAt time.Time, lines []Line) ([]byte, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetProducer("biobank", false)
	pdf.SetTitle("Chain of custody "+accession, true)
	pdf.SetMargins(12, 12, 12)
	pdf.SetAutoPageBreak(true, 15)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	t := func(s string) string {
		return tr(strings.NewReplacer("−", "-", "…", "...", "→", "->").Replace(s))
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 5, t(fmt.Sprintf("Chain of custody of %s · printed %s by %s · page %d of {nb}", accession,
			printedAt.UTC().Format("2006-01-02 15:04 UTC"), printedBy, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 15)
	pdf.CellFormat(0, 8, t("Chain of custody of "+accession), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, t(summary), "", "L", false)
	pdf.Ln(2)
	widths := []float64{30, 40, 112, 30, 22, 39}
	head := []string{"When (UTC)", "Sample", "What happened", "Who", "Site", "Reason"}
	header := func() {
		pdf.SetFont("Helvetica", "B", 8)
		for i, h := range head {
			pdf.CellFormat(widths[i], 6, h, "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 8)
	}
	header()
	for _, l := range lines {
		what := l.Text
		if l.Carried {
			what += " [carried from " + l.Instance + "]"
		}
		sample := l.Sample
		if l.Ancestor {
			sample += " (ancestor)"
		}
		cells := []string{l.At.UTC().Format("2006-01-02 15:04"), sample, what, l.Actor, l.Site, l.Reason}
		// The row is as tall as its longest cell, wrapped.
		rows := 1
		for i, c := range cells {
			if n := len(pdf.SplitText(t(c), widths[i]-2)); n > rows {
				rows = n
			}
		}
		h := float64(rows) * 4.5
		if pdf.GetY()+h > 195 {
			pdf.AddPage()
			header()
		}
		x, y := pdf.GetX(), pdf.GetY()
		for i, c := range cells {
			pdf.Rect(x, y, widths[i], h, "D")
			pdf.SetXY(x+1, y+0.5)
			pdf.MultiCell(widths[i]-2, 4.5, t(c), "", "L", false)
			x += widths[i]
		}
		pdf.SetXY(12, y+h)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("custody: pdf: %w", err)
	}
	return buf.Bytes(), nil
}
