package web

import (
	"github.com/labstack/echo/v4"

	"biobank/internal/auth"
	"biobank/static"
)

// access is who may call a route. The one authorize middleware checks it for every
// request; a route registered without an entry is refused to everybody.
type access struct {
	public bool        // no sign-in needed
	roles  []auth.Role // empty: any signed-in user
}

var (
	public      = access{public: true}
	signedIn    = access{}
	adminOnly   = access{roles: []auth.Role{auth.RoleAdmin}}
	managers    = access{roles: []auth.Role{auth.RoleAdmin, auth.RoleManager}}
	jsonPrefix  = "/api/"
	fhirPrefix  = "/fhir/"
	staticRoute = static.Prefix + "*"
)

// route registers one route with who may call it.
func (s *Server) route(method, path string, a access, h echo.HandlerFunc) {
	s.access[method+" "+path] = a
	s.echo.Add(method, path, h)
}

// routes lists every route of the application.
func (s *Server) routes() {
	s.route("GET", "/healthz", public, s.healthz)
	s.route("GET", staticRoute, public, echo.WrapHandler(static.Handler()))
	s.route("HEAD", staticRoute, public, echo.WrapHandler(static.Handler()))

	// Signing in and out.
	s.route("GET", "/login", public, s.signInPage)
	s.route("POST", "/login", public, s.signIn)
	s.route("POST", "/logout", signedIn, s.signOut)

	// Every role.
	s.route("GET", "/", signedIn, s.home)
	s.route("GET", "/scan", signedIn, s.scan)

	// Administration.
	s.route("GET", "/admin/sites", adminOnly, s.sitesPage)
	s.route("POST", "/admin/sites", adminOnly, s.createSite)
	s.route("GET", "/admin/sites/:code", adminOnly, s.siteEditPage)
	s.route("POST", "/admin/sites/:code", adminOnly, s.updateSite)
	s.route("GET", "/admin/users", adminOnly, s.usersPage)
	s.route("GET", "/admin/users/new", adminOnly, s.newUserPage)
	s.route("POST", "/admin/users", adminOnly, s.createUser)
	s.route("GET", "/admin/users/:id", adminOnly, s.userPage)
	s.route("POST", "/admin/users/:id/access", adminOnly, s.changeUserAccess)
	s.route("POST", "/admin/users/:id/password", adminOnly, s.resetUserPassword)
	s.route("POST", "/admin/users/:id/status", adminOnly, s.changeUserStatus)
	s.route("POST", "/admin/users/:id/tokens", adminOnly, s.createUserToken)
	s.route("POST", "/admin/users/:id/tokens/:token/revoke", adminOnly, s.revokeUserToken)

	// Audit trail.
	s.route("GET", "/audit", managers, s.auditPage)
	s.route("POST", "/audit/verify", managers, s.auditVerifyPage)
	s.route("GET", "/audit/export.csv", managers, s.auditExportCSV)

	// JSON API.
	s.route("GET", "/api/v1/me", signedIn, s.apiMe)
	s.route("GET", "/api/v1/sites", signedIn, s.apiSites)
	s.route("POST", "/api/v1/sites", adminOnly, s.apiCreateSite)
	s.route("GET", "/api/v1/users", adminOnly, s.apiUsers)
	s.route("POST", "/api/v1/users", adminOnly, s.apiCreateUser)
	s.route("PATCH", "/api/v1/users/:username", adminOnly, s.apiUpdateUser)
	s.route("GET", "/api/v1/audit", managers, s.apiAudit)
	s.route("GET", "/api/v1/audit/verify", managers, s.apiAuditVerify)
}
