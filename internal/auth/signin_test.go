package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"biobank/internal/auth"
)

// lockOut makes MaxFailedSignIns wrong sign-ins for username and checks the account is locked.
func lockOut(tb testing.TB, s *auth.Service, username string) {
	tb.Helper()
	for i := 0; i < auth.MaxFailedSignIns; i++ {
		if _, err := s.SignIn(context.Background(), username, "wrong password!", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			tb.Fatalf("wrong password %d: got %v, want ErrBadCredentials", i+1, err)
		}
	}
	u, err := s.UserByUsername(context.Background(), username)
	if err != nil {
		tb.Fatal(err)
	}
	if !u.LockedAt(s.Now()) {
		tb.Fatalf("%s not locked after %d wrong passwords: %+v", username, auth.MaxFailedSignIns, u)
	}
}

// signInState reads the lock-out columns straight from the database on a connection of its
// own, so it sees only what was committed.
func signInState(tb testing.TB, s *auth.Service, username string) (failed int, lockedUntil *time.Time) {
	tb.Helper()
	err := s.DB.Pool.QueryRow(context.Background(),
		"SELECT failed_sign_ins, locked_until FROM users WHERE username = $1", username).Scan(&failed, &lockedUntil)
	if err != nil {
		tb.Fatalf("sign-in state of %s: %v", username, err)
	}
	return failed, lockedUntil
}

func TestSignIn_CorrectPasswordReturnsUserAndAudits(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")

	u, err := s.SignIn(context.Background(), "  Alice ", testPassword, "203.0.113.7")
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if u.ID != alice.ID || u.Username != "alice" || u.Role != auth.RoleTechnician || u.Site.Code != "LUX" ||
		u.LastSignInAt == nil || !u.LastSignInAt.Equal(c.Now()) {
		t.Fatalf("signed-in user %+v", u)
	}
	if a := u.Actor(); a.UserID != alice.ID || a.SiteCode != "LUX" || a.SiteID != alice.SiteID {
		t.Fatalf("actor %+v", a)
	}
	if stored := mustReload(t, s, alice.ID); stored.LastSignInAt == nil || !stored.LastSignInAt.Equal(c.Now()) {
		t.Fatalf("last sign-in stored as %v", stored.LastSignInAt)
	}
	ev := lastEvent(t, s, "user", "alice", "auth.sign_in")
	if ev.Actor != "alice" || ev.ActorID == nil || *ev.ActorID != alice.ID || ev.Site != "LUX" || decode(t, ev.After)["from"] != "203.0.113.7" {
		t.Fatalf("event %+v after %s", ev, ev.After)
	}
	mustVerifyChain(t, s.DB)
}

func TestSignIn_WrongPasswordIsRefusedAndAudited(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")

	u, err := s.SignIn(context.Background(), "alice", testPassword+"x", "203.0.113.7")
	if !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("got %v, want ErrBadCredentials", err)
	}
	if u.ID != 0 || u.PasswordHash != "" {
		t.Fatalf("refused sign-in returned a user: %+v", u)
	}
	ev := lastEvent(t, s, "user", "alice", "auth.sign_in_failed")
	if ev.Actor != "alice" || ev.ActorID == nil || *ev.ActorID != alice.ID || ev.Reason != "wrong password" || decode(t, ev.After)["from"] != "203.0.113.7" {
		t.Fatalf("event %+v", ev)
	}
	if strings.Contains(string(ev.After)+ev.Reason, testPassword) {
		t.Fatal("the attempted password is in the audit trail")
	}
}

// TestSignIn_RefusalIsCommitted shows that the failure counter and the audit event of a
// refused sign-in are committed even though SignIn returns an error: they are read back on
// another connection.
func TestSignIn_RefusalIsCommitted(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	for i := 1; i <= 3; i++ {
		if _, err := s.SignIn(context.Background(), "alice", "not the password", ""); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if failed, locked := signInState(t, s, "alice"); failed != i || locked != nil {
			t.Fatalf("after %d wrong passwords: failed_sign_ins %d, locked_until %v", i, failed, locked)
		}
		var events int
		if err := s.DB.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM audit_events WHERE action = 'auth.sign_in_failed' AND entity_id = 'alice'").Scan(&events); err != nil {
			t.Fatal(err)
		}
		if events != i {
			t.Fatalf("after %d wrong passwords %d failure events are committed", i, events)
		}
	}
}

func TestSignIn_UnknownUsernameGivesTheSameErrorAndAuditsAnonymous(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	_, wrongPassword := s.SignIn(context.Background(), "alice", "not the password", "")
	_, unknownUser := s.SignIn(context.Background(), " Mallory ", "not the password", "198.51.100.9")
	if !errors.Is(unknownUser, auth.ErrBadCredentials) || !errors.Is(wrongPassword, auth.ErrBadCredentials) {
		t.Fatalf("unknown user: %v; wrong password: %v; want ErrBadCredentials for both", unknownUser, wrongPassword)
	}
	if unknownUser.Error() != wrongPassword.Error() {
		t.Fatalf("the two refusals read differently: %q and %q", unknownUser, wrongPassword)
	}
	ev := lastEvent(t, s, "user", "mallory", "auth.sign_in_failed")
	if ev.Actor != "anonymous" || ev.ActorID != nil || ev.Reason != "unknown username" || decode(t, ev.After)["from"] != "198.51.100.9" {
		t.Fatalf("event %+v", ev)
	}
	mustVerifyChain(t, s.DB)
}

func TestSignIn_LocksAfterFiveFailures(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	for i := 1; i < auth.MaxFailedSignIns; i++ {
		if _, err := s.SignIn(ctx, "alice", "not the password", ""); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, locked := signInState(t, s, "alice"); locked != nil {
		t.Fatalf("locked after %d failures", auth.MaxFailedSignIns-1)
	}
	if n := len(eventsWithAction(mustEvents(t, s, "user", "alice"), "auth.account_locked")); n != 0 {
		t.Fatalf("%d lock events before the fifth failure", n)
	}
	if _, err := s.SignIn(ctx, "alice", "not the password", ""); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("fifth attempt: %v", err)
	}
	_, locked := signInState(t, s, "alice")
	if locked == nil || !locked.Equal(c.Now().Add(auth.LockoutPeriod)) {
		t.Fatalf("locked until %v, want %v", locked, c.Now().Add(auth.LockoutPeriod))
	}
	lockEvents := eventsWithAction(mustEvents(t, s, "user", "alice"), "auth.account_locked")
	if len(lockEvents) != 1 || lockEvents[0].Actor != "alice" {
		t.Fatalf("lock events %+v, want one", lockEvents)
	}

	// The sixth attempt fails even with the right password, and says no more than before.
	_, err := s.SignIn(ctx, "alice", testPassword, "")
	if !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("right password while locked: got %v, want ErrBadCredentials", err)
	}
	if ev := lastEvent(t, s, "user", "alice", "auth.sign_in_failed"); ev.Reason != "account locked" {
		t.Fatalf("refusal while locked audited as %q", ev.Reason)
	}

	c.Advance(auth.LockoutPeriod - time.Second)
	if _, err := s.SignIn(ctx, "alice", testPassword, ""); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("right password a second before the lock ends: got %v", err)
	}
	c.Advance(time.Second)
	mustSignIn(t, s, "alice", testPassword)
	if failed, _ := signInState(t, s, "alice"); failed != 0 {
		t.Fatalf("failed_sign_ins %d after a successful sign-in", failed)
	}
	mustVerifyChain(t, s.DB)
}

func TestSignIn_AttemptsWhileLockedDoNotExtendTheLock(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")
	lockOut(t, s, "alice")
	_, until := signInState(t, s, "alice")
	for i := 0; i < 3; i++ {
		c.Advance(time.Minute)
		if _, err := s.SignIn(context.Background(), "alice", "still wrong", ""); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if _, again := signInState(t, s, "alice"); again == nil || !again.Equal(*until) {
		t.Fatalf("lock moved from %v to %v", until, again)
	}
	c.Advance(auth.LockoutPeriod)
	mustSignIn(t, s, "alice", testPassword)
}

func TestSignIn_SuccessResetsFailureCounter(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	for round := 0; round < 2; round++ {
		for i := 1; i < auth.MaxFailedSignIns; i++ {
			if _, err := s.SignIn(ctx, "alice", "not the password", ""); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("round %d attempt %d: %v", round, i, err)
			}
		}
		if failed, _ := signInState(t, s, "alice"); failed != auth.MaxFailedSignIns-1 {
			t.Fatalf("round %d: failed_sign_ins %d", round, failed)
		}
		u := mustSignIn(t, s, "alice", testPassword)
		if u.FailedSignIns != 0 {
			t.Fatalf("returned user still counts %d failures", u.FailedSignIns)
		}
		if failed, locked := signInState(t, s, "alice"); failed != 0 || locked != nil {
			t.Fatalf("round %d after success: failed %d, locked %v", round, failed, locked)
		}
	}
	// Eight failures in all, never five in a row: no lock.
	if n := len(eventsWithAction(mustEvents(t, s, "user", "alice"), "auth.account_locked")); n != 0 {
		t.Fatalf("%d lock events", n)
	}
}

func TestSignIn_RefusesDeactivatedUserAndSite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		deactivate func(t *testing.T, s *auth.Service, u auth.User)
		reason     string
	}{
		{"deactivated user", func(t *testing.T, s *auth.Service, u auth.User) {
			mustUpdateUser(t, s, auth.CommandLine, u.ID, auth.UserChange{Active: ptr(false)})
		}, "account deactivated"},
		{"deactivated site", func(t *testing.T, s *auth.Service, u auth.User) {
			if _, err := s.UpdateSite(context.Background(), auth.CommandLine, "LUX",
				auth.SiteInput{Name: "Site LUX", Country: "LU", Active: ptr(false), Reason: "closed"}); err != nil {
				t.Fatal(err)
			}
		}, "site deactivated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newService(t)
			mustSite(t, s, "LUX")
			alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")
			tc.deactivate(t, s, alice)
			_, err := s.SignIn(context.Background(), "alice", testPassword, "")
			if !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("got %v, want ErrBadCredentials", err)
			}
			if ev := lastEvent(t, s, "user", "alice", "auth.sign_in_failed"); ev.Reason != tc.reason {
				t.Fatalf("audited reason %q, want %q", ev.Reason, tc.reason)
			}
			// The right password of a deactivated account does not count as a failure.
			if failed, _ := signInState(t, s, "alice"); failed != 0 {
				t.Fatalf("failed_sign_ins %d", failed)
			}
		})
	}
}

// TestSignIn_OddUsernamesAreRefusedNotErrors feeds the sign-in form what a person or a
// scanner might type; every one must be a plain refusal, audited, never an internal error.
func TestSignIn_OddUsernamesAreRefusedNotErrors(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")
	names := map[string]string{
		"empty":                         "",
		"very long":                     strings.Repeat("x", 10000),
		"multibyte at the 64-byte edge": strings.Repeat("a", 63) + "é",
		"NUL byte":                      "alice\x00",
		"invalid UTF-8":                 "al\xffice",
		"SQL":                           "alice' OR '1'='1",
	}
	for name, username := range names {
		t.Run(name, func(t *testing.T) {
			before := len(eventsWithAction(mustEvents(t, s, "user", "alice"), "auth.sign_in"))
			_, err := s.SignIn(context.Background(), username, testPassword, "")
			if !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("got %v, want ErrBadCredentials", err)
			}
			if after := len(eventsWithAction(mustEvents(t, s, "user", "alice"), "auth.sign_in")); after != before {
				t.Fatal("signed in as alice")
			}
		})
	}
	var anonymous int
	if err := s.DB.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM audit_events WHERE actor = 'anonymous' AND action = 'auth.sign_in_failed'").Scan(&anonymous); err != nil {
		t.Fatal(err)
	}
	if anonymous != len(names) {
		t.Fatalf("%d anonymous failures audited, want %d", anonymous, len(names))
	}
	mustVerifyChain(t, s.DB)
}

// TestSignIn_ConcurrentWrongPasswordsLockConsistently races ten wrong passwords: the row
// lock must serialise them so that exactly five count, one lock is recorded and the rest
// are refused as locked.
func TestSignIn_ConcurrentWrongPasswordsLockConsistently(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	mustSite(t, s, "LUX")
	mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	const attempts = 10
	start := make(chan struct{})
	errs := make([]error, attempts)
	var wg sync.WaitGroup
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.SignIn(context.Background(), "alice", "not the password", "")
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("attempt %d: got %v, want ErrBadCredentials", i, err)
		}
	}

	failed, locked := signInState(t, s, "alice")
	if failed != 0 || locked == nil || !locked.Equal(c.Now().Add(auth.LockoutPeriod)) {
		t.Fatalf("failed_sign_ins %d, locked_until %v; want 0 and %v", failed, locked, c.Now().Add(auth.LockoutPeriod))
	}
	events := mustEvents(t, s, "user", "alice")
	failures := eventsWithAction(events, "auth.sign_in_failed")
	reasons := map[string]int{}
	for _, ev := range failures {
		reasons[ev.Reason]++
	}
	if len(failures) != attempts || reasons["wrong password"] != auth.MaxFailedSignIns || reasons["account locked"] != attempts-auth.MaxFailedSignIns {
		t.Fatalf("failure events by reason %v, want %d wrong password and %d account locked", reasons, auth.MaxFailedSignIns, attempts-auth.MaxFailedSignIns)
	}
	if n := len(eventsWithAction(events, "auth.account_locked")); n != 1 {
		t.Fatalf("%d lock events, want 1", n)
	}
	if _, err := s.SignIn(context.Background(), "alice", testPassword, ""); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("right password after the race: got %v, want locked", err)
	}
	mustVerifyChain(t, s.DB)
}

func TestSignOut_IsAudited(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")
	u := mustSignIn(t, s, "alice", testPassword)
	if err := s.SignOut(context.Background(), u.Actor()); err != nil {
		t.Fatal(err)
	}
	if ev := lastEvent(t, s, "user", "alice", "auth.sign_out"); ev.ActorID == nil || *ev.ActorID != alice.ID || ev.Site != "LUX" {
		t.Fatalf("event %+v", ev)
	}
}
