package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// testPassword is the password every helper-made user starts with.
const testPassword = "correct horse battery staple"

// clock is a settable clock for Service.Now, safe for concurrent readers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newService returns a Service on a fresh database whose clock only moves when the test
// moves it.
func newService(tb testing.TB) (*auth.Service, *clock) {
	tb.Helper()
	d := dbtest.New(tb)
	c := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
	s := auth.NewService(d)
	s.Now = c.Now
	return s, c
}

// mustSite creates an active site with code as the command line does.
func mustSite(tb testing.TB, s *auth.Service, code string) auth.Site {
	tb.Helper()
	site, err := s.CreateSite(context.Background(), auth.CommandLine, auth.SiteInput{
		Code: code, Name: "Site " + code, Country: "LU", Reason: "test setup"})
	if err != nil {
		tb.Fatalf("create site %s: %v", code, err)
	}
	return site
}

// mustUser creates a user with testPassword as the command line does.
func mustUser(tb testing.TB, s *auth.Service, username string, role auth.Role, siteCode string) auth.User {
	tb.Helper()
	u, err := s.CreateUser(context.Background(), auth.CommandLine, auth.NewUser{
		Username: username, Role: string(role), Site: siteCode, Password: testPassword, Reason: "test setup"})
	if err != nil {
		tb.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// mustUpdateUser applies ch (with a reason) as actor and fails the test on error.
func mustUpdateUser(tb testing.TB, s *auth.Service, actor auth.Actor, id int64, ch auth.UserChange) auth.User {
	tb.Helper()
	if ch.Reason == "" {
		ch.Reason = "test change"
	}
	u, err := s.UpdateUser(context.Background(), actor, id, ch)
	if err != nil {
		tb.Fatalf("update user %d: %v", id, err)
	}
	return u
}

// mustSignIn signs in and fails the test when refused.
func mustSignIn(tb testing.TB, s *auth.Service, username, password string) auth.User {
	tb.Helper()
	u, err := s.SignIn(context.Background(), username, password, "192.0.2.1")
	if err != nil {
		tb.Fatalf("sign in %s: %v", username, err)
	}
	return u
}

// mustToken makes an API token for username as actor.
func mustToken(tb testing.TB, s *auth.Service, actor auth.Actor, username string) (string, auth.Token) {
	tb.Helper()
	secret, tok, err := s.CreateToken(context.Background(), actor, username, "script")
	if err != nil {
		tb.Fatalf("create token for %s: %v", username, err)
	}
	return secret, tok
}

// mustReload reads a user back from the database.
func mustReload(tb testing.TB, s *auth.Service, id int64) auth.User {
	tb.Helper()
	u, err := s.UserByID(context.Background(), id)
	if err != nil {
		tb.Fatalf("reload user %d: %v", id, err)
	}
	return u
}

// mustEvents returns every audit event of one entity, oldest first.
func mustEvents(tb testing.TB, s *auth.Service, entityType, entityID string) []audit.Event {
	tb.Helper()
	events, err := audit.ForEntity(context.Background(), s.DB.Gorm, entityType, entityID)
	if err != nil {
		tb.Fatalf("events of %s %s: %v", entityType, entityID, err)
	}
	return events
}

// eventsWithAction keeps the events whose action is action.
func eventsWithAction(events []audit.Event, action string) []audit.Event {
	var out []audit.Event
	for _, ev := range events {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// lastEvent returns the newest event of one entity and checks its action.
func lastEvent(tb testing.TB, s *auth.Service, entityType, entityID, action string) audit.Event {
	tb.Helper()
	events := mustEvents(tb, s, entityType, entityID)
	if len(events) == 0 {
		tb.Fatalf("no audit events for %s %s, want %s", entityType, entityID, action)
	}
	ev := events[len(events)-1]
	if ev.Action != action {
		tb.Fatalf("last audit event of %s %s is %s, want %s", entityType, entityID, ev.Action, action)
	}
	return ev
}

// decode unmarshals an event's before or after JSON.
func decode(tb testing.TB, raw json.RawMessage) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return m
}

// mustVerifyChain fails the test unless the audit trail is intact.
func mustVerifyChain(tb testing.TB, d *db.DB) {
	tb.Helper()
	res, err := audit.Verify(context.Background(), d.Pool)
	if err != nil {
		tb.Fatalf("verify audit trail: %v", err)
	}
	if !res.OK {
		tb.Fatalf("audit trail broken: %+v", res)
	}
}

// dbState fingerprints every table the auth package writes: row count and an md5 of the
// full content, so a test can show that a refused call changed nothing at all.
func dbState(tb testing.TB, d *db.DB) map[string]string {
	tb.Helper()
	state := map[string]string{}
	for table, order := range map[string]string{"sites": "id", "users": "id", "api_tokens": "id", "audit_events": "seq"} {
		var v string
		err := d.Pool.QueryRow(context.Background(),
			"SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY "+order+")), '') FROM "+table+" t").Scan(&v)
		if err != nil {
			tb.Fatalf("fingerprint %s: %v", table, err)
		}
		state[table] = v
	}
	return state
}

// assertUnchanged fails the test when the database differs from before.
func assertUnchanged(tb testing.TB, d *db.DB, before map[string]string) {
	tb.Helper()
	after := dbState(tb, d)
	for table, b := range before {
		if after[table] != b {
			tb.Errorf("table %s changed: before %s, after %s", table, b, after[table])
		}
	}
}

// wantValidation fails the test unless err is a ValidationError for field.
func wantValidation(tb testing.TB, err error, field string) *apperr.ValidationError {
	tb.Helper()
	v, ok := apperr.AsValidation(err)
	if !ok {
		tb.Fatalf("got error %v (%T), want a validation error for %q", err, err, field)
	}
	if v.Field != field {
		tb.Fatalf("validation error names field %q (%s), want %q", v.Field, v.Message, field)
	}
	if v.Message == "" {
		tb.Fatalf("validation error for %q has no message", field)
	}
	return v
}

// wantConflict fails the test unless err is a ConflictError with code.
func wantConflict(tb testing.TB, err error, code string) *apperr.ConflictError {
	tb.Helper()
	c, ok := apperr.AsConflict(err)
	if !ok {
		tb.Fatalf("got error %v (%T), want a conflict %q", err, err, code)
	}
	if c.Code != code {
		tb.Fatalf("got conflict %q (%s), want %q", c.Code, c.Message, code)
	}
	return c
}

// wantForbidden fails the test unless err is a ForbiddenError.
func wantForbidden(tb testing.TB, err error) {
	tb.Helper()
	if _, ok := apperr.AsForbidden(err); !ok {
		tb.Fatalf("got error %v (%T), want forbidden", err, err)
	}
}

// wantNotFound fails the test unless err matches apperr.ErrNotFound.
func wantNotFound(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, apperr.ErrNotFound) {
		tb.Fatalf("got error %v (%T), want not found", err, err)
	}
}

func ptr[T any](v T) *T { return &v }
