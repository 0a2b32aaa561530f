package auth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"biobank/internal/auth"
)

func TestCreateSite_StoresSiteAndAuditsCreation(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "HQ")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "HQ").Actor()

	site, err := s.CreateSite(ctx, admin, auth.SiteInput{Code: "LUX", Name: "Luxembourg Biobank", Country: "LU", Reason: "new partner"})
	if err != nil {
		t.Fatalf("create site: %v", err)
	}
	if site.ID == 0 || site.Code != "LUX" || site.Name != "Luxembourg Biobank" || site.Country != "LU" || !site.Active {
		t.Fatalf("returned site %+v", site)
	}
	stored, err := s.SiteByCode(ctx, "lux")
	if err != nil || stored.ID != site.ID || stored.Name != site.Name || !stored.Active {
		t.Fatalf("stored site %+v, %v", stored, err)
	}

	events := mustEvents(t, s, "site", "LUX")
	if len(events) != 1 {
		t.Fatalf("got %d audit events for site LUX, want 1", len(events))
	}
	ev := events[0]
	if ev.Action != "site.create" || ev.Actor != "root" || ev.ActorID == nil || *ev.ActorID != admin.UserID ||
		ev.Site != "HQ" || ev.Reason != "new partner" || ev.Before != nil {
		t.Fatalf("audit event %+v", ev)
	}
	after := decode(t, ev.After)
	if after["code"] != "LUX" || after["name"] != "Luxembourg Biobank" || after["country"] != "LU" || after["active"] != true {
		t.Fatalf("audit after %s", ev.After)
	}
	mustVerifyChain(t, s.DB)
}

func TestCreateSite_NormalisesInput(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	site, err := s.CreateSite(context.Background(), auth.CommandLine, auth.SiteInput{
		Code: "  de-kiel ", Name: "  Kiel University  ", Country: " de ", Reason: "  partner  "})
	if err != nil {
		t.Fatalf("create site: %v", err)
	}
	if site.Code != "DE-KIEL" || site.Name != "Kiel University" || site.Country != "DE" {
		t.Fatalf("got %+v, want code DE-KIEL, trimmed name, country DE", site)
	}
	if ev := lastEvent(t, s, "site", "DE-KIEL", "site.create"); ev.Reason != "partner" {
		t.Fatalf("reason stored as %q, want it trimmed", ev.Reason)
	}
}

func TestCreateSite_AcceptsNameOf200Characters(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	// 200 characters but 400 bytes: the limit counts characters, as the database does.
	name := strings.Repeat("é", 200)
	site, err := s.CreateSite(context.Background(), auth.CommandLine, auth.SiteInput{Code: "FR-LYON", Name: name, Country: "FR", Reason: "partner"})
	if err != nil {
		t.Fatalf("create site with a 200-character name: %v", err)
	}
	if site.Name != name {
		t.Fatalf("name stored as %q", site.Name)
	}
}

func TestCreateSite_RefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	good := auth.SiteInput{Code: "DE-KIEL", Name: "Kiel", Country: "DE", Reason: "new partner"}
	cases := []struct {
		name     string
		edit     func(in *auth.SiteInput)
		field    string // validation error field
		conflict string // or conflict code
	}{
		{"empty code", func(in *auth.SiteInput) { in.Code = "" }, "code", ""},
		{"blank code", func(in *auth.SiteInput) { in.Code = "   " }, "code", ""},
		{"one-character code", func(in *auth.SiteInput) { in.Code = "L" }, "code", ""},
		{"code of 17 characters", func(in *auth.SiteInput) { in.Code = strings.Repeat("A", 17) }, "code", ""},
		{"code with a space", func(in *auth.SiteInput) { in.Code = "DE KIEL" }, "code", ""},
		{"code with an underscore", func(in *auth.SiteInput) { in.Code = "DE_KIEL" }, "code", ""},
		{"code starting with a dash", func(in *auth.SiteInput) { in.Code = "-KIEL" }, "code", ""},
		{"code with an accent", func(in *auth.SiteInput) { in.Code = "KÖLN" }, "code", ""},
		{"empty name", func(in *auth.SiteInput) { in.Name = "" }, "name", ""},
		{"blank name", func(in *auth.SiteInput) { in.Name = " \t " }, "name", ""},
		{"name of 201 characters", func(in *auth.SiteInput) { in.Name = strings.Repeat("n", 201) }, "name", ""},
		{"name of 201 multibyte characters", func(in *auth.SiteInput) { in.Name = strings.Repeat("ü", 201) }, "name", ""},
		{"empty country", func(in *auth.SiteInput) { in.Country = "" }, "country", ""},
		{"three-letter country", func(in *auth.SiteInput) { in.Country = "DEU" }, "country", ""},
		{"one-letter country", func(in *auth.SiteInput) { in.Country = "D" }, "country", ""},
		{"country with a digit", func(in *auth.SiteInput) { in.Country = "D1" }, "country", ""},
		{"missing reason", func(in *auth.SiteInput) { in.Reason = "" }, "reason", ""},
		{"blank reason", func(in *auth.SiteInput) { in.Reason = "   " }, "reason", ""},
		{"reason of 501 characters", func(in *auth.SiteInput) { in.Reason = strings.Repeat("r", 501) }, "reason", ""},
		{"duplicate code", func(in *auth.SiteInput) { in.Code = "LUX" }, "", "duplicate_site"},
		{"duplicate code in lower case", func(in *auth.SiteInput) { in.Code = " lux " }, "", "duplicate_site"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			tc.edit(&in)
			before := dbState(t, s.DB)
			site, err := s.CreateSite(context.Background(), auth.CommandLine, in)
			if tc.conflict != "" {
				if c := wantConflict(t, err, tc.conflict); c.Field != "code" {
					t.Errorf("conflict names field %q, want code", c.Field)
				}
			} else {
				wantValidation(t, err, tc.field)
			}
			if site.ID != 0 {
				t.Errorf("refused call returned a site %+v", site)
			}
			assertUnchanged(t, s.DB, before)
		})
	}
	if _, err := s.CreateSite(context.Background(), auth.CommandLine, good); err != nil {
		t.Fatalf("the good input itself is refused: %v", err)
	}
	mustVerifyChain(t, s.DB)
}

func TestCreateSite_RefusesNonAdmins(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	for _, role := range []auth.Role{auth.RoleManager, auth.RoleTechnician, auth.RoleNurse} {
		t.Run(string(role), func(t *testing.T) {
			actor := auth.Actor{UserID: 99, Username: "someone", Role: role, SiteCode: "LUX"}
			before := dbState(t, s.DB)
			_, err := s.CreateSite(context.Background(), actor, auth.SiteInput{Code: "DE-KIEL", Name: "Kiel", Country: "DE", Reason: "partner"})
			wantForbidden(t, err)
			assertUnchanged(t, s.DB, before)
		})
	}
	// Forbidden comes before validation, so a non-admin learns nothing about the input.
	_, err := s.CreateSite(context.Background(), auth.Actor{Role: auth.RoleNurse}, auth.SiteInput{})
	wantForbidden(t, err)
}

func TestUpdateSite_ChangesNameAndActiveAndAuditsBeforeAfter(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "HQ")
	mustSite(t, s, "LUX")
	admin := mustUser(t, s, "root", auth.RoleAdmin, "HQ").Actor()

	site, err := s.UpdateSite(ctx, admin, "lux", auth.SiteInput{Name: "Integrated Biobank of Luxembourg", Country: "LU", Reason: "official name"})
	if err != nil {
		t.Fatalf("rename: %v", err)
	}
	if site.Name != "Integrated Biobank of Luxembourg" || !site.Active {
		t.Fatalf("after rename: %+v", site)
	}
	ev := lastEvent(t, s, "site", "LUX", "site.update")
	if b, a := decode(t, ev.Before), decode(t, ev.After); b["name"] != "Site LUX" || a["name"] != "Integrated Biobank of Luxembourg" ||
		ev.Reason != "official name" || ev.Actor != "root" {
		t.Fatalf("rename event %+v: before %s after %s", ev, ev.Before, ev.After)
	}

	site, err = s.UpdateSite(ctx, admin, "LUX", auth.SiteInput{Name: site.Name, Country: "LU", Active: ptr(false), Reason: "site closed"})
	if err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if site.Active {
		t.Fatal("site still active after deactivation")
	}
	stored, err := s.SiteByCode(ctx, "LUX")
	if err != nil || stored.Active || stored.Name != "Integrated Biobank of Luxembourg" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	ev = lastEvent(t, s, "site", "LUX", "site.update")
	if b, a := decode(t, ev.Before), decode(t, ev.After); b["active"] != true || a["active"] != false || ev.Reason != "site closed" {
		t.Fatalf("deactivation event: before %s after %s", ev.Before, ev.After)
	}
	if n := len(mustEvents(t, s, "site", "LUX")); n != 3 {
		t.Fatalf("got %d events for LUX, want create and two updates", n)
	}
	mustVerifyChain(t, s.DB)
}

func TestUpdateSite_RefusesBadChangesAndWritesNothing(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	admin := auth.CommandLine
	cases := []struct {
		name  string
		actor auth.Actor
		code  string
		in    auth.SiteInput
		check func(t *testing.T, err error)
	}{
		{"nothing changed", admin, "LUX", auth.SiteInput{Name: "Site LUX", Country: "LU", Active: ptr(true), Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "name") }},
		{"unknown site", admin, "NOPE", auth.SiteInput{Name: "x", Country: "LU", Reason: "r"},
			func(t *testing.T, err error) { wantNotFound(t, err) }},
		{"empty name", admin, "LUX", auth.SiteInput{Name: " ", Country: "LU", Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "name") }},
		{"bad country", admin, "LUX", auth.SiteInput{Name: "x", Country: "LUX", Reason: "r"},
			func(t *testing.T, err error) { wantValidation(t, err, "country") }},
		{"missing reason", admin, "LUX", auth.SiteInput{Name: "x", Country: "LU"},
			func(t *testing.T, err error) { wantValidation(t, err, "reason") }},
		{"manager", auth.Actor{Role: auth.RoleManager}, "LUX", auth.SiteInput{Name: "x", Country: "LU", Reason: "r"},
			func(t *testing.T, err error) { wantForbidden(t, err) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, s.DB)
			_, err := s.UpdateSite(context.Background(), tc.actor, tc.code, tc.in)
			tc.check(t, err)
			assertUnchanged(t, s.DB, before)
		})
	}
}

func TestSites_ListsByCode(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	for _, code := range []string{"LUX", "CH-BERN", "DE-KIEL"} {
		mustSite(t, s, code)
	}
	sites, err := s.Sites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, site := range sites {
		codes = append(codes, site.Code)
	}
	if strings.Join(codes, ",") != "CH-BERN,DE-KIEL,LUX" {
		t.Fatalf("got %v, want sorted by code", codes)
	}
}

// TestUpdateSite_RefusesDeactivatingTheLastAdminsSite: users of an inactive site cannot
// sign in, so closing the site of every active administrator would leave nobody in charge.
func TestUpdateSite_RefusesDeactivatingTheLastAdminsSite(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "LUX")
	mustSite(t, s, "DE-KIEL")
	mustUser(t, s, "root", auth.RoleAdmin, "LUX")
	mustUser(t, s, "root2", auth.RoleAdmin, "LUX")
	kielAdmin := mustUser(t, s, "kiel-admin", auth.RoleAdmin, "DE-KIEL")
	mustUpdateUser(t, s, auth.CommandLine, kielAdmin.ID, auth.UserChange{Active: ptr(false)})
	closeSite := func(code string) error {
		_, err := s.UpdateSite(ctx, auth.CommandLine, code, auth.SiteInput{Name: "Site " + code, Country: "LU", Active: ptr(false), Reason: "closed"})
		return err
	}

	before := dbState(t, s.DB)
	wantConflict(t, closeSite("LUX"), "last_admin")
	assertUnchanged(t, s.DB, before)

	mustUpdateUser(t, s, auth.CommandLine, kielAdmin.ID, auth.UserChange{Active: ptr(true)})
	if err := closeSite("LUX"); err != nil {
		t.Fatalf("closing LUX with an administrator at DE-KIEL: %v", err)
	}
	wantConflict(t, closeSite("DE-KIEL"), "last_admin")
}

// TestUpdateSite_ConcurrentDeactivationAndDemotionKeepAnAdmin races closing the site of
// one of two administrators against demoting the other.
func TestUpdateSite_ConcurrentDeactivationAndDemotionKeepAnAdmin(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	mustSite(t, s, "HQ")
	for round := 0; round < 5; round++ {
		code := fmt.Sprintf("S%d", round)
		mustSite(t, s, code)
		a := mustUser(t, s, fmt.Sprintf("a%d", round), auth.RoleAdmin, "HQ")
		b := mustUser(t, s, fmt.Sprintf("b%d", round), auth.RoleAdmin, code)
		// Retire every other administrator so that a and b are the only two.
		var others []int64
		if err := s.DB.Gorm.Model(&auth.User{}).Where("role = 'admin' AND active AND id NOT IN ?", []int64{a.ID, b.ID}).Pluck("id", &others).Error; err != nil {
			t.Fatal(err)
		}
		for _, id := range others {
			mustUpdateUser(t, s, auth.CommandLine, id, auth.UserChange{Active: ptr(false)})
		}

		start := make(chan struct{})
		var wg sync.WaitGroup
		var closeErr, demoteErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, closeErr = s.UpdateSite(ctx, a.Actor(), code, auth.SiteInput{Name: "Site " + code, Country: "LU", Active: ptr(false), Reason: "closed"})
		}()
		go func() {
			defer wg.Done()
			<-start
			_, demoteErr = s.UpdateUser(ctx, b.Actor(), a.ID, auth.UserChange{Role: ptr("manager"), Reason: "coup"})
		}()
		close(start)
		wg.Wait()
		if (closeErr == nil) == (demoteErr == nil) {
			t.Fatalf("round %d: close site %v, demote %v; want exactly one to succeed", round, closeErr, demoteErr)
		}
		for _, err := range []error{closeErr, demoteErr} {
			if err != nil {
				wantConflict(t, err, "last_admin")
			}
		}
		var usable int64
		if err := s.DB.Gorm.Table("users").Joins("JOIN sites ON sites.id = users.site_id").
			Where("users.role = 'admin' AND users.active AND sites.active").Count(&usable).Error; err != nil {
			t.Fatal(err)
		}
		if usable != 1 {
			t.Fatalf("round %d ends with %d usable administrators, want 1", round, usable)
		}
		if demoteErr == nil {
			// Give HQ a usable administrator again for the next round.
			mustUpdateUser(t, s, auth.CommandLine, a.ID, auth.UserChange{Role: ptr("admin")})
		}
	}
	mustVerifyChain(t, s.DB)
}
