package web_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"biobank/internal/db"
	"biobank/internal/db/dbtest"
	"biobank/web"
)

// TestInstances_TwoServersShareOneDatabase runs two servers on one database, as behind a
// load balancer: started together on an empty database they apply the migrations once;
// a session created on one is valid on the other, and signing out on one ends it on both.
func TestInstances_TwoServersShareOneDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := dbtest.NewEmpty(t)
	second, err := db.Open(ctx, first.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []*db.DB{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.Migrate(ctx)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("migrations started together: %v, %v", errs[0], errs[1])
	}
	var applied, distinct int
	if err := first.Pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0").
		Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied == 0 {
		t.Errorf("%d migration rows for %d versions: a migration was applied twice", applied, distinct)
	}

	a := newAppOn(t, web.Config{}, first)
	b := newAppOn(t, web.Config{}, second)
	a.seedStaff(t)
	onA := a.signedIn(t, "nurse")
	// The same browser (its cookie) on the other server: cookies do not depend on the port.
	onB := &client{app: b, jar: onA.jar, http: onA.http}
	if p := onB.get(t, "/participants"); p.StatusCode != http.StatusOK {
		t.Fatalf("the session made on one server is refused by the other: %d", p.StatusCode)
	}
	token := onA.cookie("biobank_session")
	if token == "" {
		t.Fatal("no session cookie after signing in")
	}
	onB.submit(t, "/", "/logout", nil).wantStatus(t, http.StatusSeeOther)
	// The old cookie, kept by a browser that ignored the sign-out, opens nothing on either.
	for _, srv := range []*app{a, b} {
		stale := srv.newClient(t)
		stale.setCookie("biobank_session", token)
		if p := stale.get(t, "/participants"); p.StatusCode != http.StatusSeeOther {
			t.Errorf("after signing out, the old session still opens a page: %d", p.StatusCode)
		}
	}
}
