package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/templates"
)

func (s *Server) usersPage(c echo.Context) error {
	users, err := s.app.Auth.Users(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "Users")
	p.Nav = "users"
	return s.render(c, http.StatusOK, templates.UsersPage(p, users))
}

func roleOptions() []templates.Option {
	opts := make([]templates.Option, len(auth.Roles))
	for i, r := range auth.Roles {
		opts[i] = templates.Option{Value: string(r), Label: r.Label()}
	}
	return opts
}

func (s *Server) siteOptions(c echo.Context) ([]templates.Option, error) {
	sites, err := s.app.Auth.Sites(c.Request().Context())
	if err != nil {
		return nil, err
	}
	var opts []templates.Option
	for _, site := range sites {
		if site.Active {
			opts = append(opts, templates.Option{Value: site.Code, Label: site.Code + " — " + site.Name})
		}
	}
	return opts, nil
}

func (s *Server) newUserPage(c echo.Context) error {
	return s.renderNewUser(c, http.StatusOK, templates.NewForm())
}

func (s *Server) renderNewUser(c echo.Context, status int, f templates.Form) error {
	sites, err := s.siteOptions(c)
	if err != nil {
		return err
	}
	p := s.page(c, "Add a user")
	p.Nav = "users"
	return s.render(c, status, templates.NewUserPage(p, f, roleOptions(), sites))
}

func (s *Server) createUser(c echo.Context) error {
	f := formFrom(c, "username", "role", "site", "reason")
	in := auth.NewUser{Username: f.Value("username"), Role: f.Value("role"), Site: f.Value("site"),
		Password: c.FormValue("password"), Reason: f.Value("reason")}
	f.Values["password"] = "" // never echo a password back
	u, err := s.app.Auth.CreateUser(c.Request().Context(), actor(c), in)
	if err != nil {
		if formError(&f, err) {
			return s.renderNewUser(c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return s.seeOther(c, userURL(u.ID), "User "+u.Username+" was added.")
}

func userURL(id int64) string { return "/admin/users/" + strconv.FormatInt(id, 10) }

func userIDParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("user", c.Param("id"))
	}
	return id, nil
}

func (s *Server) userPage(c echo.Context) error {
	return s.renderUser(c, http.StatusOK, "", nil, "")
}

// renderUser shows one user's page; failed names the form that was refused, with f.
func (s *Server) renderUser(c echo.Context, status int, failed string, f *templates.Form, newToken string) error {
	ctx := c.Request().Context()
	id, err := userIDParam(c)
	if err != nil {
		return err
	}
	u, err := s.app.Auth.UserByID(ctx, id)
	if err != nil {
		return err
	}
	tokens, err := s.app.Auth.Tokens(ctx, u.ID)
	if err != nil {
		return err
	}
	sites, err := s.siteOptions(c)
	if err != nil {
		return err
	}
	access := templates.NewForm()
	access.Values["role"], access.Values["site"] = string(u.Role), u.Site.Code
	d := templates.UserDetail{User: u, Tokens: tokens, Roles: roleOptions(), Sites: sites, NewToken: newToken,
		Forms: map[string]templates.Form{"access": access}}
	if f != nil {
		d.Forms[failed] = *f
	}
	p := s.page(c, "User "+u.Username)
	p.Nav = "users"
	return s.render(c, status, templates.UserPage(p, d))
}

// updateUser applies a change from one of the user page's forms.
func (s *Server) updateUser(c echo.Context, form string, f templates.Form, ch auth.UserChange, done string) error {
	id, err := userIDParam(c)
	if err != nil {
		return err
	}
	ch.Reason = f.Value("reason")
	u, err := s.app.Auth.UpdateUser(c.Request().Context(), actor(c), id, ch)
	if err != nil {
		if formError(&f, err) {
			return s.renderUser(c, http.StatusUnprocessableEntity, form, &f, "")
		}
		return err
	}
	return s.seeOther(c, userURL(u.ID), done)
}

func (s *Server) changeUserAccess(c echo.Context) error {
	f := formFrom(c, "role", "site", "reason")
	role, site := f.Value("role"), f.Value("site")
	return s.updateUser(c, "access", f, auth.UserChange{Role: &role, Site: &site}, "Role and site were saved.")
}

func (s *Server) resetUserPassword(c echo.Context) error {
	f := formFrom(c, "password", "reason")
	pw := f.Value("password")
	f.Values["password"] = ""
	return s.updateUser(c, "password", f, auth.UserChange{Password: &pw}, "The password was reset. Tell the user by a separate channel.")
}

func (s *Server) changeUserStatus(c echo.Context) error {
	f := formFrom(c, "reason")
	var ch auth.UserChange
	var done string
	switch c.FormValue("action") {
	case "deactivate":
		off := false
		ch.Active, done = &off, "The user was deactivated and signed out everywhere."
	case "reactivate":
		on := true
		ch.Active, done = &on, "The user was reactivated."
	case "unlock":
		ch.Unlock, done = true, "The sign-in lock was lifted."
	default:
		f.Error = "Choose deactivate, reactivate or lift the lock."
		return s.renderUser(c, http.StatusUnprocessableEntity, "status", &f, "")
	}
	return s.updateUser(c, "status", f, ch, done)
}

func (s *Server) createUserToken(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := userIDParam(c)
	if err != nil {
		return err
	}
	u, err := s.app.Auth.UserByID(ctx, id)
	if err != nil {
		return err
	}
	f := formFrom(c, "name")
	secret, _, err := s.app.Auth.CreateToken(ctx, actor(c), u.Username, f.Value("name"))
	if err != nil {
		if formError(&f, err) {
			return s.renderUser(c, http.StatusUnprocessableEntity, "token", &f, "")
		}
		return err
	}
	// The secret is shown in this response only; it is not stored anywhere to show again.
	return s.renderUser(c, http.StatusCreated, "", nil, secret)
}

func (s *Server) revokeUserToken(c echo.Context) error {
	id, err := userIDParam(c)
	if err != nil {
		return err
	}
	tokenID, err := strconv.ParseInt(c.Param("token"), 10, 64)
	if err != nil {
		return apperr.NotFound("API token", c.Param("token"))
	}
	f := formFrom(c, "reason")
	if err := s.app.Auth.RevokeToken(c.Request().Context(), actor(c), tokenID, f.Value("reason")); err != nil {
		if formError(&f, err) {
			f.Error = f.Errors["reason"] + f.Error
			return s.renderUser(c, http.StatusUnprocessableEntity, "revoke", &f, "")
		}
		return err
	}
	return s.seeOther(c, userURL(id), "The API token was revoked.")
}
