package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/bulk"
	"biobank/templates"
)

// maxImportFile bounds an import file (the upload routes' body limit).
const maxImportFile = 64 << 20

// apiImportSamples takes a legacy collection as CSV: with dry_run=true it reports every
// problem and writes nothing; without, it starts the import (202) or refuses a file with
// problems (422, listing them).
func (s *Server) apiImportSamples(c echo.Context) error {
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, maxImportFile+1))
	if err != nil || len(data) > maxImportFile {
		return &malformedError{Field: "file", Message: "The file could not be read, or it is larger than 64 MB."}
	}
	ctx, a := c.Request().Context(), actor(c)
	switch c.QueryParam("dry_run") {
	case "true":
		rep, err := s.app.Import.DryRun(ctx, a, data)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, rep)
	case "", "false":
	default:
		return &malformedError{Field: "dry_run", Message: "dry_run is true or false."}
	}
	j, err := s.app.Import.Start(ctx, a, c.QueryParam("file_name"), data)
	var refused *bulk.RefusedError
	if errors.As(err, &refused) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{
			"error":  apiErrorBody{Code: "import_has_errors", Message: refused.Error(), Field: "file"},
			"rows":   refused.Report.Rows,
			"errors": refused.Report.Errors})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, j)
}

func jobID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.NotFound("import job", c.Param("id"))
	}
	return id, nil
}

func (s *Server) apiImportJob(c echo.Context) error {
	id, err := jobID(c)
	if err != nil {
		return err
	}
	j, err := s.app.Import.Job(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (s *Server) apiCancelImport(c echo.Context) error {
	id, err := jobID(c)
	if err != nil {
		return err
	}
	j, err := s.app.Import.Cancel(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// importSamplesPage takes a legacy collection's file: check it, download the report,
// import it.
func (s *Server) importSamplesPage(c echo.Context) error {
	return s.renderImportSamples(c, http.StatusOK, templates.ImportSamplesView{})
}

func (s *Server) renderImportSamples(c echo.Context, status int, v templates.ImportSamplesView) error {
	p := s.page(c, "Import a legacy collection")
	p.Nav = "samples"
	v.Columns = bulk.Columns
	return s.render(c, status, templates.ImportSamplesPage(p, v))
}

// importSamplesForm checks an uploaded file (dry run), answers its report as CSV, or
// starts importing it, as the button pressed says.
func (s *Server) importSamplesForm(c echo.Context) error {
	fileName, data, problem, err := uploaded(c, maxImportFile, "Choose the collection's CSV file.")
	if err != nil {
		return err
	}
	if problem != "" {
		return s.renderImportSamples(c, http.StatusUnprocessableEntity, templates.ImportSamplesView{Error: problem + " (64 MB at most)"})
	}
	ctx, a := c.Request().Context(), actor(c)
	switch c.FormValue("action") {
	case "import":
		j, err := s.app.Import.Start(ctx, a, fileName, data)
		var refused *bulk.RefusedError
		if errors.As(err, &refused) {
			return s.renderImportSamples(c, http.StatusUnprocessableEntity, templates.ImportSamplesView{FileName: fileName, Report: &refused.Report,
				Error: refused.Error()})
		}
		if err != nil {
			return err
		}
		return s.seeOther(c, templates.ImportJobPath(j.ID), "Importing "+fileName+".")
	case "report":
		rep, err := s.app.Import.DryRun(ctx, a, data)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"line", "field", "message"})
		for _, e := range rep.Errors {
			_ = w.Write([]string{strconv.Itoa(e.Line), e.Field, e.Message})
		}
		w.Flush()
		c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.report.csv"`, safeName(fileName)))
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	}
	rep, err := s.app.Import.DryRun(ctx, a, data)
	if err != nil {
		if st, body := classify(err); st < 500 {
			return s.renderImportSamples(c, st, templates.ImportSamplesView{Error: body.Message})
		}
		return err
	}
	return s.renderImportSamples(c, http.StatusOK, templates.ImportSamplesView{FileName: fileName, Report: &rep})
}

// safeName keeps a file name's letters, digits, dots, dashes and underscores.
func safeName(name string) string {
	out := make([]rune, 0, len(name))
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "import"
	}
	return string(out)
}

// importJobPage shows an import's progress; it refreshes itself while the import runs.
func (s *Server) importJobPage(c echo.Context) error {
	id, err := jobID(c)
	if err != nil {
		return err
	}
	j, err := s.app.Import.Job(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	if j.Status == bulk.Running {
		c.Response().Header().Set("Refresh", "1") // the page follows the import without JavaScript
	}
	p := s.page(c, "Import "+strconv.FormatInt(j.ID, 10))
	p.Nav = "samples"
	return s.render(c, http.StatusOK, templates.ImportJobPage(p, j))
}

func (s *Server) cancelImportForm(c echo.Context) error {
	id, err := jobID(c)
	if err != nil {
		return err
	}
	if _, err := s.app.Import.Cancel(c.Request().Context(), actor(c), id); err != nil {
		if _, ok := apperr.AsConflict(err); ok {
			return s.seeOther(c, templates.ImportJobPath(id), "")
		}
		return err
	}
	return s.seeOther(c, templates.ImportJobPath(id), "Cancelling: nothing of this import will stay.")
}
