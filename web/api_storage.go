package web

import (
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/storage"
)

func (s *Server) apiCreateFreezer(c echo.Context) error {
	var in storage.FreezerInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	f, err := s.app.Storage.CreateFreezer(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, f)
}

func (s *Server) apiFreezers(c echo.Context) error {
	fs, err := s.app.Storage.Freezers(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	type row struct {
		storage.Freezer
		Site string `json:"site"`
	}
	out := make([]row, len(fs))
	for i, f := range fs {
		out[i] = row{f, f.Site.Code}
	}
	return c.JSON(http.StatusOK, map[string]any{"freezers": out})
}

func (s *Server) apiCreateRack(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.app.Storage.CreateRack(c.Request().Context(), actor(c), c.Param("freezer"), in.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) apiCreateBox(c echo.Context) error {
	var in storage.BoxInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	b, err := s.app.Storage.CreateBox(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return s.boxJSON(c, http.StatusCreated, b.Barcode)
}

// apiBox is a box in the JSON API (API.md).
type apiBox struct {
	Barcode   string        `json:"barcode"`
	Rows      int           `json:"rows"`
	Cols      int           `json:"cols"`
	Free      int           `json:"free"`
	Freezer   string        `json:"freezer"`
	Rack      string        `json:"rack"`
	Site      string        `json:"site"`
	Positions []apiPosition `json:"positions"`
}

type apiPosition struct {
	Position string  `json:"position"`
	Sample   *string `json:"sample"`
	Status   string  `json:"status,omitempty"`
}

func (s *Server) boxJSON(c echo.Context, status int, barcode string) error {
	g, err := s.app.Storage.Grid(c.Request().Context(), actor(c), barcode)
	if err != nil {
		return err
	}
	out := apiBox{Barcode: g.Box.Barcode, Rows: g.Box.Rows, Cols: g.Box.Cols, Free: g.Free, Freezer: g.Box.Freezer.Name,
		Site: g.Box.Freezer.Site.Code, Positions: make([]apiPosition, 0, g.Box.Rows*g.Box.Cols)}
	if g.Box.Rack != nil {
		out.Rack = g.Box.Rack.Name
	}
	for _, row := range g.Cells {
		for _, cell := range row {
			p := apiPosition{Position: cell.Position.String()}
			if cell.Occupied() {
				acc := cell.Accession
				p.Sample, p.Status = &acc, string(cell.Status)
			}
			out.Positions = append(out.Positions, p)
		}
	}
	return c.JSON(status, out)
}

func (s *Server) apiBox(c echo.Context) error {
	return s.boxJSON(c, http.StatusOK, c.Param("barcode"))
}

type sampleBody struct {
	Sample string `json:"sample"`
}

// apiPlace puts a sample at a named position (PUT …/positions/{position}) or, for POST
// …/next, at the box's next free position.
func (s *Server) apiPlace(c echo.Context) error {
	var in sampleBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Sample == "" {
		return apperr.Invalid("sample", "Name the sample: its accession ID or tube barcode.")
	}
	pl, err := s.app.Storage.Place(c.Request().Context(), actor(c), c.Param("barcode"), c.Param("position"), in.Sample)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sample": pl.Sample.Accession, "status": pl.Sample.Status,
		"location": pl.To, "moved_from": pl.From})
}

func (s *Server) apiRemove(c echo.Context) error {
	if _, err := s.app.Storage.Remove(c.Request().Context(), actor(c), c.Param("barcode"), c.Param("position")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiMoveBox(c echo.Context) error {
	var in struct {
		Freezer string `json:"freezer"`
		Rack    string `json:"rack"`
		Reason  string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.app.Storage.MoveBox(c.Request().Context(), actor(c), c.Param("barcode"), in.Freezer, in.Rack, in.Reason); err != nil {
		return err
	}
	return s.boxJSON(c, http.StatusOK, c.Param("barcode"))
}

func (s *Server) apiMoveRack(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("rack"), 10, 64)
	if err != nil {
		return apperr.NotFound("rack", c.Param("rack"))
	}
	var in struct {
		Freezer string `json:"freezer"`
		Reason  string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if err := s.app.Storage.MoveRack(c.Request().Context(), actor(c), id, in.Freezer, in.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiCheckOut(c echo.Context) error {
	var in reasonBody
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &in); err != nil {
			return err
		}
	}
	smp, err := s.app.Storage.CheckOut(c.Request().Context(), actor(c), c.Param("code"), in.Reason)
	if err != nil {
		return err
	}
	return s.sampleJSON(c, http.StatusOK, smp.Accession)
}

func (s *Server) apiCheckIn(c echo.Context) error {
	if err := bindOptionalJSON(c); err != nil {
		return err
	}
	smp, err := s.app.Storage.CheckIn(c.Request().Context(), actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	return s.sampleJSON(c, http.StatusOK, smp.Accession)
}

func (s *Server) apiFreeSpace(c echo.Context) error {
	n := 1
	if v := c.QueryParam("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 10000 {
			return apperr.Invalid("n", "n is the number of tubes to find room for, from 1 to 10000.")
		}
	}
	boxes, err := s.app.Storage.FreeSpace(c.Request().Context(), actor(c), n, c.QueryParam("type"), c.QueryParam("specimen_type"))
	if err != nil {
		return err
	}
	if boxes == nil {
		boxes = []storage.FreeBox{}
	}
	return c.JSON(http.StatusOK, map[string]any{"boxes": boxes})
}

func (s *Server) apiCheckedOut(c echo.Context) error {
	list, err := s.app.Storage.CheckedOutList(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []storage.CheckedOut{}
	}
	return c.JSON(http.StatusOK, map[string]any{"samples": list})
}

func (s *Server) apiOccupancy(c echo.Context) error {
	boxes, err := s.app.Storage.Occupancy(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if boxes == nil {
		boxes = []storage.BoxUse{}
	}
	return c.JSON(http.StatusOK, map[string]any{"boxes": boxes})
}

// apiRackImport takes a rack scanner CSV as the body (text/csv): without ?confirm=true it
// answers the preview and changes nothing; with it, it places every tube of a clean file
// in one transaction.
func (s *Server) apiRackImport(c echo.Context) error {
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, storage.MaxRackFile+1))
	if err != nil {
		return &malformedError{Message: "The file could not be read."}
	}
	f, err := storage.ParseRackFile(data, storage.RackOptions{Box: c.QueryParam("box"), FileName: c.QueryParam("file_name"),
		NoReadIsEmpty: c.QueryParam("no_read") == "empty", ColumnOrder: c.QueryParam("order") == "columns"})
	if err != nil {
		if fe, ok := err.(*storage.FileError); ok {
			return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": apiErrorBody{Code: "bad_rack_file", Message: fe.Error(), Field: "file"},
				"problems": fe.Problems})
		}
		return err
	}
	ctx := c.Request().Context()
	if c.QueryParam("confirm") != "true" {
		p, err := s.app.Storage.PreviewRack(ctx, actor(c), f)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"box": p.Box.Barcode, "layout": p.Layout, "clean": p.Clean, "wells": p.Wells})
	}
	n, err := s.app.Storage.ImportRack(ctx, actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"box": f.Rack, "placed": n})
}

func (s *Server) apiBoxTypes(c echo.Context) error {
	ts, err := s.app.Storage.BoxTypes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"box_types": ts})
}

func (s *Server) apiCreateBoxType(c echo.Context) error {
	var in storage.BoxTypeInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	t, err := s.app.Storage.CreateBoxType(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}
