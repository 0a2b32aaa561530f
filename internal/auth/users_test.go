package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
)

func TestCreateUser_StoresUserAndAuditsWithoutPassword(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "LUX").Actor()

	u, err := s.CreateUser(ctx, admin, auth.NewUser{Username: "  Alice.Martin ", Role: " Technician ", Site: "lux", Password: "a long enough secret", Reason: "new hire"})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	if u.ID == 0 || u.Username != "alice.martin" || u.Role != auth.RoleTechnician || u.Site.Code != "LUX" || !u.Active ||
		u.FailedSignIns != 0 || u.LockedUntil != nil || !u.PasswordChangedAt.Equal(c.Now()) {
		t.Fatalf("returned user %+v", u)
	}
	stored := mustReload(t, s, u.ID)
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$") || strings.Contains(stored.PasswordHash, "a long enough secret") {
		t.Fatalf("stored password hash %q, want an argon2id hash", stored.PasswordHash)
	}

	ev := lastEvent(t, s, "user", "alice.martin", "user.create")
	after := decode(t, ev.After)
	if ev.Actor != "root" || ev.Reason != "new hire" || after["username"] != "alice.martin" || after["role"] != "technician" ||
		after["site"] != "LUX" || after["active"] != true {
		t.Fatalf("audit event %+v, after %s", ev, ev.After)
	}
	if raw := string(ev.After); strings.Contains(raw, "argon2") || strings.Contains(raw, "secret") || strings.Contains(raw, "password") {
		t.Fatalf("audit event keeps password material: %s", raw)
	}
	mustVerifyChain(t, s.DB)
}

func TestCreateUser_RefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	closed := mustSite(t, s, "CLOSED")
	if _, err := s.UpdateSite(context.Background(), auth.CommandLine, closed.Code,
		auth.SiteInput{Name: closed.Name, Country: closed.Country, Active: ptr(false), Reason: "closed"}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	good := auth.NewUser{Username: "bob", Role: "nurse", Site: "LUX", Password: "a long enough secret", Reason: "new hire"}
	cases := []struct {
		name     string
		edit     func(in *auth.NewUser)
		field    string // validation error field
		conflict string // or conflict code
	}{
		{"unknown role", func(in *auth.NewUser) { in.Role = "root" }, "role", ""},
		{"empty role", func(in *auth.NewUser) { in.Role = "" }, "role", ""},
		{"unknown site", func(in *auth.NewUser) { in.Site = "NOPE" }, "site", ""},
		{"empty site", func(in *auth.NewUser) { in.Site = "" }, "site", ""},
		{"inactive site", func(in *auth.NewUser) { in.Site = "CLOSED" }, "site", ""},
		{"password of 9 characters", func(in *auth.NewUser) { in.Password = "123456789" }, "password", ""},
		{"empty password", func(in *auth.NewUser) { in.Password = "" }, "password", ""},
		{"password of 257 bytes", func(in *auth.NewUser) { in.Password = strings.Repeat("p", 257) }, "password", ""},
		{"empty username", func(in *auth.NewUser) { in.Username = " " }, "username", ""},
		{"one-character username", func(in *auth.NewUser) { in.Username = "b" }, "username", ""},
		{"username of 41 characters", func(in *auth.NewUser) { in.Username = strings.Repeat("b", 41) }, "username", ""},
		{"username with a space", func(in *auth.NewUser) { in.Username = "bob smith" }, "username", ""},
		{"username starting with a dot", func(in *auth.NewUser) { in.Username = ".bob" }, "username", ""},
		{"username with an accent", func(in *auth.NewUser) { in.Username = "zoë" }, "username", ""},
		{"username with an at sign", func(in *auth.NewUser) { in.Username = "bob@example.org" }, "username", ""},
		{"missing reason", func(in *auth.NewUser) { in.Reason = "" }, "reason", ""},
		{"duplicate username", func(in *auth.NewUser) { in.Username = "alice" }, "", "duplicate_username"},
		{"duplicate username in other case", func(in *auth.NewUser) { in.Username = " ALICE " }, "", "duplicate_username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			tc.edit(&in)
			before := dbState(t, s.DB)
			u, err := s.CreateUser(context.Background(), auth.CommandLine, in)
			if tc.conflict != "" {
				if c := wantConflict(t, err, tc.conflict); c.Field != "username" {
					t.Errorf("conflict names field %q, want username", c.Field)
				}
			} else {
				wantValidation(t, err, tc.field)
			}
			if u.ID != 0 {
				t.Errorf("refused call returned a user %+v", u)
			}
			assertUnchanged(t, s.DB, before)
		})
	}
	t.Run("non-admin", func(t *testing.T) {
		before := dbState(t, s.DB)
		for _, role := range []auth.Role{auth.RoleManager, auth.RoleTechnician, auth.RoleNurse} {
			_, err := s.CreateUser(context.Background(), auth.Actor{Username: "x", Role: role}, good)
			wantForbidden(t, err)
		}
		assertUnchanged(t, s.DB, before)
	})
	if _, err := s.CreateUser(context.Background(), auth.CommandLine, good); err != nil {
		t.Fatalf("the good input itself is refused: %v", err)
	}
}

func TestCreateUser_AcceptsPasswordOfTenMultibyteCharacters(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	pw := strings.Repeat("ß", 10)
	if _, err := s.CreateUser(context.Background(), auth.CommandLine, auth.NewUser{
		Username: "bob", Role: "nurse", Site: "LUX", Password: pw, Reason: "new hire"}); err != nil {
		t.Fatalf("a 10-character password is refused: %v", err)
	}
	mustSignIn(t, s, "bob", pw)
}

func TestUpdateUser_ChangeRoleIsAudited(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "LUX").Actor()
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")

	u := mustUpdateUser(t, s, admin, alice.ID, auth.UserChange{Role: ptr("Manager"), Reason: "promotion"})
	if u.Role != auth.RoleManager || mustReload(t, s, alice.ID).Role != auth.RoleManager {
		t.Fatalf("role is %s, want manager", u.Role)
	}
	ev := lastEvent(t, s, "user", "alice", "user.change_role")
	if b, a := decode(t, ev.Before), decode(t, ev.After); b["role"] != "technician" || a["role"] != "manager" ||
		ev.Reason != "promotion" || ev.Actor != "root" || ev.ActorID == nil || *ev.ActorID != admin.UserID {
		t.Fatalf("event %+v: before %s after %s", ev, ev.Before, ev.After)
	}
	// The change takes effect for the next request at once.
	actor, _, err := s.ActiveActor(context.Background(), alice.ID)
	if err != nil || actor.Role != auth.RoleManager {
		t.Fatalf("active actor %+v, %v", actor, err)
	}
	mustVerifyChain(t, s.DB)
}

func TestUpdateUser_ChangeSiteIsAudited(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	kiel := mustSite(t, s, "DE-KIEL")
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	u := mustUpdateUser(t, s, auth.CommandLine, alice.ID, auth.UserChange{Site: ptr("DE-KIEL")})
	if u.SiteID != kiel.ID || mustReload(t, s, alice.ID).Site.Code != "DE-KIEL" {
		t.Fatalf("site is %d, want DE-KIEL", u.SiteID)
	}
	ev := lastEvent(t, s, "user", "alice", "user.change_site")
	if b, a := decode(t, ev.Before), decode(t, ev.After); b["site"] != "LUX" || a["site"] != "DE-KIEL" {
		t.Fatalf("before %s after %s", ev.Before, ev.After)
	}
}

func TestUpdateUser_DeactivateStopsSignInAndTokens(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "LUX").Actor()
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	secret1, _ := mustToken(t, s, admin, "alice")
	secret2, _ := mustToken(t, s, alice.Actor(), "alice")
	if _, err := s.Authenticate(ctx, secret1); err != nil {
		t.Fatalf("token before deactivation: %v", err)
	}

	u := mustUpdateUser(t, s, admin, alice.ID, auth.UserChange{Active: ptr(false), Reason: "left the project"})
	if u.Active || mustReload(t, s, alice.ID).Active {
		t.Fatal("user still active")
	}
	ev := lastEvent(t, s, "user", "alice", "user.deactivate")
	if b, a := decode(t, ev.Before), decode(t, ev.After); b["active"] != true || a["active"] != false || ev.Reason != "left the project" {
		t.Fatalf("before %s after %s", ev.Before, ev.After)
	}
	for _, secret := range []string{secret1, secret2} {
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Fatalf("token of a deactivated user: got %v, want unauthenticated", err)
		}
	}
	if _, err := s.SignIn(ctx, "alice", testPassword, "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("sign in of a deactivated user: got %v", err)
	}
	if _, _, err := s.ActiveActor(ctx, alice.ID); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Fatalf("active actor of a deactivated user: got %v", err)
	}

	// Reactivation lets the user sign in again but does not revive the tokens.
	mustUpdateUser(t, s, admin, alice.ID, auth.UserChange{Active: ptr(true), Reason: "back"})
	lastEvent(t, s, "user", "alice", "user.reactivate")
	mustSignIn(t, s, "alice", testPassword)
	for _, secret := range []string{secret1, secret2} {
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, apperr.ErrUnauthenticated) {
			t.Fatalf("token after reactivation: got %v, want unauthenticated", err)
		}
	}
	tokens, err := s.Tokens(ctx, alice.ID)
	if err != nil || len(tokens) != 2 {
		t.Fatalf("tokens %+v, %v", tokens, err)
	}
	for _, tok := range tokens {
		if tok.RevokedAt == nil {
			t.Fatalf("token %d not marked revoked", tok.ID)
		}
	}
	mustVerifyChain(t, s.DB)
}

func TestUpdateUser_ResetPasswordReplacesTheOldOne(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")
	c.Advance(48 * time.Hour)

	u := mustUpdateUser(t, s, auth.CommandLine, alice.ID, auth.UserChange{Password: ptr("a brand new passphrase"), Reason: "forgotten"})
	if !u.PasswordChangedAt.Equal(c.Now()) {
		t.Fatalf("password changed at %v, want %v", u.PasswordChangedAt, c.Now())
	}
	if _, err := s.SignIn(ctx, "alice", testPassword, "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("old password: got %v, want refused", err)
	}
	mustSignIn(t, s, "alice", "a brand new passphrase")
	resets := eventsWithAction(mustEvents(t, s, "user", "alice"), "user.reset_password")
	if len(resets) != 1 || resets[0].Reason != "forgotten" || resets[0].Actor != "command-line" {
		t.Fatalf("reset events %+v", resets)
	}
	// The reset_password event keeps neither the password nor its hash.
	for _, e := range mustEvents(t, s, "user", "alice") {
		raw := string(e.Before) + string(e.After)
		if strings.Contains(raw, "passphrase") || strings.Contains(raw, "argon2") {
			t.Fatalf("event %s keeps password material: %s", e.Action, raw)
		}
	}

	_, err := s.UpdateUser(ctx, auth.CommandLine, alice.ID, auth.UserChange{Password: ptr("too short"), Reason: "r"})
	wantValidation(t, err, "password")
}

func TestUpdateUser_ResetPasswordLiftsLock(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")
	lockOut(t, s, "alice")
	mustUpdateUser(t, s, auth.CommandLine, alice.ID, auth.UserChange{Password: ptr("a brand new passphrase")})
	mustSignIn(t, s, "alice", "a brand new passphrase")
}

func TestUpdateUser_UnlockLiftsSignInLock(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	_, err := s.UpdateUser(ctx, auth.CommandLine, alice.ID, auth.UserChange{Unlock: true, Reason: "r"})
	wantValidation(t, err, "") // nothing to unlock

	lockOut(t, s, "alice")
	if _, err := s.SignIn(ctx, "alice", testPassword, "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("locked account: got %v", err)
	}
	u := mustUpdateUser(t, s, auth.CommandLine, alice.ID, auth.UserChange{Unlock: true, Reason: "phoned the help desk"})
	if u.LockedUntil != nil || u.FailedSignIns != 0 {
		t.Fatalf("after unlock %+v", u)
	}
	ev := lastEvent(t, s, "user", "alice", "user.unlock")
	if b, a := decode(t, ev.Before), decode(t, ev.After); b["locked_until"] == nil || a["locked_until"] != nil {
		t.Fatalf("before %s after %s", ev.Before, ev.After)
	}
	mustSignIn(t, s, "alice", testPassword)
}

func TestUpdateUser_RefusesToRemoveLastActiveAdmin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ch   auth.UserChange
	}{
		{"demote", auth.UserChange{Role: ptr("manager")}},
		{"deactivate", auth.UserChange{Active: ptr(false)}},
		{"demote and deactivate", auth.UserChange{Role: ptr("nurse"), Active: ptr(false)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newService(t)
			ctx := context.Background()
			mustSite(t, s, "LUX")
			root := mustUser(t, s, "root", auth.RoleAdmin, "LUX")
			// An inactive administrator does not count.
			old := mustUser(t, s, "old-admin", auth.RoleAdmin, "LUX")
			mustUpdateUser(t, s, root.Actor(), old.ID, auth.UserChange{Active: ptr(false)})

			ch := tc.ch
			ch.Reason = "stepping down"
			before := dbState(t, s.DB)
			_, err := s.UpdateUser(ctx, root.Actor(), root.ID, ch)
			wantConflict(t, err, "last_admin")
			assertUnchanged(t, s.DB, before)

			// With a second active administrator the same change goes through, and then
			// the second one is the last.
			second := mustUser(t, s, "second", auth.RoleAdmin, "LUX")
			mustUpdateUser(t, s, second.Actor(), root.ID, ch)
			before = dbState(t, s.DB)
			_, err = s.UpdateUser(ctx, second.Actor(), second.ID, ch)
			wantConflict(t, err, "last_admin")
			assertUnchanged(t, s.DB, before)
			if u := mustReload(t, s, second.ID); u.Role != auth.RoleAdmin || !u.Active {
				t.Fatalf("last admin changed: %+v", u)
			}
		})
	}
}

func TestUpdateUser_RefusesBadChangesAndWritesNothing(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustUser(t, s, "root", auth.RoleAdmin, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")
	cases := []struct {
		name  string
		actor auth.Actor
		id    int64
		ch    auth.UserChange
		check func(t *testing.T, err error)
	}{
		{"missing reason", auth.CommandLine, alice.ID, auth.UserChange{Role: ptr("manager")},
			func(t *testing.T, err error) { wantValidation(t, err, "reason") }},
		{"unknown role", auth.CommandLine, alice.ID, auth.UserChange{Role: ptr("superuser"), Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "role") }},
		{"unknown site", auth.CommandLine, alice.ID, auth.UserChange{Site: ptr("NOPE"), Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "site") }},
		{"short password", auth.CommandLine, alice.ID, auth.UserChange{Password: ptr("short"), Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "password") }},
		{"same role", auth.CommandLine, alice.ID, auth.UserChange{Role: ptr("nurse"), Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "") }},
		{"no change at all", auth.CommandLine, alice.ID, auth.UserChange{Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "") }},
		{"unknown user", auth.CommandLine, 999999, auth.UserChange{Role: ptr("manager"), Reason: "r"},
			func(t *testing.T, err error) { wantNotFound(t, err) }},
		{"manager", auth.Actor{Username: "m", Role: auth.RoleManager}, alice.ID, auth.UserChange{Role: ptr("manager"), Reason: "r"},
			func(t *testing.T, err error) { wantForbidden(t, err) }},
		{"the user themself", alice.Actor(), alice.ID, auth.UserChange{Role: ptr("admin"), Reason: "r"},
			func(t *testing.T, err error) { wantForbidden(t, err) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, s.DB)
			_, err := s.UpdateUser(context.Background(), tc.actor, tc.id, tc.ch)
			tc.check(t, err)
			assertUnchanged(t, s.DB, before)
		})
	}
}

// TestUpdateUser_ConcurrentMutualDemotionKeepsAnAdmin has the only two administrators
// each demote (or deactivate) the other at the same moment. Without the row locks both
// would see the other still in charge and both would succeed.
func TestUpdateUser_ConcurrentMutualDemotionKeepsAnAdmin(t *testing.T) {
	t.Parallel()
	changes := map[string]auth.UserChange{
		"demote":     {Role: ptr("technician"), Reason: "coup"},
		"deactivate": {Active: ptr(false), Reason: "coup"},
	}
	for name, ch := range changes {
		t.Run(name, func(t *testing.T) {
			// One database for all rounds: each round adds two fresh administrators
			// and retires the previous round's survivor by the command line, so there
			// are exactly two active administrators when the race starts.
			s, _ := newService(t)
			mustSite(t, s, "LUX")
			var survivor *auth.User
			for round := 0; round < 5; round++ {
				a := mustUser(t, s, fmt.Sprintf("a%d", round), auth.RoleAdmin, "LUX")
				b := mustUser(t, s, fmt.Sprintf("b%d", round), auth.RoleAdmin, "LUX")
				if survivor != nil {
					mustUpdateUser(t, s, auth.CommandLine, survivor.ID, auth.UserChange{Active: ptr(false)})
				}
				if n := activeAdmins(t, s); n != 2 {
					t.Fatalf("round %d starts with %d active admins", round, n)
				}

				start := make(chan struct{})
				var wg sync.WaitGroup
				errs := make([]error, 2)
				pairs := [2][2]auth.User{{a, b}, {b, a}}
				for i, p := range pairs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = s.UpdateUser(context.Background(), p[0].Actor(), p[1].ID, ch)
					}()
				}
				close(start)
				wg.Wait()

				ok := 0
				for _, err := range errs {
					if err == nil {
						ok++
						continue
					}
					wantConflict(t, err, "last_admin")
				}
				if ok != 1 {
					t.Fatalf("round %d: %d of 2 mutual changes succeeded (%v), want exactly 1", round, ok, errs)
				}
				if n := activeAdmins(t, s); n != 1 {
					t.Fatalf("round %d ends with %d active admins, want 1", round, n)
				}
				if errs[0] == nil {
					survivor = &a
				} else {
					survivor = &b
				}
			}
			mustVerifyChain(t, s.DB)
		})
	}
}

func activeAdmins(tb testing.TB, s *auth.Service) int64 {
	tb.Helper()
	var n int64
	if err := s.DB.Gorm.Model(&auth.User{}).Where("role = 'admin' AND active").Count(&n).Error; err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestUsers_ListsWithSites(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustSite(t, s, "DE-KIEL")
	mustUser(t, s, "zoe", auth.RoleNurse, "DE-KIEL")
	mustUser(t, s, "adam", auth.RoleManager, "LUX")
	users, err := s.Users(context.Background())
	if err != nil || len(users) != 2 {
		t.Fatalf("users %+v, %v", users, err)
	}
	if users[0].Username != "adam" || users[0].Site.Code != "LUX" || users[1].Username != "zoe" || users[1].Site.Code != "DE-KIEL" {
		t.Fatalf("got %s@%s, %s@%s", users[0].Username, users[0].Site.Code, users[1].Username, users[1].Site.Code)
	}
	u, err := s.UserByUsername(context.Background(), " ZOE ")
	if err != nil || u.ID != users[1].ID {
		t.Fatalf("by username: %+v, %v", u, err)
	}
	_, err = s.UserByUsername(context.Background(), "nobody")
	wantNotFound(t, err)
	_, err = s.UserByID(context.Background(), 424242)
	wantNotFound(t, err)
}

// TestUpdateUser_DeactivationDoesNotDeadlockWithTokenRevocation pauses a transaction that
// does what RevokeToken does (change a token row, then append an audit event) between its
// two steps, and deactivates the token's owner meanwhile. Both must succeed: the
// deactivation must not hold the audit chain while it waits for the token row.
func TestUpdateUser_DeactivationDoesNotDeadlockWithTokenRevocation(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	_, tok := mustToken(t, s, alice.Actor(), "alice")

	tokenLocked, proceed := make(chan struct{}), make(chan struct{})
	var release sync.Once
	defer release.Do(func() { close(proceed) })
	revoking := make(chan error, 1)
	go func() {
		revoking <- s.DB.Tx(ctx, func(tx *db.Tx) error {
			if err := tx.Exec("UPDATE api_tokens SET revoked_at = now() WHERE id = ?", tok.ID).Error; err != nil {
				return err
			}
			close(tokenLocked)
			<-proceed
			tx.Record(auth.CommandLine.Entry("token.revoke", "user", "alice"))
			return nil
		})
	}()
	select {
	case <-tokenLocked:
	case err := <-revoking:
		t.Fatalf("revoking transaction: %v", err)
	}

	deactivating := make(chan error, 1)
	go func() {
		_, err := s.UpdateUser(ctx, auth.CommandLine, alice.ID, auth.UserChange{Active: ptr(false), Reason: "left"})
		deactivating <- err
	}()
	waitForLockWaiter(t, s)
	release.Do(func() { close(proceed) })

	if err := <-revoking; err != nil {
		t.Fatalf("revocation failed: %v", err)
	}
	if err := <-deactivating; err != nil {
		t.Fatalf("deactivation failed: %v", err)
	}
	if mustReload(t, s, alice.ID).Active {
		t.Fatal("alice still active")
	}
	mustVerifyChain(t, s.DB)
}

// waitForLockWaiter waits until a session of the test database waits for a row lock.
func waitForLockWaiter(tb testing.TB, s *auth.Service) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := s.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("no session started waiting for a lock within 10 s")
}

func TestUpdateUser_ChangeSiteRefusesInactiveSiteAndIgnoresCase(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	closed := mustSite(t, s, "CLOSED")
	if _, err := s.UpdateSite(context.Background(), auth.CommandLine, "CLOSED",
		auth.SiteInput{Name: closed.Name, Country: closed.Country, Active: ptr(false), Reason: "closed"}); err != nil {
		t.Fatal(err)
	}
	alice := mustUser(t, s, "alice", auth.RoleNurse, "LUX")

	before := dbState(t, s.DB)
	_, err := s.UpdateUser(context.Background(), auth.CommandLine, alice.ID, auth.UserChange{Site: ptr("CLOSED"), Reason: "r"})
	wantValidation(t, err, "site")
	// The user's own site, typed in lower case, is no change at all.
	_, err = s.UpdateUser(context.Background(), auth.CommandLine, alice.ID, auth.UserChange{Site: ptr(" lux "), Reason: "r"})
	wantValidation(t, err, "")
	assertUnchanged(t, s.DB, before)
}

// TestUpdateUser_AdminAtInactiveSiteDoesNotCount: an administrator whose site is
// deactivated cannot sign in, so they do not keep the system administered.
func TestUpdateUser_AdminAtInactiveSiteDoesNotCount(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustSite(t, s, "OLD")
	root := mustUser(t, s, "root", auth.RoleAdmin, "LUX")
	mustUser(t, s, "far-admin", auth.RoleAdmin, "OLD")
	if _, err := s.UpdateSite(context.Background(), auth.CommandLine, "OLD",
		auth.SiteInput{Name: "Site OLD", Country: "LU", Active: ptr(false), Reason: "closed"}); err != nil {
		t.Fatal(err)
	}
	before := dbState(t, s.DB)
	_, err := s.UpdateUser(context.Background(), root.Actor(), root.ID, auth.UserChange{Role: ptr("manager"), Reason: "stepping down"})
	wantConflict(t, err, "last_admin")
	assertUnchanged(t, s.DB, before)
}
