package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"biobank/internal/audit"
	"biobank/internal/auth"
)

// apiUser is a user in the JSON API.
type apiUser struct {
	Username    string     `json:"username"`
	Role        auth.Role  `json:"role"`
	Site        string     `json:"site"`
	Active      bool       `json:"active"`
	LockedUntil *time.Time `json:"locked_until"`
	LastSignIn  *time.Time `json:"last_sign_in_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

func toAPIUser(u auth.User) apiUser {
	return apiUser{Username: u.Username, Role: u.Role, Site: u.Site.Code, Active: u.Active,
		LockedUntil: u.LockedUntil, LastSignIn: u.LastSignInAt, CreatedAt: u.CreatedAt}
}

func (s *Server) apiMe(c echo.Context) error {
	a := actor(c)
	return c.JSON(http.StatusOK, map[string]any{"username": a.Username, "role": a.Role, "site": a.SiteCode})
}

func (s *Server) apiSites(c echo.Context) error {
	sites, err := s.app.Auth.Sites(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sites": sites})
}

func (s *Server) apiCreateSite(c echo.Context) error {
	var in auth.SiteInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.Active = nil
	site, err := s.app.Auth.CreateSite(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, site)
}

func (s *Server) apiUsers(c echo.Context) error {
	users, err := s.app.Auth.Users(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]apiUser, len(users))
	for i, u := range users {
		out[i] = toAPIUser(u)
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (s *Server) apiCreateUser(c echo.Context) error {
	var in auth.NewUser
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.app.Auth.CreateUser(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAPIUser(u))
}

func (s *Server) apiUpdateUser(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.app.Auth.UserByUsername(ctx, c.Param("username"))
	if err != nil {
		return err
	}
	var ch auth.UserChange
	if err := bindJSON(c, &ch); err != nil {
		return err
	}
	u, err = s.app.Auth.UpdateUser(ctx, actor(c), u.ID, ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIUser(u))
}

func (s *Server) apiAudit(c echo.Context) error {
	filter, err := auditFilter(c)
	if err != nil {
		return err
	}
	page, err := audit.List(c.Request().Context(), s.db.Gorm, filter)
	if err != nil {
		return err
	}
	events := page.Events
	if events == nil {
		events = []audit.Event{}
	}
	var next any
	if page.NextCursor > 0 {
		next = page.NextCursor
	}
	return c.JSON(http.StatusOK, map[string]any{"events": events, "next_cursor": next})
}

func (s *Server) apiAuditVerify(c echo.Context) error {
	res, err := audit.Verify(c.Request().Context(), s.db.Pool)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
