package web_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/oned"

	"biobank/web"
)

// TestLabelImage: GET /labels/{code}.png draws the code of a sample or a box, decodable,
// cacheable; an unknown code is 404 and options no printer has are 422.
func TestLabelImage(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	labelled := bloodTube
	labelled.TubeBarcode = "FX00044444"
	acc := a.mustCollect(t, "nurse", pseudonym, labelled)[0]
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BOX-LBL-1", f, "", 9, 9)
	c := a.signedIn(t, "technician")

	for _, tc := range []struct{ path, want string }{
		{"/labels/" + acc + ".png", acc},
		{"/labels/" + acc + ".png?dpi=203", acc},
		{"/labels/FX00044444.png?symbology=code128&dpi=600", "FX00044444"},
		{"/labels/BOX-LBL-1.png", "BOX-LBL-1"},
	} {
		p := c.get(t, tc.path).wantStatus(t, http.StatusOK)
		if ct := p.Header.Get("Content-Type"); ct != "image/png" {
			t.Fatalf("%s: Content-Type %q", tc.path, ct)
		}
		img, err := png.Decode(bytes.NewReader([]byte(p.Body)))
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		var r gozxing.Reader = datamatrix.NewDataMatrixReader()
		if tc.want == "FX00044444" {
			r = oned.NewCode128Reader()
		}
		res, err := r.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil || res.GetText() != tc.want {
			t.Errorf("%s decodes as %v, %v; want %s", tc.path, res, err, tc.want)
		}
		etag := p.Header.Get("ETag")
		if etag == "" || p.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" {
			t.Errorf("%s: ETag %q, Cache-Control %q", tc.path, etag, p.Header.Get("Cache-Control"))
		}
		req, _ := http.NewRequest("GET", a.ts.URL+tc.path, nil)
		req.Header.Set("If-None-Match", etag)
		if again := c.do(t, req); again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", tc.path, again.StatusCode)
		}
	}
	c.get(t, "/labels/NOSUCHCODE1.png").wantStatus(t, http.StatusNotFound)
	c.get(t, "/labels/"+acc+".gif").wantStatus(t, http.StatusNotFound)
	c.get(t, "/labels/"+acc+".png?symbology=pdf417").wantStatus(t, http.StatusUnprocessableEntity)
	c.get(t, "/labels/"+acc+".png?dpi=150").wantStatus(t, http.StatusUnprocessableEntity)
	c.get(t, "/labels/"+acc+".png?dpi=many").wantStatus(t, http.StatusUnprocessableEntity)
	a.newClient(t).get(t, "/labels/"+acc+".png").wantRedirect(t, "/login?next=%2Flabels%2F"+acc+".png")
}

// TestLabelSheet: a PDF sheet of several samples' labels, for an office printer.
func TestLabelSheet(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	ids := a.mustAliquots(t, "nurse", "technician", 3)
	c := a.signedIn(t, "technician")
	p := c.get(t, "/labels/sheet.pdf?samples="+strings.Join(ids, ",")+"&sheet=cryo-32x13-a4&copies=2").wantStatus(t, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); ct != "application/pdf" || !strings.HasPrefix(p.Body, "%PDF-") {
		t.Fatalf("Content-Type %q, body %.20q", ct, p.Body)
	}
	c.get(t, "/labels/sheet.pdf?samples="+ids[0]+"&sheet=letter-99").wantStatus(t, http.StatusUnprocessableEntity)
	c.get(t, "/labels/sheet.pdf?samples=AC99999999ZZ").wantStatus(t, http.StatusUnprocessableEntity)
	c.get(t, "/labels/sheet.pdf").wantStatus(t, http.StatusUnprocessableEntity)
	many := strings.TrimSuffix(strings.Repeat(ids[0]+",", 501), ",")
	c.get(t, "/labels/sheet.pdf?copies=2&samples="+many).wantStatus(t, http.StatusUnprocessableEntity)

	// The same labels as one ZPL batch to download.
	p = c.get(t, "/labels/batch.zpl?samples="+strings.Join(ids, ",")+"&copies=2").wantStatus(t, http.StatusOK)
	if n := strings.Count(p.Body, "^XA"); n != 6 || !strings.Contains(p.Header.Get("Content-Disposition"), "labels.zpl") {
		t.Errorf("batch of 3 × 2 copies: %d labels, %q", n, p.Header.Get("Content-Disposition"))
	}
	c.get(t, "/labels/batch.zpl").wantStatus(t, http.StatusUnprocessableEntity)
}

// TestLabelsAdmin: the administrator adds a printer and a template through the page; the
// template form previews the label on a real sample before saving, and a line that does
// not fit is refused naming it, the preview showing it in red.
func TestLabelsAdmin(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	a.mustAliquots(t, "nurse", "technician", 1)
	admin := a.signedIn(t, "admin")
	admin.get(t, "/admin/labels").wantStatus(t, http.StatusOK).wantTestID(t, "template-form")
	admin.submit(t, "/admin/labels", "/admin/labels/printers", url.Values{"name": {"Bench 1"}, "site": {"LUX"}, "kind": {"zpl"},
		"address": {"10.0.0.9"}, "dpi": {"300"}, "timeout_ms": {"3000"}, "site_default": {"true"}, "reason": {"new printer"}}).wantRedirect(t, "/admin/labels")
	p := admin.get(t, "/admin/labels").wantStatus(t, http.StatusOK)
	if row := p.wantTestID(t, "printer-row").Text(); !strings.Contains(row, "10.0.0.9:9100") {
		t.Errorf("printer row %q", row)
	}
	tpl := url.Values{"name": {"Cryo"}, "width_mm": {"32"}, "height_mm": {"13"}, "dpi": {"300"}, "font_pt": {"5"}, "codes": {"datamatrix"},
		"lines": {"accession\npseudonym\ntext: IBD biobank"}, "stock": {"cryo −196 °C"}, "reason": {"cryo labels"}, "action": {"preview"}}
	p = admin.submit(t, "/admin/labels", "/admin/labels/templates", tpl).wantStatus(t, http.StatusOK)
	src, _ := p.wantTestID(t, "template-form-preview").Attr("src")
	svg := admin.get(t, src).wantStatus(t, http.StatusOK)
	if ct := svg.Header.Get("Content-Type"); ct != "image/svg+xml" || !strings.Contains(svg.Body, "IBD biobank") || !strings.Contains(svg.Body, `width="32.00mm"`) {
		t.Errorf("preview %s: %q", ct, excerpt(svg.Body))
	}
	before := a.state(t)
	tooLong := url.Values{}
	for k, v := range tpl {
		tooLong[k] = v
	}
	tooLong.Set("lines", "accession\nsprec")
	tooLong.Set("width_mm", "22")
	tooLong.Set("action", "save")
	p = admin.submit(t, "/admin/labels", "/admin/labels/templates", tooLong).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "error-lines").Text(); !strings.Contains(msg, "SPREC") {
		t.Errorf("the refusal says %q", msg)
	}
	src, _ = p.wantTestID(t, "template-form-preview").Attr("src")
	if svg := admin.get(t, src).wantStatus(t, http.StatusOK); !strings.Contains(svg.Body, `fill="#c00"`) {
		t.Error("the preview does not show the line that does not fit")
	}
	a.assertUnchanged(t, before)
	tpl.Set("action", "save")
	admin.submit(t, "/admin/labels", "/admin/labels/templates", tpl).wantRedirect(t, "/admin/labels")
	p = admin.get(t, "/admin/labels").wantStatus(t, http.StatusOK)
	src, _ = p.wantTestID(t, "template-preview").Attr("src")
	admin.get(t, src).wantStatus(t, http.StatusOK)
	a.wantEvent(t, "label_template", "Cryo", "label_template.create", "admin")
	a.signedIn(t, "manager").get(t, "/admin/labels").wantStatus(t, http.StatusForbidden)
}
