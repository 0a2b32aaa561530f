package label_test

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"biobank/internal/label"
)

func sheetData(n int) []label.Data {
	out := make([]label.Data, n)
	for i := range out {
		d := label.Data{Code: fmt.Sprintf("AC%08dNN", i+1), Fields: map[string]string{}}
		for k, v := range sampleData.Fields {
			d.Fields[k] = v
		}
		d.Fields["accession"] = d.Code
		out[i] = d
	}
	return out
}

var pageObject = regexp.MustCompile(`/Type /Page\b[^s]`)

// A batch takes as many pages as the sheet's grid needs, one label per data.
func TestPDF_PagesAndLabels(t *testing.T) {
	tpl := cryoTemplate(300)
	sheet, err := label.SheetByName("a4-grid")
	if err != nil {
		t.Fatal(err)
	}
	pdf, g, err := label.PDF(tpl, sheet, sheetData(100), 1)
	if err != nil {
		t.Fatal(err)
	}
	perPage := g.Cols * g.Rows
	wantPages := (100 + perPage - 1) / perPage
	if n := len(pageObject.FindAll(pdf, -1)); n != wantPages {
		t.Errorf("%d pages for 100 labels of %d per page, want %d", n, perPage, wantPages)
	}
	if _, _, err := label.PDF(tpl, sheet, sheetData(3), 2); err != nil {
		t.Error(err)
	}
	if _, err := label.SheetByName("letter-99"); err == nil {
		t.Error("an unknown sheet accepted")
	}
	// Each preset takes a label of its size.
	for _, s := range label.Sheets {
		small := tpl
		small.Lines = small.Lines[:2]
		if _, _, err := label.PDF(small, s, sheetData(1), 1); err != nil {
			t.Errorf("sheet %s: %v", s.Name, err)
		}
	}
}

// The codes drawn on a sheet, rasterised by poppler's pdftoppm, read back as their
// samples' codes: every symbology, at every resolution the codes are made for.
func TestPDF_RoundTrip(t *testing.T) {
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("the PDF round trip needs pdftoppm (Debian's poppler-utils, which .ci/run installs)")
	}
	for _, dpi := range label.DPIs {
		tpl := label.Template{Name: "all codes", WidthMM: 60, HeightMM: 30, DPI: dpi, FontPt: 6,
			Codes: []label.Symbology{label.DataMatrix, label.QR, label.Code128}, Lines: []label.Line{{Field: "accession"}}}
		sheet, _ := label.SheetByName("a4-grid")
		data := sheetData(4)
		pdf, g, err := label.PDF(tpl, sheet, data, 1)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "sheet.pdf")
		if err := os.WriteFile(path, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		const raster = 600
		if out, err := exec.Command(pdftoppm, "-r", fmt.Sprint(raster), "-aa", "no", "-aaVector", "no", "-png", "-f", "1", "-l", "1", "-singlefile", path, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
		f, err := os.Open(filepath.Join(dir, "page.png"))
		if err != nil {
			t.Fatal(err)
		}
		page, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		px := func(mm float64) int { return int(mm * raster / 25.4) }
		for i, d := range data {
			ox, oy := g.Origin(i)
			lt := tpl
			lt.WidthMM, lt.HeightMM = g.LabelW, g.LabelH
			items, err := lt.Layout(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Kind != "code" {
					continue
				}
				// The code with a quiet zone around it (on the sheet, the label's own margin
				// and the gap to the next code).
				q := 0.5 // 2D codes: half the gap to the next code
				if it.Matrix.Symbology == label.Code128 {
					q = 0.9
				}
				r := image.Rect(px(ox+it.X-q), px(oy+it.Y-q), px(ox+it.X+it.W+q), px(oy+it.Y+it.H+q))
				crop := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
				for y := 0; y < r.Dy(); y++ {
					for x := 0; x < r.Dx(); x++ {
						crop.Set(x, y, page.At(r.Min.X+x, r.Min.Y+y))
					}
				}
				if got := decode(t, it.Matrix.Symbology, crop); got != d.Code {
					t.Errorf("%s at %d dpi, label %d: decodes as %q, want %q", it.Matrix.Symbology, dpi, i, got, d.Code)
				}
			}
		}
	}
}

// BenchmarkPDF_Sheet96 renders a sheet of 96 cryo labels.
func BenchmarkPDF_Sheet96(b *testing.B) {
	tpl := cryoTemplate(300)
	sheet, _ := label.SheetByName("a4-grid")
	data := sheetData(96)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := label.PDF(tpl, sheet, data, 1); err != nil {
			b.Fatal(err)
		}
	}
}
