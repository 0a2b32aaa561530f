package label_test

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"biobank/internal/apperr"
	"biobank/internal/label"
)

// decode reads a barcode back from an image with a decoder written independently of the
// encoder (gozxing, a port of ZXing): what was drawn is what a scanner reads.
func decode(t *testing.T, sym label.Symbology, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	var r gozxing.Reader
	switch sym {
	case label.DataMatrix:
		r = datamatrix.NewDataMatrixReader()
	case label.Code128:
		r = oned.NewCode128Reader()
	case label.QR:
		r = qrcode.NewQRCodeReader()
	}
	res, err := r.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		// A rasterised code whose modules are not a whole number of pixels: find it instead.
		res, err = r.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		t.Fatalf("%s: the rendered code does not decode: %v", sym, err)
	}
	return res.GetText()
}

// Every symbology, at every printer resolution, decodes to the code it was made from.
func TestPNG_RoundTrip(t *testing.T) {
	codes := []string{"AC00000001NN", "FX00012345", "LUX-BX0007", "0003Y0WZ"}
	for _, sym := range label.Symbologies {
		for _, dpi := range label.DPIs {
			for _, code := range codes {
				m, err := label.Encode(sym, code)
				if err != nil {
					t.Fatalf("%s %s: %v", sym, code, err)
				}
				img, err := png.Decode(bytes.NewReader(label.PNG(m, label.ModuleDots(dpi), dpi)))
				if err != nil {
					t.Fatal(err)
				}
				if got := decode(t, sym, img); got != code {
					t.Errorf("%s at %d dpi: %q decodes as %q", sym, dpi, code, got)
				}
			}
		}
	}
}

func TestPNG_ModulesAndQuietZone(t *testing.T) {
	m, err := label.Encode(label.DataMatrix, "AC00000001NN")
	if err != nil {
		t.Fatal(err)
	}
	for dpi, n := range map[int]int{203: 2, 300: 3, 600: 6} {
		if got := label.ModuleDots(dpi); got != n {
			t.Errorf("ModuleDots(%d) = %d, want %d", dpi, got, n)
		}
		img, _ := png.Decode(bytes.NewReader(label.PNG(m, n, dpi)))
		if w := img.Bounds().Dx(); w != (m.W+2)*n {
			t.Errorf("at %d dpi the image is %d px wide, want %d modules of %d px with a 1-module quiet zone", dpi, w, m.W+2, n)
		}
		// The quiet zone is white all round.
		for x := 0; x < img.Bounds().Dx(); x++ {
			if r, _, _, _ := img.At(x, 0).RGBA(); r != 0xffff {
				t.Fatalf("at %d dpi the top quiet zone is not white at x=%d", dpi, x)
			}
		}
	}
}

func TestEncode_Refusals(t *testing.T) {
	for _, tc := range []struct {
		sym  label.Symbology
		code string
	}{
		{label.DataMatrix, "ÄC0001"},
		{label.Code128, "tube\x01"},
		{label.Symbology("pdf417"), "AC1"},
		{label.DataMatrix, ""},
		{label.DataMatrix, string(bytes.Repeat([]byte("A"), 5000))},
	} {
		if _, err := label.Encode(tc.sym, tc.code); err == nil {
			t.Errorf("%s %.20q encoded", tc.sym, tc.code)
		} else if _, ok := apperr.AsValidation(err); !ok {
			t.Errorf("%s %.20q: %v, want a validation error saying why", tc.sym, tc.code, err)
		}
	}
	// QR takes any text.
	if _, err := label.Encode(label.QR, "Überprüfung ✓"); err != nil {
		t.Errorf("QR refused UTF-8: %v", err)
	}
	for _, dpi := range []int{0, 150, 204, 1200} {
		if label.CheckDPI(dpi) == nil {
			t.Errorf("%d dpi accepted", dpi)
		}
	}
}
