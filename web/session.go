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
)

func newSessionManager(cfg Config, d *db.DB) *scs.SessionManager {
	sm := scs.New()
	store := hashedStore{inner: pgxstore.NewWithCleanupInterval(d.Pool, 10*time.Minute), pool: d.Pool}
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
	sm.ErrorFunc = sessionStoreFailed
	return sm
}

// sessionStoreFailed answers a request whose session could not be loaded or saved (the
// database is unreachable, say): logged in full with slog, shown as the friendly 500 page.
// scs's default answers in plain text and logs with the standard logger.
func sessionStoreFailed(w http.ResponseWriter, r *http.Request, err error) {
	slog.Error("session store failed", "method", r.Method, "path", r.URL.Path, "error", err)
	status, body := classify(err)
	heading := "Something went wrong"
	w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = templates.ErrorPage(templates.Page{Title: heading}, status, heading, body.Message).Render(r.Context(), w)
}

// hashedStore keeps only the SHA-256 of each session token in the database, so someone who
// can read the sessions table still cannot take over a session. It reads session expiry
// against its clock: scs computes expiry times from the real clock, so with a clock of
// its own (tests) the store shifts them by the clock's lead on commit and compares them
// with the clock's reading on find; with the real clock the shift is zero.
type hashedStore struct {
	inner scs.Store
	pool  *pgxpool.Pool
	now   func() time.Time
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

func (h hashedStore) Find(token string) ([]byte, bool, error) {
	if h.now == nil {
		return h.inner.Find(hashSessionToken(token))
	}
	var b []byte
	err := h.pool.QueryRow(context.Background(), "SELECT data FROM sessions WHERE token = $1 AND $2 < expiry",
		hashSessionToken(token), h.now()).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (h hashedStore) Commit(token string, b []byte, expiry time.Time) error {
	return h.inner.Commit(hashSessionToken(token), b, expiry.Add(h.lead()))
}

func (h hashedStore) Delete(token string) error {
	return h.inner.Delete(hashSessionToken(token))
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
func (s *Server) addFlash(c echo.Context, kind, message string) {
	ctx := c.Request().Context()
	flashes, _ := s.sessions.Get(ctx, sessFlash).([]string)
	s.sessions.Put(ctx, sessFlash, append(flashes, kind+"\x00"+message))
}
