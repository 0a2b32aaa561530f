package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"biobank/internal/label"
	"biobank/internal/printing"
)

// printerJSON is a printer as the API shows it.
type printerJSON struct {
	Name      string `json:"name"`
	Site      string `json:"site"`
	Kind      string `json:"kind"`
	Address   string `json:"address"`
	DPI       int    `json:"dpi"`
	TimeoutMS int    `json:"timeout_ms"`
	Active    bool   `json:"active"`
}

func printerOut(p printing.Printer) printerJSON {
	return printerJSON{Name: p.Name, Site: p.Site.Code, Kind: p.Kind, Address: p.Address, DPI: p.DPI, TimeoutMS: p.TimeoutMS, Active: p.Active}
}

func (s *Server) apiPrinters(c echo.Context) error {
	ps, err := s.app.Printing.Printers(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]printerJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, printerOut(p))
	}
	return c.JSON(http.StatusOK, map[string]any{"printers": out})
}

func (s *Server) apiCreatePrinter(c echo.Context) error {
	var in printing.PrinterInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.app.Printing.CreatePrinter(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, printerOut(p))
}

// templateJSON is a label template as the API shows it.
type templateJSON struct {
	label.Template
}

func templateOut(t printing.Template) templateJSON {
	lt := t.Label()
	if lt.Lines == nil {
		lt.Lines = []label.Line{}
	}
	return templateJSON{lt}
}

func (s *Server) apiTemplates(c echo.Context) error {
	ts, err := s.app.Printing.Templates(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]templateJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, templateOut(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"templates": out})
}

func (s *Server) apiCreateTemplate(c echo.Context) error {
	var in printing.TemplateInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	t, err := s.app.Printing.CreateTemplate(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, templateOut(t))
}

// jobJSON is a print job as the API shows it.
type jobJSON struct {
	ID        int64  `json:"id"`
	CreatedAt string `json:"created_at"`
	Actor     string `json:"actor"`
	Printer   string `json:"printer"`
	Template  string `json:"template"`
	Labels    int    `json:"labels"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
}

func jobOut(j printing.Job, printer, template string) jobJSON {
	return jobJSON{ID: j.ID, CreatedAt: j.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), Actor: j.Actor, Printer: printer,
		Template: template, Labels: j.Labels, Status: j.Status, Error: j.Error}
}

func (s *Server) apiPrint(c echo.Context) error {
	var in printing.PrintInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	j, err := s.app.Printing.Print(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": j.ID, "status": j.Status, "labels": j.Labels})
}

func (s *Server) apiPrintJobs(c echo.Context) error {
	var cursor int64
	if v := c.QueryParam("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return &malformedError{Field: "cursor", Message: "The cursor is the next_cursor of the previous page."}
		}
		cursor = n
	}
	const page = 50
	jobs, err := s.app.Printing.Jobs(c.Request().Context(), actor(c), cursor, page)
	if err != nil {
		return err
	}
	out := make([]jobJSON, 0, len(jobs))
	for _, j := range jobs {
		tpl := printing.DefaultTemplate.Name
		if j.Template != nil {
			tpl = j.Template.Name
		}
		out = append(out, jobOut(j, j.Printer.Name, tpl))
	}
	var next int64
	if len(jobs) == page {
		next = jobs[len(jobs)-1].ID
	}
	return c.JSON(http.StatusOK, map[string]any{"jobs": out, "next_cursor": next})
}

func (s *Server) apiVerifyLabel(c echo.Context) error {
	var in struct {
		Expected string `json:"expected"`
		Scanned  string `json:"scanned"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ok, msg, err := s.app.Printing.Verify(c.Request().Context(), actor(c), in.Expected, in.Scanned)
	if err != nil {
		return err
	}
	if ok {
		return c.JSON(http.StatusOK, map[string]any{"match": true})
	}
	return c.JSON(http.StatusOK, map[string]any{"match": false, "message": msg})
}

// apiSampleZPL answers the ZPL of one sample's label with a template (the first, or the
// built-in one).
func (s *Server) apiSampleZPL(c echo.Context) error {
	zpl, err := s.app.Printing.SampleZPL(c.Request().Context(), actor(c), c.Param("code"), c.QueryParam("template"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(zpl))
}
