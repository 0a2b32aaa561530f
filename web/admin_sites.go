package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/templates"
)

func (s *Server) sitesPage(c echo.Context) error {
	return s.renderSites(c, http.StatusOK, templates.NewForm())
}

func (s *Server) renderSites(c echo.Context, status int, f templates.Form) error {
	sites, err := s.app.Auth.Sites(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "Sites")
	p.Nav = "sites"
	return s.render(c, status, templates.SitesPage(p, sites, f))
}

func (s *Server) createSite(c echo.Context) error {
	f := formFrom(c, "code", "name", "country", "reason")
	in := auth.SiteInput{Code: f.Value("code"), Name: f.Value("name"), Country: f.Value("country"), Reason: f.Value("reason")}
	site, err := s.app.Auth.CreateSite(c.Request().Context(), actor(c), in)
	if err != nil {
		if formError(&f, err) {
			return s.renderSites(c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return s.seeOther(c, "/admin/sites", "Site "+site.Code+" was added.")
}

// siteParam returns the site named in the URL. An unknown code is a 404 here: the
// service's lookup reports it as a wrong form value, which suits a form field, not a URL.
func (s *Server) siteParam(c echo.Context) (auth.Site, error) {
	site, err := s.app.Auth.SiteByCode(c.Request().Context(), c.Param("code"))
	if _, invalid := apperr.AsValidation(err); invalid {
		return auth.Site{}, apperr.NotFound("site", c.Param("code"))
	}
	return site, err
}

func (s *Server) siteEditPage(c echo.Context) error {
	site, err := s.siteParam(c)
	if err != nil {
		return err
	}
	f := templates.NewForm()
	f.Values["name"], f.Values["country"], f.Values["active"] = site.Name, site.Country, strconv.FormatBool(site.Active)
	p := s.page(c, "Site "+site.Code)
	p.Nav = "sites"
	return s.render(c, http.StatusOK, templates.SiteEditPage(p, site, f))
}

func (s *Server) updateSite(c echo.Context) error {
	ctx := c.Request().Context()
	site, err := s.siteParam(c)
	if err != nil {
		return err
	}
	f := formFrom(c, "name", "country", "active", "reason")
	active := f.Value("active") != "false"
	in := auth.SiteInput{Name: f.Value("name"), Country: f.Value("country"), Active: &active, Reason: f.Value("reason")}
	if _, err := s.app.Auth.UpdateSite(ctx, actor(c), site.Code, in); err != nil {
		if formError(&f, err) {
			p := s.page(c, "Site "+site.Code)
			p.Nav = "sites"
			return s.render(c, http.StatusUnprocessableEntity, templates.SiteEditPage(p, site, f))
		}
		return err
	}
	return s.seeOther(c, "/admin/sites", "Site "+site.Code+" was changed.")
}
