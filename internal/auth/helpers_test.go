package auth_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/internal/testkit"
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

func ptr[T any](v T) *T { return &v }

// The shared assertions of internal/testkit, under the names these tests use.
var (
	wantValidation = testkit.WantValidation
	wantConflict   = testkit.WantConflict
	wantForbidden  = testkit.WantForbidden
	wantNotFound   = testkit.WantNotFound
)

// dbState fingerprints every table the auth package writes, so a test can show that a
// refused call changed nothing at all.
func dbState(tb testing.TB, d *db.DB) testkit.Snapshot {
	tb.Helper()
	return testkit.Take(tb, d, "sites", "users", "api_tokens", "audit_events")
}

// assertUnchanged fails the test when the database differs from before.
func assertUnchanged(tb testing.TB, d *db.DB, before testkit.Snapshot) {
	tb.Helper()
	after := dbState(tb, d)
	for table, b := range before {
		if after[table] != b {
			tb.Errorf("table %s changed: before %s, after %s", table, b, after[table])
		}
	}
}
