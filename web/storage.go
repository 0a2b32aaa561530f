package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/sample"
	"biobank/internal/storage"
	"biobank/templates"
)

func (s *Server) storagePage(c echo.Context) error {
	return s.renderStorage(c, http.StatusOK, "", nil)
}

func (s *Server) renderStorage(c echo.Context, status int, failed string, f *templates.Form) error {
	ctx := c.Request().Context()
	a := actor(c)
	fs, err := s.app.Storage.Freezers(ctx, a)
	if err != nil {
		return err
	}
	boxes, err := s.app.Storage.Occupancy(ctx, a)
	if err != nil {
		return err
	}
	v := templates.StorageView{Freezers: fs, Boxes: boxes, Forms: map[string]templates.Form{}, CanSetUp: a.Is(auth.RoleManager, auth.RoleAdmin),
		IsAdmin: a.Is(auth.RoleAdmin)}
	types, err := s.app.Storage.BoxTypes(ctx)
	if err != nil {
		return err
	}
	for _, t := range types {
		v.BoxTypes = append(v.BoxTypes, templates.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
	}
	for _, t := range storage.FreezerTypes {
		v.Types = append(v.Types, templates.Option{Value: t, Label: t})
	}
	for _, fr := range fs {
		v.Freezer = append(v.Freezer, templates.Option{Value: strconv.FormatInt(fr.ID, 10), Label: fr.Site.Code + " · " + fr.Name})
	}
	if v.CanSetUp {
		racks, err := s.app.Storage.AllRacks(ctx, a)
		if err != nil {
			return err
		}
		for _, r := range racks {
			v.Racks = append(v.Racks, templates.Option{Value: strconv.FormatInt(r.ID, 10), Label: r.Site + " · " + r.Freezer + " · " + r.Name})
		}
	}
	if f != nil {
		v.Forms[failed] = *f
	}
	p := s.page(c, "Storage")
	p.Nav = "storage"
	return s.render(c, status, templates.StoragePage(p, v))
}

// storageForm runs a set-up form's action and redirects, or shows the refused form.
func (s *Server) storageForm(c echo.Context, name string, f templates.Form, do func() (string, error)) error {
	done, err := do()
	if err != nil {
		if formError(&f, err) {
			return s.renderStorage(c, http.StatusUnprocessableEntity, name, &f)
		}
		return err
	}
	return s.seeOther(c, "/storage", done)
}

func (s *Server) createFreezer(c echo.Context) error {
	f := formFrom(c, "name", "type", "temperature")
	return s.storageForm(c, "freezer", f, func() (string, error) {
		in := storage.FreezerInput{Name: f.Value("name"), Type: f.Value("type")}
		if strings.TrimSpace(f.Value("temperature")) != "" {
			t, err := formDecimal(f, "temperature", "set-point", true)
			if err != nil {
				return "", err
			}
			in.Temperature = &t
		}
		fr, err := s.app.Storage.CreateFreezer(c.Request().Context(), actor(c), in)
		return "Freezer " + fr.Name + " was added.", err
	})
}

func (s *Server) createRack(c echo.Context) error {
	f := formFrom(c, "freezer", "name")
	return s.storageForm(c, "rack", f, func() (string, error) {
		r, err := s.app.Storage.CreateRack(c.Request().Context(), actor(c), f.Value("freezer"), f.Value("name"))
		return "Rack " + r.Name + " was added.", err
	})
}

func (s *Server) createBox(c echo.Context) error {
	f := formFrom(c, "barcode", "freezer", "rack", "box_type")
	return s.storageForm(c, "box", f, func() (string, error) {
		if f.Value("box_type") == "" {
			return "", apperr.Invalid("box_type", "Choose the box type.")
		}
		b, err := s.app.Storage.CreateBox(c.Request().Context(), actor(c), storage.BoxInput{Barcode: f.Value("barcode"),
			Freezer: f.Value("freezer"), Rack: f.Value("rack"), BoxType: f.Value("box_type")})
		return "Box " + b.Barcode + " was added.", err
	})
}

func (s *Server) createBoxType(c echo.Context) error {
	f := formFrom(c, "name", "rows", "cols")
	return s.storageForm(c, "boxtype", f, func() (string, error) {
		rows, err := formInt(f, "rows", "number of rows", true)
		if err != nil {
			return "", err
		}
		cols, err := formInt(f, "cols", "number of columns", true)
		if err != nil {
			return "", err
		}
		t, err := s.app.Storage.CreateBoxType(c.Request().Context(), actor(c), storage.BoxTypeInput{Name: f.Value("name"), Rows: rows, Cols: cols})
		return "Box type " + t.Name + " was added.", err
	})
}

func (s *Server) boxPage(c echo.Context) error {
	v := templates.BoxView{Selected: strings.ToUpper(strings.TrimSpace(c.QueryParam("position"))), Highlight: c.QueryParam("sample")}
	if v.Selected != "" {
		if _, err := storage.ParsePosition("position", v.Selected); err != nil {
			v.Selected, v.Error = "", err.Error()
		}
	}
	return s.renderBox(c, http.StatusOK, v)
}

func (s *Server) renderBox(c echo.Context, status int, v templates.BoxView) error {
	g, err := s.app.Storage.Grid(c.Request().Context(), actor(c), c.Param("barcode"))
	if err != nil {
		return err
	}
	if v.Selected != "" {
		if pos, err := storage.ParsePosition("position", v.Selected); err != nil || !g.Box.Contains(pos) {
			if v.Error == "" { // a refused scan already says why
				v.Error = "Box " + g.Box.Barcode + " has no position " + v.Selected + "."
			}
			v.Selected = ""
		}
	}
	a := actor(c)
	v.Grid, v.CanPlace, v.CanMove = g, a.Is(auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin), a.Is(auth.RoleManager, auth.RoleAdmin)
	if v.CanMove {
		fs, err := s.app.Storage.Freezers(c.Request().Context(), a)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.SiteID == g.Box.Freezer.SiteID {
				v.Freezers = append(v.Freezers, templates.Option{Value: strconv.FormatInt(f.ID, 10), Label: f.Name})
			}
		}
		if v.MoveForm.Values == nil {
			v.MoveForm = templates.NewForm()
		}
		v.MoveForm = v.MoveForm.WithPrefix("move-")
	}
	p := s.page(c, "Box "+g.Box.Barcode)
	p.Nav = "storage"
	return s.render(c, status, templates.BoxPage(p, v))
}

// placeScan places the scanned tube at the chosen position or the next free one, and shows
// the grid again, ready for the next scan.
func (s *Server) placeScan(c echo.Context) error {
	ctx := c.Request().Context()
	code := strings.TrimSpace(c.FormValue("sample"))
	pl, err := s.app.Storage.Place(ctx, actor(c), c.Param("barcode"), c.FormValue("position"), code)
	if err != nil {
		status, body := classify(err)
		if status >= 500 {
			return err
		}
		if status == http.StatusNotFound && code != "" {
			// A box's label scanned here: the technician wants that box.
			if b, err := s.app.Storage.FindBox(ctx, actor(c), code); err == nil {
				return c.Redirect(http.StatusSeeOther, templates.BoxPath(b.Barcode))
			}
		}
		if cf, ok := apperr.AsConflict(err); ok && cf.Code == "wrong_status" && c.FormValue("position") == "" {
			// A checked-out tube scanned into the box that keeps its position: a check-in.
			if smp, at, err := s.app.Storage.CheckInAt(ctx, actor(c), c.Param("barcode"), code); err == nil {
				return s.renderBox(c, http.StatusOK, templates.BoxView{Highlight: smp.Accession,
					Last: fmt.Sprintf("%s checked in to its position %s (freeze–thaw count %d).", smp.Accession, at, smp.FreezeThawCount)})
			}
		}
		msg := body.Message
		if code != "" && !strings.Contains(msg, strings.ToUpper(code)) && !strings.Contains(msg, code) {
			msg = code + ": " + msg
		}
		v := templates.BoxView{Error: msg, Selected: strings.ToUpper(c.FormValue("position"))}
		if status == http.StatusNotFound {
			v.Error = code + ": no sample or box has this code. Check the label and scan again."
		}
		return s.renderBox(c, status, v)
	}
	msg := pl.Sample.Accession + " placed at " + pl.Position.String() + "."
	if pl.From != nil {
		msg = pl.Sample.Accession + " moved here from " + pl.From.String() + " to " + pl.Position.String() + "."
	}
	return s.renderBox(c, http.StatusOK, templates.BoxView{Last: msg, Highlight: pl.Sample.Accession})
}

func (s *Server) findPage(c echo.Context) error {
	ctx := c.Request().Context()
	f := templates.NewForm()
	for _, k := range []string{"n", "type", "specimen_type"} {
		f.Values[k] = c.QueryParam(k)
	}
	if f.Values["n"] == "" {
		f.Values["n"] = "1"
	}
	n, _ := strconv.Atoi(f.Value("n"))
	boxes, err := s.app.Storage.FreeSpace(ctx, actor(c), n, f.Value("type"), f.Value("specimen_type"))
	if err != nil {
		return err
	}
	types, _, err := s.app.Studies.Vocabularies(ctx)
	if err != nil {
		return err
	}
	v := templates.FindView{Form: f, Boxes: boxes}
	for _, t := range types {
		v.Types = append(v.Types, templates.Option{Value: t.Code, Label: t.Label})
	}
	p := s.page(c, "Find free space")
	p.Nav = "storage"
	return s.render(c, http.StatusOK, templates.FindPage(p, v))
}

func (s *Server) checkedOutPage(c echo.Context) error {
	list, err := s.app.Storage.CheckedOutList(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	p := s.page(c, "Checked out")
	p.Nav = "storage"
	return s.render(c, http.StatusOK, templates.CheckedOutPage(p, list))
}

func (s *Server) importPage(c echo.Context) error {
	return s.renderImport(c, http.StatusOK, templates.ImportView{Form: importForm(c)})
}

func (s *Server) renderImport(c echo.Context, status int, v templates.ImportView) error {
	p := s.page(c, "Rack scanner import")
	p.Nav = "storage"
	return s.render(c, status, templates.ImportPage(p, v))
}

// importPreview reads the uploaded rack file and shows what importing it would do.
func (s *Server) importPreview(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return s.renderImport(c, http.StatusUnprocessableEntity, templates.ImportView{Error: "Choose the rack scanner's file.", Form: importForm(c)})
	}
	src, err := fh.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	data, err := io.ReadAll(io.LimitReader(src, storage.MaxRackFile+1))
	if err != nil {
		return err
	}
	f := importForm(c)
	f.Values["file_name"] = fh.Filename
	return s.previewData(c, string(data), f, http.StatusOK, "")
}

// importForm reads the import settings posted with a file or its confirmation.
func importForm(c echo.Context) templates.Form {
	f := formFrom(c, "box", "no_read", "order", "file_name")
	if f.Value("no_read") != "empty" {
		f.Values["no_read"] = "unreadable"
	}
	if f.Value("order") != "columns" {
		f.Values["order"] = "rows"
	}
	return f
}

// rackOptions are the parser's options from the import settings.
func rackOptions(f templates.Form) storage.RackOptions {
	return storage.RackOptions{Box: f.Value("box"), FileName: f.Value("file_name"),
		NoReadIsEmpty: f.Value("no_read") == "empty", ColumnOrder: f.Value("order") == "columns"}
}

// previewData parses and previews a rack file; a preview is shown with status and the
// message refused (empty for a plain preview).
func (s *Server) previewData(c echo.Context, data string, form templates.Form, status int, refused string) error {
	f, err := storage.ParseRackFile([]byte(data), rackOptions(form))
	if err != nil {
		if fe, ok := err.(*storage.FileError); ok {
			return s.renderImport(c, http.StatusUnprocessableEntity, templates.ImportView{Error: "This file cannot be imported.", Problems: fe.Problems, Form: form})
		}
		return err
	}
	p, err := s.app.Storage.PreviewRack(c.Request().Context(), actor(c), f)
	if err != nil {
		code, body := classify(err)
		if code >= 500 {
			return err
		}
		return s.renderImport(c, code, templates.ImportView{Error: body.Message, Form: form})
	}
	return s.renderImport(c, status, templates.ImportView{Preview: &p, Data: data, Error: refused, Form: form})
}

func (s *Server) importConfirm(c echo.Context) error {
	data := c.FormValue("data")
	form := importForm(c)
	f, err := storage.ParseRackFile([]byte(data), rackOptions(form))
	if err != nil {
		return s.previewData(c, data, form, http.StatusOK, "")
	}
	n, err := s.app.Storage.ImportRack(c.Request().Context(), actor(c), f)
	if err != nil {
		// Refused (the box changed since the preview): show the fresh preview with the
		// reason, as a refusal, not as a page that looks like the upload's answer.
		if cf, conflict := apperr.AsConflict(err); conflict {
			return s.previewData(c, data, form, http.StatusConflict, "Nothing was placed. "+cf.Message)
		}
		return err
	}
	return s.seeOther(c, templates.BoxPath(f.Rack), strconv.Itoa(n)+" tubes placed from the rack scanner file.")
}

// sampleStorageAction checks a sample out or in from its page.
func (s *Server) sampleStorageAction(c echo.Context) error {
	f := formFrom(c, "reason")
	return s.sampleForm(c, "storage", f, func() (sample.Sample, string, error) {
		switch c.FormValue("action") {
		case "checkin":
			smp, err := s.app.Storage.CheckIn(c.Request().Context(), actor(c), c.Param("code"))
			return smp, "Checked in: back in its position.", err
		case "checkout":
			smp, err := s.app.Storage.CheckOut(c.Request().Context(), actor(c), c.Param("code"), f.Value("reason"))
			return smp, "Checked out: its position stays reserved.", err
		}
		return sample.Sample{}, "", apperr.Invalid("action", "Choose check out or check in.")
	})
}

// scanBox resolves a box barcode to the box's page.
func (s *Server) scanBox(c echo.Context, q string) (bool, error) {
	b, err := s.app.Storage.FindBox(c.Request().Context(), actor(c), q)
	if err == nil {
		return true, c.Redirect(http.StatusSeeOther, templates.BoxPath(b.Barcode))
	}
	if _, forbidden := apperr.AsForbidden(err); forbidden {
		return true, s.scanMessage(c, q, http.StatusForbidden, "This box belongs to another site.")
	}
	if _, missing := apperr.AsNotFound(err); missing {
		return false, nil
	}
	return true, err
}

func (s *Server) moveBox(c echo.Context) error {
	f := formFrom(c, "freezer", "rack", "reason")
	b, err := s.app.Storage.MoveBox(c.Request().Context(), actor(c), c.Param("barcode"), f.Value("freezer"), f.Value("rack"), f.Value("reason"))
	if err != nil {
		if formError(&f, err) {
			return s.renderBox(c, http.StatusUnprocessableEntity, templates.BoxView{MoveForm: f})
		}
		return err
	}
	return s.seeOther(c, templates.BoxPath(b.Barcode), "Box "+b.Barcode+" moved to "+b.Freezer.Name+"; every sample's move is in the audit trail.")
}

func (s *Server) moveRack(c echo.Context) error {
	f := formFrom(c, "rack", "freezer", "reason")
	return s.storageForm(c, "moverack", f, func() (string, error) {
		id, err := strconv.ParseInt(f.Value("rack"), 10, 64)
		if err != nil {
			return "", apperr.Invalid("rack", "Choose the rack.")
		}
		return "The rack and its boxes were moved.", s.app.Storage.MoveRack(c.Request().Context(), actor(c), id, f.Value("freezer"), f.Value("reason"))
	})
}

// boxGrid renders only a box's grid, for the box page's script to refresh it while
// colleagues place tubes into the same box.
func (s *Server) boxGrid(c echo.Context) error {
	g, err := s.app.Storage.Grid(c.Request().Context(), actor(c), c.Param("barcode"))
	if err != nil {
		return err
	}
	canPlace := actor(c).Is(auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin)
	return s.render(c, http.StatusOK, templates.BoxGrid(g, strings.ToUpper(c.QueryParam("position")), c.QueryParam("sample"), canPlace))
}
