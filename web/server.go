// Package web is the HTTP layer: the echo router, middleware, and one file of handlers per
// area. Handlers parse, call one service method, and render or redirect; the domain lives
// in internal/.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/instance"
)

// Config is the HTTP server's configuration, read from the environment by cmd/biobank.
type Config struct {
	// Queries, when set, is told after every request how many queries it sent to
	// PostgreSQL (authentication and session included): the query-budget tests and the
	// bench use it.
	Queries QueryObserver

	Addr          string
	BaseURL       string
	SecureCookies bool
	// IdleTimeout ends a session after this long without a request (bench PCs are shared).
	IdleTimeout time.Duration
	// SessionLifetime ends a session this long after sign-in, however active.
	SessionLifetime time.Duration
	// AccessionPrefix starts new accession IDs (sample.DefaultPrefix when empty).
	AccessionPrefix string
	// Identity is this instance in a federation (name, prefix, signing key); an ephemeral
	// one, named after the accession prefix, when nil (tests).
	Identity *instance.Identity
	// RequestTimeout bounds the time a request may spend, mostly waiting on the database:
	// past it the request's context ends and the caller is told 503. Streamed exports
	// are bounded per page instead. Zero means twice the database's statement timeout,
	// and no bound when the database was opened without limits.
	RequestTimeout time.Duration
	// Clock is the time the services and the session store read (UTC); the real clock
	// when nil. Tests move it forward instead of sleeping.
	Clock Clock
}

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Server is the web application.
type Server struct {
	cfg Config
	db  *db.DB
	// app holds every domain service, built by the composition root.
	app      *app.App
	sessions *scs.SessionManager
	echo     *echo.Echo
	access   map[string]access
	// failExportPage, set only by tests, fails the read of a streamed export's page n.
	failExportPage func(n int) error
	// now is the server's clock (Config.Clock or the real one).
	now func() time.Time
}

// New wires the application's routes and middleware on d.
func New(cfg Config, d *db.DB) *Server {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * d.Limits().StatementTimeout
	}
	now := func() time.Time { return time.Now().UTC() }
	if cfg.Clock != nil {
		now = cfg.Clock.Now
	}
	a := app.New(d, app.Config{AccessionPrefix: cfg.AccessionPrefix, Now: now})
	if cfg.Identity == nil {
		id := instance.Ephemeral("biobank-"+strings.ToLower(a.Samples.Prefix), a.Samples.Prefix)
		cfg.Identity = &id
	}
	cfg.Identity.AccessionPrefix, cfg.Identity.BaseURL = a.Samples.Prefix, cfg.BaseURL
	s := &Server{cfg: cfg, db: d, app: a, access: map[string]access{}}
	s.now = now
	s.sessions = newSessionManager(cfg, d)
	s.echo = echo.New()
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.middleware()
	s.routes()
	return s
}

// ServeHTTP makes the server an http.Handler (for tests).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.echo.ServeHTTP(w, r)
}

// AuthService exposes the auth service (the browser tests' helpers use it).
func (s *Server) AuthService() *auth.Service { return s.app.Auth }

// Serve accepts connections on ln until ctx is cancelled, then stops accepting and lets
// in-flight requests finish (up to 30 seconds) before returning.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	slog.Info("stopped")
	return nil
}

// QueryObserver learns how many queries each request sent.
type QueryObserver interface {
	Observe(method, route string, status int, queries int64)
}

// Recover settles what a stopped server left behind, before serving: an import job still
// marked running was interrupted (its transaction died with the server) and is marked
// failed.
func (s *Server) Recover(ctx context.Context) error {
	n, err := s.app.Import.RecoverInterrupted(ctx)
	if err != nil {
		return fmt.Errorf("recover interrupted imports: %w", err)
	}
	if n > 0 {
		slog.Warn("import jobs interrupted by the last stop were marked failed", "jobs", n)
	}
	return nil
}
