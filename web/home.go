package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

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
		sites, err := s.auth.Sites(ctx)
		if err != nil {
			return err
		}
		users, err := s.auth.Users(ctx)
		if err != nil {
			return err
		}
		h.Sites, h.Users = len(sites), len(users)
	}
	p := s.page(c, "Home")
	p.Nav, p.Bench = "home", a.Is(auth.RoleTechnician, auth.RoleNurse)
	return s.render(c, http.StatusOK, templates.HomePage(p, h))
}

// scan resolves what was scanned or typed into the header box. Later areas (participants,
// samples, boxes, shipments) add their resolvers; until then nothing matches.
func (s *Server) scan(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	p := s.page(c, "Scan")
	p.Bench = true
	if q == "" {
		return s.render(c, http.StatusOK, templates.ScanResult(p, "", "Nothing was scanned: scan a barcode or type a code, then press Enter."))
	}
	if utf8.RuneCountInString(q) > 200 {
		q = string([]rune(q)[:200])
	}
	p.Scan = q
	return s.render(c, http.StatusNotFound, templates.ScanResult(p, q, "Nothing matched “"+q+"”. Check the code and scan again."))
}
