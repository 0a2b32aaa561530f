package label_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"biobank/internal/apperr"
	"biobank/internal/label"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sampleData is one aliquot's label data.
var sampleData = label.Data{Code: "AC00000001NN", Fields: map[string]string{
	"accession": "AC00000001NN", "pseudonym": "0003Y0WZ", "study": "IBD", "visit": "Baseline",
	"specimen_type": "Plasma", "specimen_short": "PL1", "collected_on": "2026-11-30", "volume": "0.5 mL",
	"sprec": "PL1-PED-A-B-N-B-A", "position": "LUX-BX0007 A1", "tube_barcode": "FX00012345",
}}

// cryoTemplate is a 32 × 13 mm cryo label with a Data Matrix and four lines.
func cryoTemplate(dpi int) label.Template {
	return label.Template{Name: "cryo", WidthMM: 32, HeightMM: 13, DPI: dpi, Codes: []label.Symbology{label.DataMatrix},
		Lines:  []label.Line{{Field: "accession"}, {Field: "pseudonym"}, {Field: "specimen_short"}, {Field: "volume"}},
		FontPt: 5, Stock: "cryo −196 °C"}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "zpl", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/label -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("ZPL differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// Golden files: each element alone and the whole cryo label, at every resolution.
func TestZPL_Golden(t *testing.T) {
	for _, dpi := range label.DPIs {
		elements := map[string]label.Template{
			"datamatrix": {Name: "dm", WidthMM: 20, HeightMM: 10, DPI: dpi, Codes: []label.Symbology{label.DataMatrix}, FontPt: 6},
			"qr":         {Name: "qr", WidthMM: 20, HeightMM: 12, DPI: dpi, Codes: []label.Symbology{label.QR}, FontPt: 6},
			"code128":    {Name: "c128", WidthMM: 50, HeightMM: 15, DPI: dpi, Codes: []label.Symbology{label.Code128}, FontPt: 6},
			"text":       {Name: "text", WidthMM: 40, HeightMM: 10, DPI: dpi, Codes: []label.Symbology{label.DataMatrix}, FontPt: 6, Lines: []label.Line{{Text: "^caret ~tilde _under ü"}}},
			"cryo":       cryoTemplate(dpi),
		}
		for name, tpl := range elements {
			if err := tpl.Check(); err != nil {
				t.Fatalf("%s at %d dpi: %v", name, dpi, err)
			}
			got, err := label.ZPL(tpl, []label.Data{sampleData}, 1)
			if err != nil {
				t.Fatalf("%s at %d dpi: %v", name, dpi, err)
			}
			golden(t, fmt.Sprintf("%s-%d.zpl", name, dpi), got)
		}
	}
}

func TestZPL_BatchAndCopies(t *testing.T) {
	other := sampleData
	other.Code = "AC00000002LL"
	got, err := label.ZPL(cryoTemplate(300), []label.Data{sampleData, other}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(got, "^XA"); n != 6 || strings.Count(got, "^XZ") != 6 {
		t.Errorf("%d labels, want 2 × 3 copies", n)
	}
	if !strings.Contains(got, "^FDAC00000002LL^FS") || !strings.HasPrefix(got, "^XA\n^CI28\n") {
		t.Errorf("batch:\n%s", got)
	}
	// Dots come from millimetres and the resolution: 32 mm at 300 dpi is 378 dots.
	if !strings.Contains(got, "^PW378\n^LL154\n") {
		t.Errorf("label size in dots:\n%s", got[:60])
	}
}

// A line too long for the label, a label too full, sizes and resolutions printers do not
// take: refused naming the part.
func TestTemplate_Refusals(t *testing.T) {
	long := cryoTemplate(300)
	long.Lines = append(long.Lines, label.Line{Field: "sprec"})
	long.WidthMM = 22
	_, err := long.Layout(sampleData)
	if v, ok := apperr.AsValidation(err); !ok || v.Field != "lines[4]" || !strings.Contains(v.Message, "SPREC") {
		t.Errorf("a SPREC line on a 32 mm label: %v, want lines[4] named", err)
	}
	full := cryoTemplate(300)
	full.FontPt = 9
	if _, err := full.Layout(sampleData); err == nil {
		t.Error("four 9 pt lines fit on a 13 mm label")
	}
	for _, bad := range []label.Template{
		{Name: "", WidthMM: 30, HeightMM: 10, DPI: 300, Codes: []label.Symbology{label.DataMatrix}, FontPt: 6},
		{Name: "tiny", WidthMM: 3, HeightMM: 10, DPI: 300, Codes: []label.Symbology{label.DataMatrix}, FontPt: 6},
		{Name: "dpi", WidthMM: 30, HeightMM: 10, DPI: 150, Codes: []label.Symbology{label.DataMatrix}, FontPt: 6},
		{Name: "no code", WidthMM: 30, HeightMM: 10, DPI: 300, FontPt: 6},
		{Name: "twice", WidthMM: 30, HeightMM: 10, DPI: 300, Codes: []label.Symbology{label.QR, label.QR}, FontPt: 6},
		{Name: "font", WidthMM: 30, HeightMM: 10, DPI: 300, Codes: []label.Symbology{label.QR}, FontPt: 40},
		{Name: "field", WidthMM: 30, HeightMM: 10, DPI: 300, Codes: []label.Symbology{label.QR}, FontPt: 6, Lines: []label.Line{{Field: "name"}}},
	} {
		if bad.Check() == nil {
			t.Errorf("template %+v accepted", bad)
		}
	}
}
