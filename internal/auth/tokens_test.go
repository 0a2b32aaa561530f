package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
)

func TestCreateToken_ReturnsSecretAndStoresOnlyItsHash(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")

	secret, tok, err := s.CreateToken(ctx, alice.Actor(), "alice", "  freezer sync  ")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	if !strings.HasPrefix(secret, auth.TokenPrefix) || len(secret) < len(auth.TokenPrefix)+40 {
		t.Fatalf("secret %q, want bbk_ and at least 40 more characters", secret)
	}
	if tok.ID == 0 || tok.UserID != alice.ID || tok.Name != "freezer sync" || tok.Prefix != secret[:10] || tok.RevokedAt != nil {
		t.Fatalf("token record %+v", tok)
	}
	other, _ := mustToken(t, s, alice.Actor(), "alice")
	if other == secret {
		t.Fatal("two tokens share a secret")
	}

	var stored []byte
	if err := s.DB.Pool.QueryRow(ctx, "SELECT token_hash FROM api_tokens WHERE id = $1", tok.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(secret)); !bytes.Equal(stored, sum[:]) {
		t.Fatalf("stored hash %x, want the SHA-256 of the secret", stored)
	}
	// Neither the secret nor its random part appears anywhere in the token table or the
	// audit trail, in any column.
	random := strings.TrimPrefix(secret, auth.TokenPrefix)
	for _, table := range []string{"api_tokens", "audit_events"} {
		var n int
		if err := s.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table+" t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
			secret, random[10:]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("the token secret is stored in %d rows of %s", n, table)
		}
	}
	ev := eventsWithAction(mustEvents(t, s, "user", "alice"), "token.create")[0]
	if a := decode(t, ev.After); a["prefix"] != tok.Prefix || a["name"] != "freezer sync" || ev.Actor != "alice" {
		t.Fatalf("event %+v after %s", ev, ev.After)
	}
	mustVerifyChain(t, s.DB)
}

func TestAuthenticate_ReturnsTheTokensOwner(t *testing.T) {
	t.Parallel()
	s, c := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	secret, tok := mustToken(t, s, auth.CommandLine, "alice")

	actor, err := s.Authenticate(ctx, "  "+secret+"\n")
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	want := auth.Actor{UserID: alice.ID, Username: "alice", Role: auth.RoleTechnician, SiteID: alice.SiteID, SiteCode: "LUX"}
	if actor != want {
		t.Fatalf("actor %+v, want %+v", actor, want)
	}
	lastUsed := func() time.Time {
		tokens, err := s.Tokens(ctx, alice.ID)
		if err != nil || len(tokens) != 1 || tokens[0].ID != tok.ID || tokens[0].LastUsedAt == nil {
			t.Fatalf("tokens %+v, %v", tokens, err)
		}
		return *tokens[0].LastUsedAt
	}
	first := c.Now()
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last used %v, want %v", got, first)
	}
	// Use is recorded at most once a minute.
	c.Advance(30 * time.Second)
	if _, err := s.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last used moved to %v within a minute", got)
	}
	c.Advance(time.Minute)
	if _, err := s.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(c.Now()) {
		t.Fatalf("last used %v, want %v", got, c.Now())
	}
}

func TestAuthenticate_RefusesBadTokens(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	mustSite(t, s, "CLOSED")
	mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	bob := mustUser(t, s, "bob", auth.RoleNurse, "LUX")
	mustUser(t, s, "carol", auth.RoleNurse, "CLOSED")
	valid, _ := mustToken(t, s, auth.CommandLine, "alice")
	revoked, revokedTok := mustToken(t, s, auth.CommandLine, "alice")
	if err := s.RevokeToken(ctx, auth.CommandLine, revokedTok.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	ofDeactivated, _ := mustToken(t, s, auth.CommandLine, "bob")
	mustUpdateUser(t, s, auth.CommandLine, bob.ID, auth.UserChange{Active: ptr(false)})
	ofClosedSite, _ := mustToken(t, s, auth.CommandLine, "carol")
	if _, err := s.UpdateSite(ctx, auth.CommandLine, "CLOSED", auth.SiteInput{Name: "Site CLOSED", Country: "LU", Active: ptr(false), Reason: "closed"}); err != nil {
		t.Fatal(err)
	}

	altered := valid[:len(valid)-1] + "a"
	if altered == valid {
		altered = valid[:len(valid)-1] + "b"
	}
	cases := map[string]string{
		"empty":                      "",
		"prefix only":                auth.TokenPrefix,
		"without prefix":             strings.TrimPrefix(valid, auth.TokenPrefix),
		"upper-case prefix":          "BBK_" + strings.TrimPrefix(valid, auth.TokenPrefix),
		"unknown":                    auth.TokenPrefix + strings.Repeat("a", 52),
		"last character altered":     altered,
		"valid with extra text":      valid + "x",
		"over-long":                  valid + strings.Repeat("a", 101-len(valid)),
		"session cookie lookalike":   "Bearer " + valid,
		"NUL byte":                   auth.TokenPrefix + "\x00",
		"revoked":                    revoked,
		"of a deactivated user":      ofDeactivated,
		"of a user at a closed site": ofClosedSite,
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			actor, err := s.Authenticate(ctx, token)
			if !errors.Is(err, apperr.ErrUnauthenticated) {
				t.Fatalf("got %v, want ErrUnauthenticated", err)
			}
			if actor != (auth.Actor{}) {
				t.Fatalf("refused token gave actor %+v", actor)
			}
		})
	}
	if _, err := s.Authenticate(ctx, valid); err != nil {
		t.Fatalf("the valid token itself is refused: %v", err)
	}
}

func TestCreateToken_NonAdminOnlyForThemselves(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "LUX").Actor()
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	mustUser(t, s, "bob", auth.RoleNurse, "LUX")
	manager := mustUser(t, s, "meg", auth.RoleManager, "LUX").Actor()

	for _, actor := range []auth.Actor{alice.Actor(), manager} {
		before := dbState(t, s.DB)
		_, _, err := s.CreateToken(ctx, actor, "bob", "borrowed")
		wantForbidden(t, err)
		assertUnchanged(t, s.DB, before)
	}
	mustToken(t, s, alice.Actor(), "alice")
	secret, _ := mustToken(t, s, admin, "bob")
	if actor, err := s.Authenticate(ctx, secret); err != nil || actor.Username != "bob" {
		t.Fatalf("admin-made token authenticates as %+v, %v", actor, err)
	}
}

func TestCreateToken_RefusesBadRequests(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	gone := mustUser(t, s, "gone", auth.RoleNurse, "LUX")
	mustUpdateUser(t, s, auth.CommandLine, gone.ID, auth.UserChange{Active: ptr(false)})
	cases := []struct {
		name, username, tokenName string
		check                     func(t *testing.T, err error)
	}{
		{"unknown user", "nobody", "x", func(t *testing.T, err error) { wantNotFound(t, err) }},
		{"malformed username", "no body", "x", func(t *testing.T, err error) { wantValidation(t, err, "username") }},
		{"deactivated user", "gone", "x", func(t *testing.T, err error) { wantConflict(t, err, "user_inactive") }},
		{"name of 101 characters", "gone", strings.Repeat("n", 101), func(t *testing.T, err error) { wantValidation(t, err, "name") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, s.DB)
			secret, _, err := s.CreateToken(context.Background(), auth.CommandLine, tc.username, tc.tokenName)
			tc.check(t, err)
			if secret != "" {
				t.Fatalf("refused call returned a secret")
			}
			assertUnchanged(t, s.DB, before)
		})
	}
}

func TestRevokeToken_NeedsReasonAndIsAudited(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	secret, tok := mustToken(t, s, alice.Actor(), "alice")

	for _, reason := range []string{"", "   ", strings.Repeat("r", 501)} {
		before := dbState(t, s.DB)
		wantValidation(t, s.RevokeToken(ctx, alice.Actor(), tok.ID, reason), "reason")
		assertUnchanged(t, s.DB, before)
	}
	if _, err := s.Authenticate(ctx, secret); err != nil {
		t.Fatalf("token refused after failed revocations: %v", err)
	}

	if err := s.RevokeToken(ctx, alice.Actor(), tok.ID, "  laptop stolen "); err != nil {
		t.Fatalf("revoke own token: %v", err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Fatalf("revoked token: got %v, want ErrUnauthenticated", err)
	}
	ev := lastEvent(t, s, "user", "alice", "token.revoke")
	if b := decode(t, ev.Before); ev.Reason != "laptop stolen" || ev.Actor != "alice" || b["prefix"] != tok.Prefix || b["token_id"] != float64(tok.ID) {
		t.Fatalf("event %+v before %s", ev, ev.Before)
	}

	before := dbState(t, s.DB)
	wantConflict(t, s.RevokeToken(ctx, alice.Actor(), tok.ID, "again"), "already_revoked")
	wantNotFound(t, s.RevokeToken(ctx, alice.Actor(), 999999, "no such token"))
	assertUnchanged(t, s.DB, before)
	mustVerifyChain(t, s.DB)
}

func TestRevokeToken_OnlyAdminsRevokeOthersTokens(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "LUX").Actor()
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	manager := mustUser(t, s, "meg", auth.RoleManager, "LUX").Actor()
	secret, tok := mustToken(t, s, alice.Actor(), "alice")

	before := dbState(t, s.DB)
	wantForbidden(t, s.RevokeToken(ctx, manager, tok.ID, "tidying up"))
	assertUnchanged(t, s.DB, before)
	if err := s.RevokeToken(ctx, admin, tok.ID, "security review"); err != nil {
		t.Fatalf("admin revoke: %v", err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Fatalf("got %v", err)
	}
	if ev := lastEvent(t, s, "user", "alice", "token.revoke"); ev.Actor != "root" {
		t.Fatalf("revoked by %s, want root", ev.Actor)
	}
}

// TestRevokeToken_ConcurrentRevocationsSucceedOnce races several revocations of one token:
// exactly one is recorded, the rest are told it was already revoked.
func TestRevokeToken_ConcurrentRevocationsSucceedOnce(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	alice := mustUser(t, s, "alice", auth.RoleTechnician, "LUX")
	for round := 0; round < 5; round++ {
		_, tok := mustToken(t, s, alice.Actor(), "alice")
		const racers = 4
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.RevokeToken(context.Background(), alice.Actor(), tok.ID, "racing")
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantConflict(t, err, "already_revoked")
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d revocations succeeded, want 1", round, ok)
		}
	}
	if n := len(eventsWithAction(mustEvents(t, s, "user", "alice"), "token.revoke")); n != 5 {
		t.Fatalf("%d revoke events for 5 tokens", n)
	}
	mustVerifyChain(t, s.DB)
}
