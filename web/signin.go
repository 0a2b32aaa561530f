package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/auth"
	"biobank/templates"
)

func (s *Server) signInPage(c echo.Context) error {
	if _, ok := c.Get(ctxActor).(auth.Actor); ok {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	f := templates.NewForm()
	return s.render(c, http.StatusOK, templates.SignIn(s.page(c, "Sign in"), f, safeNext(c.QueryParam("next"))))
}

func (s *Server) signIn(c echo.Context) error {
	f := formFrom(c, "username")
	next := safeNext(c.FormValue("next"))
	user, err := s.app.Auth.SignIn(c.Request().Context(), c.FormValue("username"), c.FormValue("password"), c.RealIP())
	if errors.Is(err, auth.ErrBadCredentials) {
		f.Error = auth.SignInMessage
		return s.render(c, http.StatusUnauthorized, templates.SignIn(s.page(c, "Sign in"), f, next))
	}
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// A new session token at sign-in defeats session fixation; a new CSRF token too.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Remove(ctx, sessCSRF)
	s.sessions.Put(ctx, sessUserID, user.ID)
	s.sessions.Put(ctx, sessAuthAt, s.now().UnixMicro())
	s.setSignedInCookie(c, true)
	return c.Redirect(http.StatusSeeOther, next)
}

// signInExpired re-shows the sign-in form when its CSRF token had expired; nothing was
// checked or changed, and the password is not kept.
func (s *Server) signInExpired(c echo.Context) error {
	f := formFrom(c, "username")
	f.Error = "This sign-in page had been open for a long time. Enter your password again to sign in."
	return s.render(c, http.StatusForbidden, templates.SignIn(s.page(c, "Sign in"), f, safeNext(c.FormValue("next"))))
}

func (s *Server) signOut(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.app.Auth.SignOut(ctx, actor(c)); err != nil {
		return err
	}
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	s.setSignedInCookie(c, false)
	s.addFlash(c, "success", "You have signed out.")
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps a post-sign-in redirect on this site: only a local path is followed.
// Control characters are refused outright: browsers drop tabs and newlines from a URL, so
// "/\t/evil.example" would become the protocol-relative "//evil.example".
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return next
}
