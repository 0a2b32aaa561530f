package web

import (
	"biobank/internal/input"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/templates"
)

func (s *Server) home(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	var h templates.Home
	if a.Is(auth.RoleAdmin, auth.RoleManager) {
		page, err := audit.List(ctx, s.db.Gorm, audit.Filter{Limit: 10})
		if err != nil {
			return err
		}
		h.Recent = page.Events
		if len(page.Events) > 0 {
			h.ChainEvents = page.Events[0].Seq
		}
	}
	if a.Is(auth.RoleAdmin) {
		sites, err := s.app.Auth.Sites(ctx)
		if err != nil {
			return err
		}
		users, err := s.app.Auth.Users(ctx)
		if err != nil {
			return err
		}
		h.Sites, h.Users = len(sites), len(users)
	}
	p := s.page(c, "Home")
	p.Nav, p.Bench = "home", a.Is(auth.RoleTechnician, auth.RoleNurse)
	return s.render(c, http.StatusOK, templates.HomePage(p, h))
}

// scan resolves what was scanned or typed into the header box: one exact match goes
// straight to its page; a wrong check character says so; no match says so, echoing what
// was scanned. It tries samples (accession ID, tube barcode), then boxes, then pseudonyms;
// shipments will add theirs.
func (s *Server) scan(c echo.Context) error {
	q := input.Scanned(c.QueryParam("q"))
	if q == "" {
		return s.scanMessage(c, "", http.StatusOK, "Nothing was scanned: scan a barcode or type a code, then press Enter.")
	}
	if utf8.RuneCountInString(q) > 200 {
		q = string([]rune(q)[:200])
	}
	if handled, err := s.scanSample(c, q); handled || err != nil {
		return err
	}
	if handled, err := s.scanBox(c, q); handled || err != nil {
		return err
	}
	if handled, err := s.scanPseudonym(c, q); handled || err != nil {
		return err
	}
	return s.scanMessage(c, q, http.StatusNotFound, "Nothing matched “"+q+"”. Check the code and scan again.")
}

// scanMessage shows the scan page with a message, the scan box focused for the next scan.
func (s *Server) scanMessage(c echo.Context, q string, status int, msg string) error {
	p := s.page(c, "Scan")
	p.Bench, p.Scan = true, q
	return s.render(c, status, templates.ScanResult(p, q, msg))
}

// scanSample resolves an accession ID or tube barcode to the sample's page. A misread
// accession ID (wrong check character) or another site's sample is reported; anything
// else that is not a sample is left for the other resolvers.
func (s *Server) scanSample(c echo.Context, q string) (bool, error) {
	smp, err := s.app.Samples.Get(c.Request().Context(), actor(c), q)
	switch {
	case err == nil:
		return true, c.Redirect(http.StatusSeeOther, templates.SamplePath(smp.Accession))
	case isCheckFailure(err):
		return true, s.scanMessage(c, q, http.StatusUnprocessableEntity, err.Error())
	}
	if _, forbidden := apperr.AsForbidden(err); forbidden {
		return true, s.scanMessage(c, q, http.StatusForbidden, "This sample is in the custody of another site.")
	}
	if _, missing := apperr.AsNotFound(err); missing {
		return false, nil
	}
	if _, invalid := apperr.AsValidation(err); invalid {
		return false, nil
	}
	return true, err
}
