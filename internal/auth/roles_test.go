package auth_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"biobank/internal/auth"
)

func TestParseRole_AcceptsKnownRolesOnly(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"admin", " Manager ", "TECHNICIAN", "nurse"} {
		r, err := auth.ParseRole("role", in)
		if err != nil || string(r) != strings.ToLower(strings.TrimSpace(in)) {
			t.Errorf("ParseRole(%q) = %q, %v", in, r, err)
		}
	}
	for _, in := range []string{"", "root", "administrator", "nur"} {
		_, err := auth.ParseRole("new_role", in)
		wantValidation(t, err, "new_role")
	}
}

func TestActorRequire_AllowsOnlyTheNamedRoles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role    auth.Role
		require []auth.Role
		allowed bool
	}{
		{auth.RoleAdmin, []auth.Role{auth.RoleAdmin}, true},
		{auth.RoleManager, []auth.Role{auth.RoleAdmin}, false},
		{auth.RoleManager, []auth.Role{auth.RoleAdmin, auth.RoleManager}, true},
		{auth.RoleTechnician, []auth.Role{auth.RoleAdmin, auth.RoleManager}, false},
		{auth.RoleTechnician, []auth.Role{auth.RoleTechnician, auth.RoleNurse}, true},
		{auth.RoleNurse, []auth.Role{auth.RoleTechnician}, false},
		{auth.RoleAdmin, nil, false},
		{"", []auth.Role{auth.RoleNurse}, false}, // the zero Actor may do nothing
	}
	for _, tc := range cases {
		err := auth.Actor{Username: "x", Role: tc.role}.Require(tc.require...)
		if tc.allowed && err != nil {
			t.Errorf("%s requiring %v: %v", tc.role, tc.require, err)
		}
		if !tc.allowed {
			wantForbidden(t, err)
			// The message names the roles needed, in words a person reads.
			if len(tc.require) > 0 && !strings.Contains(err.Error(), tc.require[0].Label()) {
				t.Errorf("message %q does not name %s", err, tc.require[0].Label())
			}
		}
	}
}

func TestActorAllSites_OnlyManagersAndAdmins(t *testing.T) {
	t.Parallel()
	want := map[auth.Role]bool{auth.RoleAdmin: true, auth.RoleManager: true, auth.RoleTechnician: false, auth.RoleNurse: false, "": false}
	for role, all := range want {
		if got := (auth.Actor{Role: role, SiteID: 1}).AllSites(); got != all {
			t.Errorf("%q: AllSites() = %v, want %v", role, got, all)
		}
	}
	if !auth.CommandLine.AllSites() {
		t.Error("the command line must see every site")
	}
}

func TestActorRequireSite_OwnSiteUnlessAllSites(t *testing.T) {
	t.Parallel()
	const own, other = 1, 2
	cases := []struct {
		role    auth.Role
		site    int64
		allowed bool
	}{
		{auth.RoleNurse, own, true},
		{auth.RoleNurse, other, false},
		{auth.RoleTechnician, own, true},
		{auth.RoleTechnician, other, false},
		{auth.RoleManager, other, true},
		{auth.RoleAdmin, other, true},
		{auth.RoleNurse, 0, false},
	}
	for _, tc := range cases {
		err := auth.Actor{Role: tc.role, SiteID: own}.RequireSite(tc.site)
		if tc.allowed && err != nil {
			t.Errorf("%s at site %d acting on site %d: %v", tc.role, own, tc.site, err)
		}
		if !tc.allowed {
			wantForbidden(t, err)
		}
	}
}

func TestActorScopeToSite_NurseSeesOnlyOwnSite(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	mustSite(t, s, "LUX")
	mustSite(t, s, "DE-KIEL")
	nurse := mustUser(t, s, "nina", auth.RoleNurse, "LUX").Actor()
	tech := mustUser(t, s, "kai", auth.RoleTechnician, "DE-KIEL").Actor()
	manager := mustUser(t, s, "meg", auth.RoleManager, "DE-KIEL").Actor()
	admin := mustUser(t, s, "root", auth.RoleAdmin, "LUX").Actor()
	mustUser(t, s, "luc", auth.RoleTechnician, "LUX")

	cases := []struct {
		name  string
		actor auth.Actor
		want  []string
	}{
		{"nurse at LUX", nurse, []string{"luc", "nina", "root"}},
		{"technician at DE-KIEL", tech, []string{"kai", "meg"}},
		{"manager", manager, []string{"kai", "luc", "meg", "nina", "root"}},
		{"admin", admin, []string{"kai", "luc", "meg", "nina", "root"}},
		{"actor without a site", auth.Actor{Role: auth.RoleNurse}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			q := s.DB.Gorm.WithContext(context.Background()).Model(&auth.User{}).
				Joins("JOIN sites ON sites.id = users.site_id")
			if err := tc.actor.ScopeToSite(q, "users.site_id").Order("username").Pluck("username", &got).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestActorEntry_CarriesActorAndSite(t *testing.T) {
	t.Parallel()
	a := auth.Actor{UserID: 7, Username: "alice", Role: auth.RoleNurse, SiteID: 3, SiteCode: "LUX"}
	e := a.Entry("sample.collect", "sample", "BB0000001")
	if e.ActorID == nil || *e.ActorID != 7 || e.Actor != "alice" || e.Site != "LUX" || e.Action != "sample.collect" ||
		e.EntityType != "sample" || e.EntityID != "BB0000001" {
		t.Fatalf("entry %+v", e)
	}
	if e := auth.CommandLine.Entry("site.create", "site", "LUX"); e.ActorID != nil || e.Actor != "command-line" {
		t.Fatalf("command-line entry %+v, want no actor id", e)
	}
}

func TestRoleLabel_NamesEveryRole(t *testing.T) {
	t.Parallel()
	for _, r := range auth.Roles {
		if l := r.Label(); l == "" || l == string(r) {
			t.Errorf("role %s has no label", r)
		}
	}
}

func TestCheckPasswordPolicy_Bounds(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		strings.Repeat("a", 9):   false,
		strings.Repeat("a", 10):  true,
		strings.Repeat("ä", 10):  true, // ten characters, twenty bytes
		strings.Repeat("a", 256): true,
		strings.Repeat("a", 257): false,
		strings.Repeat("ä", 129): false, // 129 characters but 258 bytes
	}
	for pw, ok := range cases {
		err := auth.CheckPasswordPolicy("password", pw)
		if ok && err != nil {
			t.Errorf("%d-byte password refused: %v", len(pw), err)
		}
		if !ok {
			wantValidation(t, err, "password")
		}
	}
}
