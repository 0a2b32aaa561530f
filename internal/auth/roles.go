// Package auth holds sites, users, roles, password and token checks, and the Actor every
// domain service receives. It never imports echo or templ.
package auth

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"biobank/internal/apperr"
	"biobank/internal/audit"
)

// Role is what a user may do.
type Role string

// The four roles of the design.
const (
	RoleAdmin      Role = "admin"
	RoleManager    Role = "manager"
	RoleTechnician Role = "technician"
	RoleNurse      Role = "nurse"
)

// Roles lists every role, most privileged first.
var Roles = []Role{RoleAdmin, RoleManager, RoleTechnician, RoleNurse}

// ParseRole returns the role named s, or a ValidationError for field.
func ParseRole(field, s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", apperr.Invalid(field, fmt.Sprintf("Unknown role %q: choose admin, manager, technician or nurse.", s))
}

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "Administrator"
	case RoleManager:
		return "Biobank manager"
	case RoleTechnician:
		return "Lab technician"
	case RoleNurse:
		return "Study nurse"
	}
	return string(r)
}

// Actor is the signed-in user (or the command line) on whose behalf a service acts.
type Actor struct {
	UserID   int64
	Username string
	Role     Role
	SiteID   int64
	SiteCode string
}

// CommandLine is the actor for changes made with the biobank command by someone with
// direct access to the server (creating the first site and administrator, for example).
var CommandLine = Actor{Username: "command-line", Role: RoleAdmin}

// Is reports whether the actor has one of roles.
func (a Actor) Is(roles ...Role) bool {
	for _, r := range roles {
		if a.Role == r {
			return true
		}
	}
	return false
}

// Require returns a ForbiddenError unless the actor has one of roles. Services call it
// even though the web layer checks roles too: a route added carelessly must not open a
// door the service keeps shut.
func (a Actor) Require(roles ...Role) error {
	if a.Is(roles...) {
		return nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Label()
	}
	return apperr.Forbidden(fmt.Sprintf("This needs the role %s; you are signed in as %s.", strings.Join(names, " or "), a.Role.Label()))
}

// AllSites reports whether the actor sees every site's data (managers and administrators)
// rather than only their own site's.
func (a Actor) AllSites() bool {
	return a.Is(RoleAdmin, RoleManager)
}

// ScopeToSite limits q to rows whose siteColumn is the actor's site, unless the actor sees
// every site. Every list and lookup of site-owned data goes through it.
func (a Actor) ScopeToSite(q *gorm.DB, siteColumn string) *gorm.DB {
	if a.AllSites() {
		return q
	}
	return q.Where(siteColumn+" = ?", a.SiteID)
}

// RequireSite returns a ForbiddenError when the actor may not act on data of siteID.
func (a Actor) RequireSite(siteID int64) error {
	if a.AllSites() || a.SiteID == siteID {
		return nil
	}
	return apperr.Forbidden("This belongs to another site; you can act only on your own site's records.")
}

// ID is the actor's user ID for a "done by" column, or nil for the command line.
func (a Actor) ID() *int64 {
	if a.UserID == 0 {
		return nil
	}
	id := a.UserID
	return &id
}

// Entry starts an audit entry made by this actor.
func (a Actor) Entry(action, entityType, entityID string) audit.Entry {
	e := audit.Entry{Actor: a.Username, Site: a.SiteCode, Action: action, EntityType: entityType, EntityID: entityID}
	e.ActorID = a.ID()
	return e
}
