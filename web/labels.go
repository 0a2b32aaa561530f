package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/input"
	"biobank/internal/label"
	"biobank/internal/printing"
	"biobank/templates"
)

// labelImage answers GET /labels/{code}.png?symbology=&dpi=: the barcode of a sample's
// accession ID or tube barcode, or of a box, as PNG. The image of one code with the same
// options never changes, so it carries an ETag and may be cached for good.
func (s *Server) labelImage(c echo.Context) error {
	file := c.Param("file")
	switch file {
	case "sheet.pdf":
		return s.labelSheet(c)
	case "preview.svg":
		return s.labelPreview(c)
	case "batch.zpl":
		return s.labelBatch(c)
	}
	if !strings.HasSuffix(file, ".png") {
		return apperr.NotFound("label", file)
	}
	sym := label.Symbology(strings.ToLower(c.QueryParam("symbology")))
	if sym == "" {
		sym = label.DataMatrix
	}
	if !sym.Known() {
		return apperr.Invalid("symbology", fmt.Sprintf("The barcode kind is one of datamatrix, code128 or qr, not %q.", sym))
	}
	dpi := 300
	if v := c.QueryParam("dpi"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return apperr.Invalid("dpi", "Give the resolution as a number of dots per inch: 203, 300 or 600.")
		}
		dpi = n
	}
	if err := label.CheckDPI(dpi); err != nil {
		return err
	}
	code, err := s.labelCode(c, input.Scanned(strings.TrimSuffix(file, ".png")))
	if err != nil {
		return err
	}
	m, err := label.Encode(sym, code)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte("biobank-label-v1\x00" + string(sym) + "\x00" + strconv.Itoa(dpi) + "\x00" + code))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set(echo.HeaderCacheControl, "private, max-age=31536000, immutable")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "image/png", label.PNG(m, label.ModuleDots(dpi), dpi))
}

// labelCode is the code a label carries for what was asked: a sample's accession ID (or its
// tube barcode, when that was asked for), or a box's barcode; 404 for anything else.
func (s *Server) labelCode(c echo.Context, code string) (string, error) {
	ctx := c.Request().Context()
	smp, err := s.app.Samples.Get(ctx, actor(c), code)
	if err == nil {
		if smp.TubeBarcode != nil && *smp.TubeBarcode == code {
			return code, nil
		}
		return smp.Accession, nil
	}
	if _, missing := apperr.AsNotFound(err); !missing {
		return "", err
	}
	box, err := s.app.Storage.FindBox(ctx, actor(c), code)
	if err != nil {
		if _, missing := apperr.AsNotFound(err); missing {
			return "", apperr.NotFound("code", code)
		}
		return "", err
	}
	return box.Barcode, nil
}

// splitCodes reads a comma-separated list of codes from a form or query.
func splitCodes(raw string) []string {
	var out []string
	for _, c := range strings.Split(raw, ",") {
		if c = input.Scanned(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// printView is the print page for the request's samples, boxes and settings.
func (s *Server) printView(c echo.Context, f templates.Form) (templates.PrintView, error) {
	ctx := c.Request().Context()
	v := templates.PrintView{Samples: splitCodes(f.Value("samples")), Boxes: splitCodes(f.Value("boxes")), Next: safeNext(f.Value("next")), Form: f}
	printers, err := s.app.Printing.Printers(ctx)
	if err != nil {
		return v, err
	}
	a := actor(c)
	for _, p := range printers {
		if p.Active && p.Kind == "zpl" && (a.AllSites() || p.SiteID == a.SiteID) {
			v.Printers = append(v.Printers, templates.Option{Value: p.Name, Label: p.Name + " (" + p.Site.Code + ")"})
		}
	}
	tpls, err := s.app.Printing.Templates(ctx)
	if err != nil {
		return v, err
	}
	for _, t := range tpls {
		v.Templates = append(v.Templates, templates.Option{Value: t.Name, Label: fmt.Sprintf("%s (%g × %g mm)", t.Name, t.WidthMM, t.HeightMM)})
	}
	return v, nil
}

func (s *Server) renderPrint(c echo.Context, status int, f templates.Form) error {
	v, err := s.printView(c, f)
	if err != nil {
		return err
	}
	p := s.page(c, "Print labels")
	return s.render(c, status, templates.PrintPage(p, v))
}

// printPage is the print page: GET /labels/print?samples=&boxes=&next=.
func (s *Server) printPage(c echo.Context) error {
	f := templates.NewForm()
	for _, k := range []string{"samples", "boxes", "next"} {
		// A list's check boxes send one samples= per row; links send them comma-separated.
		f.Values[k] = strings.Join(c.QueryParams()[k], ",")
	}
	f.Values["copies"] = "1"
	return s.renderPrint(c, http.StatusOK, f)
}

// print prints from the print page or a page's one-click offer, then goes back; a refusal
// or a printer that failed comes back as the print page saying why, ready to try again.
func (s *Server) print(c echo.Context) error {
	f := formFrom(c, "samples", "boxes", "next", "printer", "template", "copies", "remember")
	copies := 1
	if v := strings.TrimSpace(f.Value("copies")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.Errors["copies"] = "Give the number of copies as a number."
			return s.renderPrint(c, http.StatusUnprocessableEntity, f)
		}
		copies = n
	}
	job, err := s.app.Printing.Print(c.Request().Context(), actor(c), printing.PrintInput{Printer: f.Value("printer"), Template: f.Value("template"),
		Samples: splitCodes(f.Value("samples")), Boxes: splitCodes(f.Value("boxes")), Copies: copies})
	if err != nil {
		status, body := classify(err)
		if status >= 500 && status != http.StatusBadGateway {
			return err
		}
		if !formError(&f, err) {
			f.Error = body.Message
		}
		return s.renderPrint(c, status, f)
	}
	if f.Value("remember") == "true" && f.Value("printer") != "" {
		if err := s.app.Printing.SetUserPrinter(c.Request().Context(), actor(c), f.Value("printer")); err != nil {
			return err
		}
	}
	next := safeNext(f.Value("next"))
	var printer string
	if p, err := s.app.Printing.JobPrinter(c.Request().Context(), job.ID); err == nil {
		printer = " to " + p
	}
	return s.seeOther(c, next, fmt.Sprintf("%d %s sent%s.", job.Labels, map[bool]string{true: "label", false: "labels"}[job.Labels == 1], printer))
}

// verifyPage is the scan-back check: GET /labels/verify?expected=.
func (s *Server) verifyPage(c echo.Context) error {
	p := s.page(c, "Verify label")
	return s.render(c, http.StatusOK, templates.VerifyPage(p, templates.VerifyView{Expected: input.Scanned(c.QueryParam("expected"))}))
}

// verify checks a scanned label against the tube it should name.
func (s *Server) verify(c echo.Context) error {
	v := templates.VerifyView{Expected: input.Scanned(c.FormValue("expected")), Scanned: c.FormValue("scanned"), Done: true}
	ok, msg, err := s.app.Printing.Verify(c.Request().Context(), actor(c), v.Expected, v.Scanned)
	status := http.StatusOK
	switch {
	case err != nil:
		code, body := classify(err)
		if code >= 500 {
			return err
		}
		status, v.Message = code, body.Message
	case ok:
		v.Match = true
	default:
		status, v.Message = http.StatusUnprocessableEntity, msg
	}
	p := s.page(c, "Verify label")
	return s.render(c, status, templates.VerifyPage(p, v))
}

// labelSheet answers GET /labels/sheet.pdf?samples=a,b&boxes=&template=&sheet=&copies=: the
// labels on a PDF sheet for an office printer or a sheet of labels.
func (s *Server) labelSheet(c echo.Context) error {
	in, err := sheetInput(c)
	if err != nil {
		return err
	}
	pdf, err := s.app.Printing.SheetPDF(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="labels.pdf"`)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// sheetInput reads the labels asked for by a sheet or batch address.
func sheetInput(c echo.Context) (printing.SheetInput, error) {
	in := printing.SheetInput{Samples: splitCodes(strings.Join(c.QueryParams()["samples"], ",")),
		Boxes: splitCodes(strings.Join(c.QueryParams()["boxes"], ",")), Template: c.QueryParam("template"), Sheet: c.QueryParam("sheet"), Copies: 1}
	if v := c.QueryParam("copies"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return in, apperr.Invalid("copies", "Print 1 to 100 copies of each label.")
		}
		in.Copies = n
	}
	return in, nil
}

// labelBatch answers GET /labels/batch.zpl?samples=&boxes=&template=&copies=: the ZPL of
// the labels, to download.
func (s *Server) labelBatch(c echo.Context) error {
	in, err := sheetInput(c)
	if err != nil {
		return err
	}
	zpl, err := s.app.Printing.BatchZPL(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="labels.zpl"`)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(zpl))
}
