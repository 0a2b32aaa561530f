package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/templates"
)

// render writes a templ component as the response. templ stops at a done context; an
// error page is rendered after the request's deadline has passed or its context has
// been cancelled, so rendering ignores cancellation (a client that went away makes the
// write fail instead).
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return comp.Render(context.WithoutCancel(c.Request().Context()), c.Response().Writer)
}

// page builds the layout's view model for the current request, taking any queued flash
// messages.
func (s *Server) page(c echo.Context, title string) templates.Page {
	p := templates.Page{Title: title}
	if u, ok := c.Get(ctxUser).(auth.User); ok {
		p.User = &templates.User{Username: u.Username, Role: string(u.Role), RoleLabel: u.Role.Label(), Site: u.Site.Code}
	}
	if s.sessions != nil && !isAPI(c) && sessionLoaded(c) {
		p.CSRF = s.csrfToken(c)
		ctx := c.Request().Context()
		if raw, ok := s.sessions.Pop(ctx, sessFlash).([]string); ok {
			for _, f := range raw {
				kind, msg, _ := strings.Cut(f, "\x00")
				p.Flashes = append(p.Flashes, templates.Flash{Kind: kind, Message: msg})
			}
		}
		if offer := s.sessions.PopString(ctx, sessPrintOffer); offer != "" {
			p.PrintOffer, p.PrintNext = strings.Split(offer, ","), c.Request().URL.RequestURI()
		}
	}
	return p
}

// sessionLoaded reports whether the request passed through the session middleware (the
// error page for a static file, for one, did not).
func sessionLoaded(c echo.Context) bool {
	return c.Get(ctxSessionLoaded) == true
}

const ctxSessionLoaded = "session_loaded"

// actor returns the acting user of a request that authorize let through.
func actor(c echo.Context) auth.Actor {
	a, _ := c.Get(ctxActor).(auth.Actor)
	return a
}

// seeOther redirects after a successful form post, with a flash message.
func (s *Server) seeOther(c echo.Context, to, flash string) error {
	if flash != "" {
		s.addFlash(c, "success", flash)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// formFrom copies the named fields of the posted form into a view-model form.
func formFrom(c echo.Context, names ...string) templates.Form {
	f := templates.NewForm()
	for _, n := range names {
		f.Values[n] = c.FormValue(n)
	}
	return f
}

// formError puts a domain error beside its field, or above the form when it names none.
// It returns false for errors that are not a person's to fix (internal errors), which
// the caller returns to the error handler.
func formError(f *templates.Form, err error) bool {
	if v, ok := apperr.AsValidation(err); ok {
		setFormError(f, v.Field, v.Message)
		return true
	}
	if cf, ok := apperr.AsConflict(err); ok {
		setFormError(f, cf.Field, cf.Message)
		return true
	}
	if fb, ok := apperr.AsForbidden(err); ok {
		f.Error = fb.Message
		return true
	}
	return false
}

func setFormError(f *templates.Form, field, msg string) {
	if _, shown := f.Values[field]; field != "" && shown {
		f.Errors[field] = msg
		return
	}
	f.Error = msg
}
