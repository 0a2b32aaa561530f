package main

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"biobank/internal/auth"
	"biobank/internal/seed"
)

func TestHelp_PrintsUsageAndExitsZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {}} {
		r := runCmd(t, "", args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("biobank %v: want exit 0 and nothing on stderr, got %s", args, r)
		}
		for _, cmd := range []string{"migrate", "serve", "site create", "user create", "token create", "seed --demo", "audit verify", "DATABASE_URL"} {
			if !strings.Contains(r.stdout, cmd) {
				t.Errorf("biobank %v: usage does not mention %q:\n%s", args, cmd, r.stdout)
			}
		}
	}
}

func TestUnknownCommand_ExitsTwoWithUsage(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"site", "delete"}, {"site"}, {"audit"}} {
		r := runCmd(t, "", args...)
		wantExit(t, r, 2, "unknown command", "Usage:")
		if r.stdout != "" {
			t.Errorf("biobank %v printed on stdout: %q", args, r.stdout)
		}
	}
}

func TestMigrate_IsIdempotent(t *testing.T) {
	newDatabase(t)
	for i := 0; i < 2; i++ {
		r := mustRun(t, "", "migrate")
		if !strings.Contains(r.stdout, "current") {
			t.Errorf("migrate run %d: stdout %q does not say the schema is current", i+1, r.stdout)
		}
	}
	wantExit(t, runCmd(t, "", "migrate", "now"), 2, "unexpected argument now")
}

func TestSiteCreate_CreatesOnceAndRefusesDuplicate(t *testing.T) {
	url := newDatabase(t)
	r := mustRun(t, "", "site", "create", "--code", "LUX", "--name", "Luxembourg", "--country", "LU",
		"--reason", "first site of the network")
	if !strings.Contains(r.stdout, "site LUX created") {
		t.Errorf("stdout %q does not confirm the site", r.stdout)
	}
	var reason string
	d := openTestDB(t, url)
	if err := d.Pool.QueryRow(context.Background(),
		"SELECT reason FROM audit_events WHERE action = 'site.create' AND entity_id = 'LUX'").Scan(&reason); err != nil {
		t.Fatalf("site.create audit event: %v", err)
	}
	if reason != "first site of the network" {
		t.Errorf("audit reason = %q, want the --reason given", reason)
	}
	before := rowCounts(t, url)

	r = runCmd(t, "", "site", "create", "--code", "LUX", "--name", "Another", "--country", "LU")
	wantExit(t, r, 1, "A site with the code LUX already exists")
	wantCounts(t, url, before)
}

func TestSiteCreate_BadInput(t *testing.T) {
	url := newDatabase(t)
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"missing code", []string{"--name", "N", "--country", "LU"}, 2, "--code is required"},
		{"missing name", []string{"--code", "LUX", "--country", "LU"}, 2, "--name is required"},
		{"missing country", []string{"--code", "LUX", "--name", "N"}, 2, "--country is required"},
		{"unknown flag", []string{"--code", "LUX", "--name", "N", "--country", "LU", "--colour", "red"}, 2, "colour"},
		{"stray argument", []string{"--code", "LUX", "--name", "N", "--country", "LU", "extra"}, 2, "unexpected argument extra"},
		{"bad country", []string{"--code", "LUX", "--name", "N", "--country", "Luxembourg"}, 1, "two-letter ISO code"},
		{"bad code", []string{"--code", "L", "--name", "N", "--country", "LU"}, 1, "site code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, "", append([]string{"site", "create"}, tc.args...)...)
			wantExit(t, r, tc.code, tc.message)
			if tc.code == 2 && !strings.Contains(r.stderr, "biobank site create:") {
				t.Errorf("a usage error should name the command: %q", r.stderr)
			}
		})
	}
	wantCounts(t, url, map[string]int64{"sites": 0, "audit_events": 0})
}

func TestUserCreate_ReadsPasswordFromStdin(t *testing.T) {
	url := newDatabase(t)
	mustRun(t, "", "site", "create", "--code", "LUX", "--name", "Luxembourg", "--country", "LU")
	// A Windows editor's line ending is not part of the password.
	r := mustRun(t, "correct horse battery staple\r\n", "user", "create", "--username", "nurse1", "--role", "nurse", "--site", "LUX", "--password-stdin")
	if !strings.Contains(r.stdout, "user nurse1 (nurse at LUX) created") {
		t.Errorf("stdout %q does not confirm the user", r.stdout)
	}
	svc := auth.NewService(openTestDB(t, url))
	u, err := svc.SignIn(context.Background(), "nurse1", "correct horse battery staple", "test")
	if err != nil {
		t.Fatalf("the new user cannot sign in with the password given on stdin: %v", err)
	}
	if u.Role != auth.RoleNurse || u.Site.Code != "LUX" {
		t.Errorf("user is %s at %s, want nurse at LUX", u.Role, u.Site.Code)
	}
}

func TestUserCreate_BadInput(t *testing.T) {
	url := newDatabase(t)
	mustSiteAndUser(t, "taken", "admin")
	before := rowCounts(t, url)
	for _, tc := range []struct {
		name    string
		stdin   string
		args    []string
		code    int
		message string
	}{
		{"short password", "short\n", []string{"--username", "nurse1", "--role", "nurse", "--site", "LUX", "--password-stdin"}, 1, "at least 10 characters"},
		{"empty stdin", "", []string{"--username", "nurse1", "--role", "nurse", "--site", "LUX", "--password-stdin"}, 1, "at least 10 characters"},
		{"unknown role", testPassword, []string{"--username", "nurse1", "--role", "surgeon", "--site", "LUX", "--password-stdin"}, 1, `Unknown role "surgeon"`},
		{"unknown site", testPassword, []string{"--username", "nurse1", "--role", "nurse", "--site", "NOPE", "--password-stdin"}, 1, `no site with the code "NOPE"`},
		{"duplicate username", testPassword, []string{"--username", "taken", "--role", "nurse", "--site", "LUX", "--password-stdin"}, 1, "taken is taken"},
		{"bad username", testPassword, []string{"--username", "no spaces", "--role", "nurse", "--site", "LUX", "--password-stdin"}, 1, "A username has"},
		{"no --password-stdin", testPassword, []string{"--username", "nurse1", "--role", "nurse", "--site", "LUX"}, 2, "--password-stdin is required"},
		{"password as a flag", "", []string{"--username", "nurse1", "--role", "nurse", "--site", "LUX", "--password", "correct horse"}, 2, "password"},
		{"missing role", testPassword, []string{"--username", "nurse1", "--site", "LUX", "--password-stdin"}, 2, "--role is required"},
		{"missing site", testPassword, []string{"--username", "nurse1", "--role", "nurse", "--password-stdin"}, 2, "--site is required"},
		{"missing username", testPassword, []string{"--role", "nurse", "--site", "LUX", "--password-stdin"}, 2, "--username is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.stdin, append([]string{"user", "create"}, tc.args...)...)
			wantExit(t, r, tc.code, tc.message)
			if r.stdout != "" {
				t.Errorf("a refused command printed on stdout: %q", r.stdout)
			}
		})
	}
	wantCounts(t, url, before)
}

func TestTokenCreate_PrintsTokenAloneThatAuthenticates(t *testing.T) {
	url := newDatabase(t)
	mustSiteAndUser(t, "user1", "technician")
	r := mustRun(t, "", "token", "create", "--username", "user1", "--name", "script")
	if r.stderr != "" {
		t.Errorf("token create wrote on stderr: %q", r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("want the token alone on one line, got %q", r.stdout)
	}
	token := strings.TrimSuffix(r.stdout, "\n")
	if !strings.HasPrefix(token, "bbk_") || strings.ContainsAny(token, " \t") {
		t.Fatalf("want one token starting bbk_, got %q", token)
	}

	d := openTestDB(t, url)
	ctx := context.Background()
	actor, err := auth.NewService(d).Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("the printed token does not authenticate: %v", err)
	}
	if actor.Username != "user1" || actor.Role != auth.RoleTechnician || actor.SiteCode != "LUX" {
		t.Errorf("token acts as %+v, want user1, technician at LUX", actor)
	}

	// Only the SHA-256 is kept: no row of any table holds the token itself.
	var hash []byte
	var name string
	if err := d.Pool.QueryRow(ctx, "SELECT token_hash, name FROM api_tokens").Scan(&hash, &name); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(token)); string(hash) != string(sum[:]) || name != "script" {
		t.Errorf("stored token is not the SHA-256 of the printed one, or its name %q is not \"script\"", name)
	}
	rows, err := d.Pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 4 {
		t.Fatalf("list tables: %v %v", tables, err)
	}
	secret := strings.TrimPrefix(token, "bbk_")
	for _, table := range tables {
		var n int
		q := "SELECT count(*) FROM " + pgx.Identifier{table}.Sanitize() + " t WHERE strpos(t::text, $1) > 0"
		if err := d.Pool.QueryRow(ctx, q, secret).Scan(&n); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			t.Errorf("table %s holds the token text in %d rows", table, n)
		}
	}
}

func TestTokenCreate_BadInput(t *testing.T) {
	url := newDatabase(t)
	mustSiteAndUser(t, "user1", "nurse")
	before := rowCounts(t, url)
	wantExit(t, runCmd(t, "", "token", "create", "--username", "ghost"), 1, `No user "ghost" was found`)
	wantExit(t, runCmd(t, "", "token", "create", "--name", "script"), 2, "--username is required")
	wantExit(t, runCmd(t, "", "token", "create", "--username", "user1", "--name", strings.Repeat("x", 101)), 1, "at most 100 characters")
	wantCounts(t, url, before)
}

func TestSeedDemo_LoadsAnEmptyDatabaseOnce(t *testing.T) {
	url := newDatabase(t)
	r := mustRun(t, "", "seed", "--demo", "--participants", "1")
	if !strings.Contains(r.stdout, "4 sites, 10 users") || !strings.Contains(r.stdout, seed.DemoPassword) {
		t.Errorf("summary %q does not say what was loaded", r.stdout)
	}
	wantCounts(t, url, map[string]int64{"sites": 4, "users": 10})
	svc := auth.NewService(openTestDB(t, url))
	for _, l := range []string{"admin", "nurse.lux", "tech.kiel"} {
		if _, err := svc.SignIn(context.Background(), l, seed.DemoPassword, "test"); err != nil {
			t.Errorf("demo login %s does not sign in: %v", l, err)
		}
	}

	before := rowCounts(t, url)
	r = runCmd(t, "", "seed", "--demo", "--participants", "1")
	wantExit(t, r, 1, "empty database")
	if r.stdout != "" {
		t.Errorf("a refused seed printed %q", r.stdout)
	}
	wantCounts(t, url, before)
}

// A database where an administrator has begun setting up (a site, no users yet) is not
// empty either: demo data must not be mixed into it, not even partly.
func TestSeedDemo_RefusesADatabaseWithSites(t *testing.T) {
	url := newDatabase(t)
	mustRun(t, "", "site", "create", "--code", "DE-KIEL", "--name", "Kiel", "--country", "DE")
	before := rowCounts(t, url)
	wantExit(t, runCmd(t, "", "seed", "--demo", "--participants", "1"), 1, "empty database")
	wantCounts(t, url, before)
}

func TestSeed_WithoutDemoIsAUsageError(t *testing.T) {
	url := newDatabase(t)
	wantExit(t, runCmd(t, "", "seed"), 2, "--demo")
	wantCounts(t, url, map[string]int64{"sites": 0, "users": 0})
}

func TestAuditVerify_IntactTrail(t *testing.T) {
	url := newDatabase(t)
	r := mustRun(t, "", "audit", "verify")
	if !strings.Contains(r.stdout, "intact: 0 events") {
		t.Errorf("empty trail: stdout %q", r.stdout)
	}
	mustSiteAndUser(t, "user1", "admin")
	mustRun(t, "", "token", "create", "--username", "user1")
	n := rowCounts(t, url)["audit_events"]
	if n != 3 {
		t.Fatalf("want 3 audit events (site, user, token), got %d", n)
	}
	r = mustRun(t, "", "audit", "verify")
	if !strings.Contains(r.stdout, "intact") || !strings.Contains(r.stdout, "3 events") {
		t.Errorf("stdout %q does not say intact with 3 events", r.stdout)
	}
}

func TestAuditVerify_ReportsFirstBadEvent(t *testing.T) {
	const (
		disable = "ALTER TABLE audit_events DISABLE TRIGGER audit_events_immutable"
		enable  = "ALTER TABLE audit_events ENABLE TRIGGER audit_events_immutable"
	)
	for _, tc := range []struct {
		name   string
		tamper string
		bad    string
	}{
		{"altered reason", "UPDATE audit_events SET reason = 'nothing to see here' WHERE seq = 2", "event 2"},
		{"altered data", `UPDATE audit_events SET after = jsonb_set(after, '{role}', '"nurse"') WHERE seq = 2`, "event 2"},
		{"removed event", "DELETE FROM audit_events WHERE seq = 2", "event 2"},
		{"removed tail", "DELETE FROM audit_events WHERE seq = 3", "event 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := newDatabase(t)
			mustSiteAndUser(t, "user1", "admin")
			mustRun(t, "", "token", "create", "--username", "user1")
			mustRun(t, "", "audit", "verify")

			exec(t, url, disable, tc.tamper, enable)
			r := runCmd(t, "", "audit", "verify")
			if r.code != 1 {
				t.Fatalf("want exit 1 after tampering, got %s", r)
			}
			if !strings.Contains(r.stdout, "BROKEN at "+tc.bad) {
				t.Errorf("want the first bad event %q named, got %s", tc.bad, r)
			}
		})
	}
}
