package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"biobank/internal/auth"
	"biobank/internal/shipment"
	"biobank/web"
)

// who may call a route, as the matrix states it.
const (
	everyone = "public"    // no sign-in
	anyRole  = "signed in" // every role
)

// access is one row of the matrix: who may call the route, and whether it acts on one
// site's record (a participant, sample, box, freezer or rack), which a caller of another
// site may not reach (administrators work across sites).
type matrixRow struct {
	who    string // everyone, anyRole, or roles separated by spaces
	scoped bool
	// destinationOnly: only the staff of a shipment's destination may call it; the
	// matrix's shipment goes to a site none of its callers belongs to.
	destinationOnly bool
}

var (
	adminRow     = matrixRow{who: "admin"}
	managerRow   = matrixRow{who: "admin manager"}
	clinicalRow  = matrixRow{who: "admin manager nurse"}
	labRow       = matrixRow{who: "admin manager technician"}
	anyRoleRow   = matrixRow{who: anyRole}
	siteAny      = matrixRow{who: anyRole, scoped: true}
	siteClinical = matrixRow{who: "admin manager nurse", scoped: true}
	siteLab      = matrixRow{who: "admin manager technician", scoped: true}
	siteManager  = matrixRow{who: "admin manager", scoped: true}
)

// routeMatrix is who may call every route of the application. It is kept by hand on
// purpose, apart from the route table: TestRouteMatrix fails for a route the table has and
// the matrix does not (a new route must be given its access here), for a row without a
// route, and for any request whose outcome disagrees with its row.
var routeMatrix = map[string]matrixRow{
	"GET /healthz":                               {who: everyone},
	"GET /static/*":                              {who: everyone},
	"HEAD /static/*":                             {who: everyone},
	"GET /login":                                 {who: everyone},
	"POST /login":                                {who: everyone},
	"POST /logout":                               anyRoleRow,
	"GET /":                                      anyRoleRow,
	"GET /scan":                                  anyRoleRow,
	"GET /admin/debug/pprof/*":                   adminRow,
	"GET /admin/sites":                           adminRow,
	"POST /admin/sites":                          adminRow,
	"GET /admin/sites/:code":                     adminRow,
	"POST /admin/sites/:code":                    adminRow,
	"GET /admin/labels":                          adminRow,
	"POST /admin/labels/printers":                adminRow,
	"POST /admin/labels/templates":               adminRow,
	"GET /admin/users":                           adminRow,
	"GET /admin/users/new":                       adminRow,
	"POST /admin/users":                          adminRow,
	"GET /admin/users/:id":                       adminRow,
	"POST /admin/users/:id/access":               adminRow,
	"POST /admin/users/:id/password":             adminRow,
	"POST /admin/users/:id/status":               adminRow,
	"POST /admin/users/:id/tokens":               adminRow,
	"POST /admin/users/:id/tokens/:token/revoke": adminRow,
	"GET /studies":                               anyRoleRow,
	"POST /studies":                              adminRow,
	"GET /studies/:study":                        anyRoleRow,
	"POST /studies/:study":                       adminRow,
	"POST /studies/:study/visits":                adminRow,
	"POST /studies/:study/consent-documents":     adminRow,
	"POST /studies/:study/consent-documents/:version/retire": adminRow,
	"GET /participants":                                          anyRoleRow,
	"GET /participants/new":                                      clinicalRow,
	"POST /participants":                                         clinicalRow,
	"GET /participants/:pseudonym":                               siteAny,
	"POST /participants/:pseudonym/consents":                     siteClinical,
	"POST /participants/:pseudonym/consents/:id/withdraw":        siteClinical,
	"POST /participants/:pseudonym/visits":                       siteClinical,
	"POST /participants/:pseudonym/enrolments":                   siteClinical,
	"GET /participants/:pseudonym/visits/:study/:visit/collect":  {who: anyRole, scoped: true},
	"POST /participants/:pseudonym/visits/:study/:visit/collect": {who: anyRole, scoped: true},
	"GET /samples":                                            anyRoleRow,
	"GET /samples/receive":                                    labRow,
	"POST /samples/receive":                                   labRow,
	"GET /samples/:code":                                      siteAny,
	"GET /samples/:code/custody":                              siteAny,
	"POST /samples/:code/undo-receive":                        siteLab,
	"GET /samples/:code/processing":                           siteLab,
	"POST /samples/:code/processing":                          siteLab,
	"GET /samples/:code/aliquot":                              siteLab,
	"POST /samples/:code/aliquot":                             siteLab,
	"POST /samples/:code/end":                                 siteLab,
	"POST /samples/:code/hold":                                siteManager,
	"POST /samples/:code/decision":                            siteManager,
	"GET /import":                                             managerRow,
	"POST /import":                                            managerRow,
	"GET /import/jobs/:id":                                    managerRow,
	"POST /import/jobs/:id/cancel":                            managerRow,
	"GET /consent-actions":                                    managerRow,
	"GET /storage":                                            anyRoleRow,
	"POST /storage/freezers":                                  managerRow,
	"POST /storage/racks":                                     managerRow,
	"POST /storage/racks/move":                                managerRow,
	"POST /storage/boxes":                                     managerRow,
	"POST /storage/box-types":                                 adminRow,
	"GET /storage/find":                                       anyRoleRow,
	"GET /storage/checked-out":                                anyRoleRow,
	"GET /storage/import":                                     labRow,
	"POST /storage/import":                                    labRow,
	"POST /storage/import/confirm":                            labRow,
	"GET /boxes/:barcode":                                     siteAny,
	"GET /boxes/:barcode/grid":                                siteAny,
	"POST /boxes/:barcode":                                    siteLab,
	"POST /boxes/:barcode/move":                               siteManager,
	"POST /samples/:code/storage":                             siteLab,
	"GET /shipments":                                          labRow,
	"POST /shipments":                                         labRow,
	"GET /shipments/import":                                   labRow,
	"POST /shipments/import":                                  labRow,
	"GET /shipments/:shipment":                                siteLab,
	"GET /shipments/:shipment/manifest":                       siteLab,
	"POST /shipments/:shipment/items":                         siteLab,
	"POST /shipments/:shipment/items/:sample/remove":          siteLab,
	"POST /shipments/:shipment/dispatch":                      siteLab,
	"POST /shipments/:shipment/cancel":                        siteLab,
	"POST /shipments/:shipment/receive":                       {who: "admin manager technician", scoped: true, destinationOnly: true},
	"POST /shipments/:shipment/discrepancies/:sample/resolve": siteManager,
	"GET /shipments/:shipment/receipt":                        siteLab,
	"POST /shipments/:shipment/receipt":                       siteLab,
	"GET /admin/peers":                                        adminRow,
	"POST /admin/peers":                                       adminRow,
	"GET /labels/verify":                                      anyRoleRow,
	"POST /labels/verify":                                     anyRoleRow,
	"GET /labels/print":                                       anyRoleRow,
	"POST /labels/print":                                      anyRoleRow,
	"GET /labels/:file":                                       siteAny,
	"GET /audit":                                              managerRow,
	"POST /audit/verify":                                      managerRow,
	"GET /audit/export.csv":                                   managerRow,
	"GET /api/v1/export/fhir":                                 managerRow,
	"GET /api/v1/export/miabis.csv":                           managerRow,
	"GET /api/v1/samples/export.csv":                          managerRow,
	"POST /api/v1/import/samples":                             managerRow,
	"GET /api/v1/import/jobs/:id":                             managerRow,
	"POST /api/v1/import/jobs/:id/cancel":                     managerRow,
	"GET /fhir/metadata":                                      anyRoleRow,
	"GET /fhir/:type":                                         anyRoleRow,
	"GET /fhir/:type/:id":                                     siteAny,
	"GET /api/v1/me":                                          anyRoleRow,
	"GET /api/v1/sites":                                       anyRoleRow,
	"POST /api/v1/sites":                                      adminRow,
	"GET /api/v1/users":                                       adminRow,
	"POST /api/v1/users":                                      adminRow,
	"PATCH /api/v1/users/:username":                           adminRow,
	"GET /api/v1/studies":                                     anyRoleRow,
	"POST /api/v1/studies":                                    adminRow,
	"GET /api/v1/studies/:study":                              anyRoleRow,
	"PATCH /api/v1/studies/:study":                            adminRow,
	"POST /api/v1/studies/:study/visits":                      adminRow,
	"POST /api/v1/studies/:study/consent-documents":           adminRow,
	"POST /api/v1/studies/:study/consent-documents/:version/retire":  adminRow,
	"POST /api/v1/participants":                                      clinicalRow,
	"GET /api/v1/participants/:pseudonym":                            siteAny,
	"POST /api/v1/participants/:pseudonym/enrolments":                siteClinical,
	"POST /api/v1/participants/:pseudonym/consents":                  siteClinical,
	"POST /api/v1/participants/:pseudonym/consents/:id/withdraw":     siteClinical,
	"POST /api/v1/participants/:pseudonym/visits":                    siteClinical,
	"GET /api/v1/consents":                                           anyRoleRow,
	"GET /api/v1/samples":                                            anyRoleRow,
	"POST /api/v1/samples":                                           anyRoleRow,
	"GET /api/v1/samples/:code":                                      siteAny,
	"POST /api/v1/samples/:code/receive":                             siteLab,
	"POST /api/v1/samples/:code/processing":                          siteLab,
	"POST /api/v1/samples/:code/aliquots":                            siteLab,
	"POST /api/v1/samples/:code/destroy":                             siteLab,
	"POST /api/v1/samples/:code/consume":                             siteLab,
	"POST /api/v1/samples/:code/lost":                                siteLab,
	"POST /api/v1/samples/:code/hold":                                siteManager,
	"POST /api/v1/samples/:code/release":                             siteManager,
	"POST /api/v1/samples/:code/decision":                            siteManager,
	"GET /api/v1/samples/:code/custody":                              siteAny,
	"GET /api/v1/freezers":                                           anyRoleRow,
	"POST /api/v1/freezers":                                          managerRow,
	"POST /api/v1/freezers/:freezer/racks":                           siteManager,
	"POST /api/v1/racks/:rack/move":                                  siteManager,
	"POST /api/v1/boxes":                                             managerRow,
	"GET /api/v1/box-types":                                          anyRoleRow,
	"POST /api/v1/box-types":                                         adminRow,
	"POST /api/v1/boxes/import":                                      labRow,
	"GET /api/v1/boxes/:barcode":                                     siteAny,
	"PUT /api/v1/boxes/:barcode/positions/:position":                 siteLab,
	"DELETE /api/v1/boxes/:barcode/positions/:position":              siteLab,
	"POST /api/v1/boxes/:barcode/next":                               siteLab,
	"POST /api/v1/boxes/:barcode/move":                               siteManager,
	"POST /api/v1/samples/:code/checkout":                            siteLab,
	"POST /api/v1/samples/:code/checkin":                             siteLab,
	"GET /api/v1/storage/free":                                       anyRoleRow,
	"GET /api/v1/storage/checked-out":                                anyRoleRow,
	"GET /api/v1/storage/occupancy":                                  anyRoleRow,
	"GET /api/v1/instance":                                           anyRoleRow,
	"GET /api/v1/shipments/:shipment/manifest":                       siteLab,
	"POST /api/v1/shipments/import":                                  labRow,
	"GET /api/v1/peers":                                              adminRow,
	"POST /api/v1/peers":                                             adminRow,
	"POST /api/v1/shipments":                                         labRow,
	"GET /api/v1/shipments":                                          labRow,
	"GET /api/v1/shipments/:shipment":                                siteLab,
	"POST /api/v1/shipments/:shipment/items":                         siteLab,
	"DELETE /api/v1/shipments/:shipment/items/:sample":               siteLab,
	"POST /api/v1/shipments/:shipment/dispatch":                      siteLab,
	"POST /api/v1/shipments/:shipment/cancel":                        siteLab,
	"POST /api/v1/shipments/:shipment/receive":                       {who: "admin manager technician", scoped: true, destinationOnly: true},
	"POST /api/v1/shipments/:shipment/discrepancies/:sample/resolve": siteManager,
	"GET /api/v1/shipments/:shipment/receipt":                        siteLab,
	"POST /api/v1/shipments/:shipment/receipt":                       siteLab,
	"GET /api/v1/printers":                                           anyRoleRow,
	"POST /api/v1/printers":                                          adminRow,
	"GET /api/v1/label-templates":                                    anyRoleRow,
	"POST /api/v1/label-templates":                                   adminRow,
	"POST /api/v1/print-jobs":                                        anyRoleRow,
	"GET /api/v1/print-jobs":                                         anyRoleRow,
	"POST /api/v1/labels/verify":                                     anyRoleRow,
	"GET /api/v1/samples/:code/label.zpl":                            siteAny,
	"GET /api/v1/audit":                                              managerRow,
	"GET /api/v1/audit/verify":                                       managerRow,
	"GET /api/v1/audit/export.csv":                                   managerRow,
}

// seesEverySite: managers and administrators see and act on every site's records
// (auth.Actor.AllSites); nurses and technicians only on their own site's.
func seesEverySite(role auth.Role) bool {
	return role == auth.RoleManager || role == auth.RoleAdmin
}

func (r matrixRow) allows(role auth.Role) bool {
	return r.who == anyRole || r.who == everyone || strings.Contains(" "+r.who+" ", " "+string(role)+" ")
}

// TestRouteMatrix calls every route of the route table as every role of the record's own
// site, as every role of another site, and signed out, and checks the outcome against the
// matrix: signed out is sent to sign in (pages) or answered 401 (API); a role the row does
// not name gets 403; another site's caller of a site-scoped route gets 403 or 404; a
// refusal writes nothing; nobody gets a 5xx; a caller the row allows is not refused.
func TestRouteMatrix(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	staff := a.seedLab(t)
	a.mustUser(t, "manager-kiel", auth.RoleManager, "KIEL")

	// One record of every kind at LUX, for the routes' parameters.
	pseudonym, consentID := a.mustReadyParticipant(t, "nurse")
	code := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", code)
	freezer := a.mustFreezer(t, "manager", "Matrix −80", "-80")
	rack := a.mustRack(t, "manager", freezer, "R1")
	box := a.mustBox(t, "manager", "BOX-MATRIX", freezer, "R1", 9, 9)
	// A shipment from LUX to a third site, so that KIEL's staff are strangers to it.
	a.mustSite(t, "PAR")
	sh, err := a.srv.App().Shipments.Create(context.Background(), a.actorOf(t, "technician"), shipment.Input{Destination: "PAR", Condition: "ambient"})
	if err != nil {
		t.Fatal(err)
	}
	// An import job, for the import routes' parameter.
	job, err := a.srv.App().Import.Start(context.Background(), a.actorOf(t, "manager"), "matrix.csv", []byte(
		"pseudonym,study,visit,specimen_type,container,volume,unit,collected_at,tube_barcode\n"+pseudonym+",IBD,BASELINE,serum,SST,5,mL,2020-01-01 10:00,MATRIX-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.srv.App().Import.Wait(context.Background(), job.ID); err != nil {
		t.Fatal(err)
	}
	_, token, err := a.auth.CreateToken(context.Background(), auth.CommandLine, "nurse", "matrix")
	if err != nil {
		t.Fatal(err)
	}
	login := a.newClient(t).get(t, "/login")
	stylesheet, _ := login.Doc.Find(`link[rel="stylesheet"]`).Attr("href")

	concrete := func(route string) string {
		method, path, _ := strings.Cut(route, " ")
		if strings.HasPrefix(path, "/static/") {
			return stylesheet
		}
		if strings.HasSuffix(path, "/pprof/*") {
			return strings.TrimSuffix(path, "*") + "heap?debug=1"
		}
		id := strconv.FormatInt(consentID, 10)
		if strings.HasPrefix(path, "/admin/users/") {
			id = strconv.FormatInt(staff[auth.RoleNurse].ID, 10)
		}
		if strings.HasPrefix(path, "/fhir/") {
			id = code
		}
		if strings.Contains(path, "/import/jobs/") {
			id = strconv.FormatInt(job.ID, 10)
		}
		siteCode := code
		if strings.HasPrefix(path, "/admin/sites/") {
			siteCode = "LUX"
		}
		r := strings.NewReplacer(":pseudonym", pseudonym, ":code", siteCode, ":barcode", box.Barcode, ":position", "A1",
			":freezer", strconv.FormatInt(freezer.ID, 10), ":rack", strconv.FormatInt(rack.ID, 10), ":study", "IBD",
			":visit", "BASELINE", ":version", "1.0", ":file", code+".png", ":shipment", sh.Code, ":sample", code, ":id", id, ":token", strconv.FormatInt(token.ID, 10), ":username", "nurse", ":type", "Specimen")
		_ = method
		return r.Replace(path)
	}

	// The matrix and the route table hold the same routes.
	table := a.srv.RouteTable()
	sort.Strings(table)
	inTable := map[string]bool{}
	for _, rt := range table {
		rt = strings.Replace(rt, "/static/*", "/static/*", 1)
		inTable[rt] = true
		if _, ok := routeMatrix[rt]; !ok {
			t.Errorf("route %s is not in the route matrix: add who may call it to routeMatrix", rt)
		}
	}
	for rt := range routeMatrix {
		if !inTable[rt] {
			t.Errorf("the route matrix has %s, which the route table does not", rt)
		}
	}

	type caller struct {
		name    string
		role    auth.Role // "" signed out
		other   bool      // of another site than the records
		browser *client
		token   string
	}
	var callers []caller
	for _, role := range auth.Roles {
		callers = append(callers, caller{name: string(role), role: role, browser: a.signedIn(t, string(role)), token: a.usedToken(t, string(role))})
	}
	for _, role := range []auth.Role{auth.RoleNurse, auth.RoleTechnician, auth.RoleManager} {
		u := string(role) + "-kiel"
		callers = append(callers, caller{name: u, role: role, other: true, browser: a.signedIn(t, u), token: a.usedToken(t, u)})
	}
	callers = append(callers, caller{name: "signed out", browser: a.newClient(t)})

	for _, rt := range table {
		row := routeMatrix[rt]
		method, pattern, _ := strings.Cut(rt, " ")
		path := concrete(rt)
		api := strings.HasPrefix(pattern, "/api/") || strings.HasPrefix(pattern, "/fhir/")
		for _, c := range callers {
			before := a.state(t)
			var status int
			var location, body string
			switch {
			case api:
				var payload any
				if method != "GET" && method != "DELETE" {
					payload = "{}"
				}
				r := a.api(t, method, path, c.token, payload)
				status, body = r.Status, string(r.Body)
			case method == "GET" || method == "HEAD":
				req, _ := http.NewRequest(method, a.ts.URL+path, nil)
				p := c.browser.do(t, req)
				status, location, body = p.StatusCode, p.Header.Get("Location"), p.Body
			default:
				from := "/"
				if c.role == "" {
					from = "/login"
				}
				p := c.browser.submit(t, from, path, url.Values{})
				status, location, body = p.StatusCode, p.Header.Get("Location"), p.Body
			}
			what := rt + " as " + c.name
			if status >= 500 {
				t.Errorf("%s: status %d: %s", what, status, excerpt(body))
				continue
			}
			refused := false
			switch {
			case row.who == everyone:
				// Anyone may call it; what it answers (a refused sign-in is 401) is its own.
			case c.role == "":
				refused = true
				if api && status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", what, status)
				}
				if !api && !(status == http.StatusSeeOther || status == http.StatusFound) || !api && !strings.HasPrefix(location, "/login") {
					t.Errorf("%s: status %d to %q, want a redirect to sign in", what, status, location)
				}
			case row.destinationOnly:
				refused = true
				if status != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403 for everyone but the destination's staff", what, status)
				}
			case !row.allows(c.role):
				refused = true
				if status != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", what, status)
				}
			case row.scoped && c.other && !seesEverySite(c.role):
				refused = true
				if status != http.StatusForbidden && status != http.StatusNotFound {
					t.Errorf("%s: another site's record answered %d, want 403 or 404: %s", what, status, excerpt(body))
				}
			default:
				// Allowed: the route answers (with an empty body that is usually 400 or
				// 422; an earlier caller may have used the record up, so 404 too).
				if status == http.StatusUnauthorized || status == http.StatusForbidden {
					t.Errorf("%s: status %d, want the route to answer its caller: %s", what, status, excerpt(body))
				}
				if method == "GET" && c.role == auth.RoleAdmin && status != http.StatusOK {
					t.Errorf("%s: status %d, want 200 (are the route's parameters right?): %s", what, status, excerpt(body))
				}
			}
			if refused {
				a.assertUnchanged(t, before)
			}
			if rt == "POST /logout" && c.role != "" && !refused {
				c.browser.signIn(t, c.name, testPassword).wantRedirect(t, "/")
			}
		}
	}
}
