package shipment

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestManifestPDF_ListsEveryTubeAsItsLabelSaysIt renders a manifest with a box and a loose
// tube and reads the PDF's text back with poppler's pdftotext: shipper, consignee, the UN
// lines and every tube's accession ID, barcode, SPREC code and position are on it.
func TestManifestPDF_ListsEveryTubeAsItsLabelSaysIt(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("the manifest test needs pdftotext (Debian's poppler-utils, which .ci/run installs)")
	}
	m := Manifest{Shipment: "SHAC000001EE", CreatedAt: "2026-11-30T10:00:00Z", Condition: "dry_ice", Courier: "World Courier",
		Tracking: "WC-77", Responsible: "Study coordinator, +352 000",
		UNLines: []string{"UN3373 Biological Substance, Category B", "UN1845 Dry ice, 4.5 kg net"},
		Boxes:   []ManifestBox{{Barcode: "BOX-0017", Rows: 9, Cols: 9}},
		Items: []ManifestItem{
			{Accession: "AC0000001A7", TubeBarcode: "FX10001", SpecimenType: "plasma", Volume: "0.5", Unit: "mL", SPREC: "PL1-PED-A-RT-B-C-C", Box: "BOX-0017", Position: "A1"},
			{Accession: "AC0000002B3", TubeBarcode: "FX10002", SpecimenType: "serum", Volume: "0.5", Unit: "mL", SPREC: "SER-SST-A-RT-B-C-C", Box: "BOX-0017", Position: "C4"},
			{Accession: "AC0000003C9", SpecimenType: "whole_blood", Volume: "9", Unit: "mL", SPREC: "BLD-PED-A-X-X-X-X"},
		}}
	doc, err := m.PDF(Party{Name: "Luxembourg biobank", Code: "LUX", Country: "LU"}, Party{Name: "Kiel biobank", Code: "KIEL", Country: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	text := string(out)
	for _, want := range []string{"Shipment manifest SHAC000001EE", "Shipper: Luxembourg biobank (LUX), LU", "Consignee: Kiel biobank (KIEL), DE",
		"UN3373 Biological Substance, Category B", "UN1845 Dry ice, 4.5 kg net", "World Courier", "WC-77", "Study coordinator",
		"Box BOX-0017 (9 x 9)", "Tubes packed loose", "AC0000001A7", "FX10001", "PL1-PED-A-RT-B-C-C", "C4", "AC0000003C9", "9 mL", "page 1 of 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the manifest PDF does not say %q:\n%s", want, text)
		}
	}
}
