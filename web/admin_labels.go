package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/label"
	"biobank/internal/printing"
	"biobank/templates"
)

func (s *Server) labelsAdminPage(c echo.Context) error {
	tf := templates.NewForm()
	tf.Values["width_mm"], tf.Values["height_mm"], tf.Values["dpi"], tf.Values["font_pt"] = "32", "13", "300", "5"
	tf.Values["codes"], tf.Values["lines"], tf.Values["stock"] = "datamatrix", "accession\npseudonym\nspecimen_short\nvolume", "cryo −196 °C"
	pf := templates.NewForm()
	pf.Values["kind"], pf.Values["dpi"], pf.Values["timeout_ms"], pf.Values["site"] = "zpl", "300", "5000", actor(c).SiteCode
	return s.renderLabelsAdmin(c, http.StatusOK, map[string]templates.Form{"template": tf, "printer": pf}, "")
}

func (s *Server) renderLabelsAdmin(c echo.Context, status int, forms map[string]templates.Form, preview string) error {
	ctx := c.Request().Context()
	v := templates.LabelsAdminView{Forms: forms, Preview: preview}
	var err error
	if v.Printers, err = s.app.Printing.Printers(ctx); err != nil {
		return err
	}
	if v.Templates, err = s.app.Printing.Templates(ctx); err != nil {
		return err
	}
	sites, err := s.app.Auth.Sites(ctx)
	if err != nil {
		return err
	}
	for _, st := range sites {
		v.SiteOpts = append(v.SiteOpts, templates.Option{Value: st.Code, Label: st.Code + " — " + st.Name})
	}
	p := s.page(c, "Labels")
	p.Nav = "labels"
	return s.render(c, status, templates.LabelsAdminPage(p, v))
}

func (s *Server) createPrinterForm(c echo.Context) error {
	f := formFrom(c, "name", "site", "kind", "address", "dpi", "timeout_ms", "site_default", "reason")
	in := printing.PrinterInput{Name: f.Value("name"), Site: f.Value("site"), Kind: f.Value("kind"), Address: f.Value("address"),
		SiteDefault: f.Value("site_default") == "true", Reason: f.Value("reason")}
	var err error
	if in.DPI, err = formInt(f, "dpi", "resolution", false); err == nil {
		in.TimeoutMS, err = formInt(f, "timeout_ms", "timeout", false)
	}
	if err == nil {
		_, err = s.app.Printing.CreatePrinter(c.Request().Context(), actor(c), in)
	}
	if err != nil {
		if formError(&f, err) {
			return s.renderLabelsAdmin(c, http.StatusUnprocessableEntity, map[string]templates.Form{"printer": f}, "")
		}
		return err
	}
	return s.seeOther(c, "/admin/labels", "Printer "+in.Name+" added.")
}

// templateFromValues reads a label template from form or query values.
func templateFromValues(get func(string) string) (label.Template, error) {
	t := label.Template{Name: strings.TrimSpace(get("name")), Stock: strings.TrimSpace(get("stock"))}
	num := func(name string) (float64, error) {
		v := strings.TrimSpace(strings.ReplaceAll(get(name), ",", "."))
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, apperr.Invalid(name, "Give a number.")
		}
		return n, nil
	}
	var err error
	if t.WidthMM, err = num("width_mm"); err != nil {
		return t, err
	}
	if t.HeightMM, err = num("height_mm"); err != nil {
		return t, err
	}
	if t.FontPt, err = num("font_pt"); err != nil {
		return t, err
	}
	if t.DPI, err = strconv.Atoi(strings.TrimSpace(get("dpi"))); err != nil {
		return t, apperr.Invalid("dpi", "Choose the resolution.")
	}
	for _, c := range strings.FieldsFunc(get("codes"), func(r rune) bool { return r == ',' || r == ' ' }) {
		t.Codes = append(t.Codes, label.Symbology(strings.ToLower(c)))
	}
	for _, row := range strings.Split(strings.ReplaceAll(get("lines"), "\r\n", "\n"), "\n") {
		row = strings.TrimSpace(row)
		switch {
		case row == "":
		case strings.HasPrefix(strings.ToLower(row), "text:"):
			t.Lines = append(t.Lines, label.Line{Text: strings.TrimSpace(row[len("text:"):])})
		default:
			if _, ok := label.Fields[row]; !ok {
				return t, apperr.Invalid("lines", "“"+row+"” is neither a field nor text: …")
			}
			t.Lines = append(t.Lines, label.Line{Field: row})
		}
	}
	return t, nil
}

// templateQuery is the preview address of a template being written.
func templateQuery(f templates.Form) string {
	q := url.Values{}
	for _, k := range []string{"name", "width_mm", "height_mm", "dpi", "font_pt", "codes", "lines", "stock"} {
		q.Set(k, f.Value(k))
	}
	return "/labels/preview.svg?" + q.Encode()
}

func (s *Server) createTemplateForm(c echo.Context) error {
	f := formFrom(c, "name", "width_mm", "height_mm", "dpi", "font_pt", "codes", "lines", "stock", "reason")
	forms := map[string]templates.Form{"template": f}
	t, err := templateFromValues(f.Value)
	if err == nil && c.FormValue("action") == "preview" {
		return s.renderLabelsAdmin(c, http.StatusOK, forms, templateQuery(f))
	}
	if err == nil {
		_, err = s.app.Printing.CreateTemplate(c.Request().Context(), actor(c), printing.TemplateInput{Template: t, Reason: f.Value("reason")})
	}
	if err != nil {
		if v, ok := apperr.AsValidation(err); ok && strings.HasPrefix(v.Field, "lines[") {
			f.Errors["lines"] = v.Message
		} else if !formError(&f, err) {
			return err
		}
		return s.renderLabelsAdmin(c, http.StatusUnprocessableEntity, map[string]templates.Form{"template": f}, templateQuery(f))
	}
	return s.seeOther(c, "/admin/labels", "Template "+t.Name+" saved.")
}

// labelPreview answers GET /labels/preview.svg: a template (saved, by ?template=, or as
// written, by its fields) laid out on a real sample (?sample=, else the latest one), at
// its real size, lines that do not fit in red.
func (s *Server) labelPreview(c echo.Context) error {
	ctx := c.Request().Context()
	var t label.Template
	var err error
	if name := c.QueryParam("template"); name != "" {
		t, err = s.app.Printing.TemplateByName(ctx, name)
	} else {
		t, err = templateFromValues(c.QueryParam)
		if err == nil {
			err = t.Check()
		}
	}
	if err != nil {
		return err
	}
	d, err := s.app.Printing.PreviewData(ctx, actor(c), c.QueryParam("sample"))
	if err != nil {
		return err
	}
	items, err := t.Layout(d)
	if items == nil && err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, "image/svg+xml", label.SVG(t, items))
}
