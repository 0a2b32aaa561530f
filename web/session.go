package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"biobank/internal/db"
	"biobank/templates"
)

// Session keys.
const (
	sessUserID = "user_id"
	// sessAuthAt is the sign-in time in microseconds since the epoch, the precision of
	// users.password_changed_at: a password reset in the same second as the sign-in must
	// still end the session.
	sessAuthAt = "auth_at_us"
	sessCSRF   = "csrf"
	sessFlash  = "flash"
	// sessPrintOffer holds the codes whose labels the next page offers to print.
	sessPrintOffer = "print_offer"
)

func newSessionManager(cfg Config, d *db.DB) *scs.SessionManager {
	sm := scs.New()
	// pgxstore's own store is kept only for its sweep of expired sessions every ten minutes.
	pgxstore.NewWithCleanupInterval(d.Pool, 10*time.Minute)
	store := hashedStore{pool: d.Pool}
	if cfg.Clock != nil {
		store.now = cfg.Clock.Now
	}
	sm.Store = store
	sm.IdleTimeout = cfg.IdleTimeout
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.Name = "biobank_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false // a session cookie: closing the browser ends it too
	return sm
}

// withSession loads the caller's session around next and saves it just before the
// response's header goes out (a renewed token's cookie must be in that header). It does
// what scs's LoadAndSave does, except that a session store that fails (the database is
// down) is answered through the one error handler: a load failure before next runs, a
// save failure instead of next's response, never both.
func (s *Server) withSession(c echo.Context, next echo.HandlerFunc) error {
	var token string
	if cookie, err := c.Cookie(s.sessions.Cookie.Name); err == nil {
		token = cookie.Value
	}
	ctx, err := s.sessions.Load(c.Request().Context(), token)
	if err != nil {
		return err
	}
	c.SetRequest(c.Request().WithContext(ctx))
	c.Response().Header().Add("Vary", "Cookie")
	sw := &sessionWriter{ResponseWriter: c.Response().Writer, s: s, c: c}
	c.Response().Writer = sw
	c.Set(ctxSessionLoaded, true)

	err = s.loadSessionUser(c)
	if err == nil {
		err = next(c)
	}
	if err != nil {
		// Rendered inside the session's lifetime, so a flash or a renewed cookie is
		// still written.
		c.Error(err)
	}
	if !sw.done {
		sw.done = true
		if err := sw.commit(); err != nil {
			sw.failed = true
			s.sessionSaveFailed(c, sw.ResponseWriter, err)
		}
	}
	return nil
}

// sessionWriter commits the session when the response's header is first written. When
// that fails it answers with the error page in place of the handler's response, and
// discards what the handler writes after.
type sessionWriter struct {
	http.ResponseWriter
	s      *Server
	c      echo.Context
	done   bool // the session was committed (or its commit failed)
	failed bool
}

// commit saves a modified session and sets its cookie, or clears the cookie of a
// destroyed one.
func (w *sessionWriter) commit() error {
	ctx := w.c.Request().Context()
	switch w.s.sessions.Status(ctx) {
	case scs.Modified:
		token, expiry, err := w.s.sessions.Commit(ctx)
		if err != nil {
			return err
		}
		w.s.sessions.WriteSessionCookie(ctx, w.ResponseWriter, token, expiry)
	case scs.Destroyed:
		w.s.sessions.WriteSessionCookie(ctx, w.ResponseWriter, "", time.Time{})
	}
	return nil
}

func (w *sessionWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		if err := w.commit(); err != nil {
			w.failed = true
			w.s.sessionSaveFailed(w.c, w.ResponseWriter, err)
			return
		}
	}
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *sessionWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *sessionWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.failed {
		f.Flush()
	}
}

func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sessionSaveFailed answers, on the underlying writer, a request whose session could not
// be saved (the database went away during the request), in place of its response.
func (s *Server) sessionSaveFailed(c echo.Context, w http.ResponseWriter, err error) {
	status, body := classify(err)
	slog.Error("session could not be saved", "method", c.Request().Method, "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err)
	heading := "Something went wrong"
	if status == http.StatusServiceUnavailable {
		heading = "The database is not answering"
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("Location")
	w.WriteHeader(status)
	c.Response().Status = status // what the request log reports
	_ = templates.ErrorPage(templates.Page{Title: heading}, status, heading, body.Message).Render(context.WithoutCancel(c.Request().Context()), w)
}

// hashedStore keeps only the SHA-256 of each session token in the database, so someone who
// can read the sessions table still cannot take over a session. It reads session expiry
// against its clock: scs computes expiry times from the real clock, so with a clock of
// its own (tests) the store shifts them by the clock's lead on commit and compares them
// with the clock's reading on find; with the real clock the shift is zero.
type hashedStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// lead is how far the store's clock is ahead of the real one.
func (h hashedStore) lead() time.Duration {
	if h.now == nil {
		return 0
	}
	return time.Until(h.now())
}

func hashSessionToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// The store reads and writes with the request's context (scs.CtxStore), so a database
// that does not answer is given up on at the request's deadline.

func (h hashedStore) Find(token string) ([]byte, bool, error) {
	return h.FindCtx(context.Background(), token)
}

func (h hashedStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	var err error
	if h.now == nil {
		err = h.pool.QueryRow(ctx, "SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry",
			hashSessionToken(token)).Scan(&b)
	} else {
		err = h.pool.QueryRow(ctx, "SELECT data FROM sessions WHERE token = $1 AND $2 < expiry",
			hashSessionToken(token), h.now()).Scan(&b)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (h hashedStore) Commit(token string, b []byte, expiry time.Time) error {
	return h.CommitCtx(context.Background(), token, b, expiry)
}

func (h hashedStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := h.pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`,
		hashSessionToken(token), b, expiry.Add(h.lead()))
	return err
}

func (h hashedStore) Delete(token string) error {
	return h.DeleteCtx(context.Background(), token)
}

func (h hashedStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := h.pool.Exec(ctx, "DELETE FROM sessions WHERE token = $1", hashSessionToken(token))
	return err
}

// csrfToken returns the session's CSRF token, creating one when the session has none.
// It is a synchronizer token: kept server-side in the session, echoed in every form.
func (s *Server) csrfToken(c echo.Context) string {
	ctx := c.Request().Context()
	if t := s.sessions.GetString(ctx, sessCSRF); t != "" {
		return t
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	s.sessions.Put(ctx, sessCSRF, t)
	return t
}

// csrfValid reports whether a state-changing request carries the session's CSRF token in
// the form field _csrf or the X-CSRF-Token header.
func (s *Server) csrfValid(c echo.Context) bool {
	want := s.sessions.GetString(c.Request().Context(), sessCSRF)
	if want == "" {
		return false
	}
	got := c.Request().Header.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("_csrf")
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// addFlash queues a message for the next page.
// offerPrint has the next page offer to print the labels of codes with one click.
func (s *Server) offerPrint(c echo.Context, codes []string) {
	s.sessions.Put(c.Request().Context(), sessPrintOffer, strings.Join(codes, ","))
}

func (s *Server) addFlash(c echo.Context, kind, message string) {
	ctx := c.Request().Context()
	flashes, _ := s.sessions.Get(ctx, sessFlash).([]string)
	s.sessions.Put(ctx, sessFlash, append(flashes, kind+"\x00"+message))
}
