package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/static"
)

// Context keys.
const (
	ctxActor = "actor"
	ctxUser  = "user"
)

// contentSecurityPolicy allows only this origin's own files: no inline scripts or styles,
// no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (s *Server) middleware() {
	e := s.echo
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			slog.Error("panic", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		Skipper: func(c echo.Context) bool {
			return strings.HasPrefix(c.Path(), "/static/") || c.Path() == "/healthz"
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			slog.Log(c.Request().Context(), level, "request", "method", v.Method, "uri", v.URI, "status", v.Status,
				"latency", v.Latency.Round(time.Microsecond), "request_id", v.RequestID, "user", actorName(c))
			return nil
		},
	}))
	if s.cfg.Queries != nil {
		e.Use(s.countQueries)
	}
	e.Use(s.requestDeadline)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            31536000,
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "same-origin",
	}))
	// Forms and JSON bodies are small; an import file may be large.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "2M", Skipper: func(c echo.Context) bool { return uploadRoutes[c.Path()] }}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "64M", Skipper: func(c echo.Context) bool { return !uploadRoutes[c.Path()] }}))
	e.Use(s.authenticate)
	e.Use(s.authorize)
	// After the access checks: whoever may not call a route is told so, whatever they sent.
	e.Use(s.checkInput)
	e.Use(s.recordSite)
}

// streamedRoutes answer with a body written page by page (or do long work bounded by
// statement timeouts of their own): no request timeout over the whole response.
var streamedRoutes = map[string]bool{
	"/audit/export.csv":          true,
	"/api/v1/audit/export.csv":   true,
	"/api/v1/export/fhir":        true,
	"/api/v1/export/miabis.csv":  true,
	"/api/v1/samples/export.csv": true,
	"/api/v1/import/samples":     true,
	"/import":                    true,
}

// uploadRoutes take import files, up to 64 MB (a million-row collection); every other
// route takes 2 MB at most. Their work is bounded by its own statement timeouts, not by
// the request timeout (a dry run of 100,000 rows takes seconds).
var uploadRoutes = map[string]bool{
	"/api/v1/import/samples": true,
	"/import":                true,
}

// countQueries counts the queries a request sends, for Config.Queries.
func (s *Server) countQueries(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, n := db.CountQueries(c.Request().Context())
		c.SetRequest(c.Request().WithContext(ctx))
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status, _ = classify(err)
		}
		s.cfg.Queries.Observe(c.Request().Method, c.Path(), status, n.Load())
		return err
	}
}

// requestDeadline gives each request's context the request timeout, so a database that
// stops answering ends the request with a 503 rather than holding it (and its pool
// connection) indefinitely.
func (s *Server) requestDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.RequestTimeout <= 0 || streamedRoutes[c.Path()] {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// pageContext is the context for one page of a streamed response: the request's, bounded
// by the request timeout.
func (s *Server) pageContext(c echo.Context) (context.Context, context.CancelFunc) {
	if s.cfg.RequestTimeout <= 0 {
		return context.WithCancel(c.Request().Context())
	}
	return context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
}

// recordSite refuses an API write on another site's participant, sample, box or shipment (named in
// the path) before the handler reads the body: a nurse or technician of another site is
// told 403 (or 404), never that their input was incomplete. Pages look the record up
// before anything else already, and managers and administrators act on every site.
func (s *Server) recordSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, ok := c.Get(ctxActor).(auth.Actor)
		if !ok || !isAPI(c) || c.Request().Method == http.MethodGet || a.AllSites() {
			return next(c)
		}
		ctx := c.Request().Context()
		var err error
		switch {
		case c.Param("pseudonym") != "":
			_, err = s.app.Participants.Get(ctx, a, c.Param("pseudonym"))
		case c.Param("code") != "":
			_, err = s.app.Samples.Get(ctx, a, c.Param("code"))
		case c.Param("barcode") != "":
			_, err = s.app.Storage.FindBox(ctx, a, c.Param("barcode"))
		case c.Param("shipment") != "":
			_, err = s.app.Shipments.Get(ctx, a, c.Param("shipment"))
		}
		if err != nil {
			return err
		}
		return next(c)
	}
}

func actorName(c echo.Context) string {
	if a, ok := c.Get(ctxActor).(auth.Actor); ok {
		return a.Username
	}
	return ""
}

// isAPI reports whether the request is for the JSON or FHIR API, which authenticate with
// bearer tokens and answer in JSON.
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, jsonPrefix) || strings.HasPrefix(p, fhirPrefix)
}

// authenticate finds out who is calling: API routes by bearer token, pages by session
// cookie (loading and saving the session around the request). It never refuses a
// request: authorize does, knowing the route.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasPrefix(c.Request().URL.Path, static.Prefix) || c.Path() == "/healthz" {
			return next(c)
		}
		if isAPI(c) {
			if h := c.Request().Header.Get("Authorization"); h != "" {
				scheme, token, _ := strings.Cut(h, " ")
				if strings.EqualFold(scheme, "Bearer") {
					actor, err := s.app.Auth.Authenticate(c.Request().Context(), token)
					if err != nil && err != apperr.ErrUnauthenticated {
						return err
					}
					if err == nil {
						c.Set(ctxActor, actor)
					}
				}
			}
			return next(c)
		}
		return s.withSession(c, next)
	}
}

// loadSessionUser puts the signed-in user into the context, ending the session when the
// user has been deactivated, their password was reset since they signed in, or the
// session's lifetime since sign-in is over (read on the server's clock; the session
// store's expiry holds it too).
func (s *Server) loadSessionUser(c echo.Context) error {
	ctx := c.Request().Context()
	id := s.sessions.GetInt64(ctx, sessUserID)
	if id == 0 {
		return nil
	}
	authAt := s.sessions.GetInt64(ctx, sessAuthAt)
	actor, user, err := s.app.Auth.ActiveActor(ctx, id)
	if err == apperr.ErrUnauthenticated ||
		(err == nil && user.PasswordChangedAt.UnixMicro() > authAt) ||
		s.now().Sub(time.UnixMicro(authAt)) >= s.cfg.SessionLifetime {
		if err := s.sessions.Destroy(ctx); err != nil {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	c.Set(ctxActor, actor)
	c.Set(ctxUser, user)
	return nil
}

// authorize enforces the route table: sign-in, role, and the CSRF token of every
// state-changing page request.
func (s *Server) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, known := s.access[c.Request().Method+" "+c.Path()]
		if !known {
			// No route matched (404/405): let echo's handler say so. A matched route
			// without an access entry cannot exist: route() always records one.
			return next(c)
		}
		if !isAPI(c) && c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
			if !s.csrfValid(c) {
				if c.Path() == "/login" {
					// A sign-in page left open past the idle timeout lost its session and
					// token: the normal state of a bench PC after someone signed out. Offer
					// the form again with a fresh token instead of an error page.
					return s.signInExpired(c)
				}
				return &echo.HTTPError{Code: http.StatusForbidden, Message: csrfMessage}
			}
		}
		if a.public {
			return next(c)
		}
		actor, ok := c.Get(ctxActor).(auth.Actor)
		if !ok {
			if isAPI(c) {
				return apperr.ErrUnauthenticated
			}
			return s.redirectToSignIn(c)
		}
		if len(a.roles) > 0 {
			if err := actor.Require(a.roles...); err != nil {
				return err
			}
		}
		return next(c)
	}
}

const csrfMessage = "This form has expired or did not come from this application. Go back, reload the page and try again."

// redirectToSignIn sends a person to the sign-in page, remembering where they were going.
// A request that carried a session cookie whose session is gone had its session expire.
func (s *Server) redirectToSignIn(c echo.Context) error {
	if _, err := c.Cookie(signedInCookie); err == nil {
		s.addFlash(c, "info", "Your session has ended. Sign in again to continue.")
		s.setSignedInCookie(c, false)
	}
	target := "/login"
	if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
		target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// signedInCookie marks a browser that signed in and has not signed out, so that a request
// arriving after the session expired can say so instead of showing a bare sign-in page.
// It carries no secret.
const signedInCookie = "biobank_signed_in"

func (s *Server) setSignedInCookie(c echo.Context, on bool) {
	ck := &http.Cookie{Name: signedInCookie, Value: "1", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies}
	if !on {
		ck.Value, ck.MaxAge = "", -1
	}
	c.SetCookie(ck)
}
