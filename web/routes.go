package web

import (
	"github.com/labstack/echo/v4"

	"biobank/internal/auth"
	"biobank/internal/sample"
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
	clinical    = access{roles: []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleNurse}}
	lab         = access{roles: []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleTechnician}}
	collectors  = access{roles: auth.Roles}
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
	s.route("GET", pprofPrefix+"*", adminOnly, s.debugPprof)
	s.route("GET", "/admin/sites", adminOnly, s.sitesPage)
	s.route("POST", "/admin/sites", adminOnly, s.createSite)
	s.route("GET", "/admin/sites/:code", adminOnly, s.siteEditPage)
	s.route("POST", "/admin/sites/:code", adminOnly, s.updateSite)
	s.route("GET", "/admin/labels", adminOnly, s.labelsAdminPage)
	s.route("POST", "/admin/labels/printers", adminOnly, s.createPrinterForm)
	s.route("POST", "/admin/labels/templates", adminOnly, s.createTemplateForm)
	s.route("GET", "/admin/users", adminOnly, s.usersPage)
	s.route("GET", "/admin/users/new", adminOnly, s.newUserPage)
	s.route("POST", "/admin/users", adminOnly, s.createUser)
	s.route("GET", "/admin/users/:id", adminOnly, s.userPage)
	s.route("POST", "/admin/users/:id/access", adminOnly, s.changeUserAccess)
	s.route("POST", "/admin/users/:id/password", adminOnly, s.resetUserPassword)
	s.route("POST", "/admin/users/:id/status", adminOnly, s.changeUserStatus)
	s.route("POST", "/admin/users/:id/tokens", adminOnly, s.createUserToken)
	s.route("POST", "/admin/users/:id/tokens/:token/revoke", adminOnly, s.revokeUserToken)

	// Studies (everyone reads the schedules; administrators set them up).
	s.route("GET", "/studies", signedIn, s.studiesPage)
	s.route("POST", "/studies", adminOnly, s.createStudy)
	s.route("GET", "/studies/:study", signedIn, s.studyPage)
	s.route("POST", "/studies/:study", adminOnly, s.updateStudy)
	s.route("POST", "/studies/:study/visits", adminOnly, s.addVisit)
	s.route("POST", "/studies/:study/consent-documents", adminOnly, s.addConsentDocument)
	s.route("POST", "/studies/:study/consent-documents/:version/retire", adminOnly, s.retireConsentDocument)

	// Participants, consent and visits (site-scoped in the services).
	s.route("GET", "/participants", signedIn, s.participantsPage)
	s.route("GET", "/participants/new", clinical, s.enrolPage)
	s.route("POST", "/participants", clinical, s.enrol)
	s.route("GET", "/participants/:pseudonym", signedIn, s.participantPage)
	s.route("POST", "/participants/:pseudonym/consents", clinical, s.recordConsent)
	s.route("POST", "/participants/:pseudonym/consents/:id/withdraw", clinical, s.withdrawConsent)
	s.route("POST", "/participants/:pseudonym/visits", clinical, s.openVisit)
	s.route("POST", "/participants/:pseudonym/enrolments", clinical, s.enrolExisting)

	// Samples.
	s.route("GET", "/participants/:pseudonym/visits/:study/:visit/collect", collectors, s.collectPage)
	s.route("POST", "/participants/:pseudonym/visits/:study/:visit/collect", collectors, s.collect)
	s.route("GET", "/samples", signedIn, s.samplesPage)
	s.route("GET", "/samples/receive", lab, s.receivePage)
	s.route("POST", "/samples/receive", lab, s.receiveScan)
	s.route("GET", "/samples/:code", signedIn, s.samplePage)
	s.route("GET", "/samples/:code/custody", signedIn, s.custodyPage)
	s.route("POST", "/samples/:code/undo-receive", lab, s.undoReceive)
	s.route("GET", "/samples/:code/processing", lab, s.processingPage)
	s.route("POST", "/samples/:code/processing", lab, s.recordProcessing)
	s.route("GET", "/samples/:code/aliquot", lab, s.aliquotPage)
	s.route("POST", "/samples/:code/aliquot", lab, s.aliquot)
	s.route("POST", "/samples/:code/end", lab, s.endSample)
	s.route("POST", "/samples/:code/hold", managers, s.holdSample)
	s.route("POST", "/samples/:code/decision", managers, s.decideSample)
	s.route("GET", "/consent-actions", managers, s.consentActionsPage)
	s.route("GET", "/import", managers, s.importSamplesPage)
	s.route("POST", "/import", managers, s.importSamplesForm)
	s.route("GET", "/import/jobs/:id", managers, s.importJobPage)
	s.route("POST", "/import/jobs/:id/cancel", managers, s.cancelImportForm)

	// Storage.
	s.route("GET", "/storage", signedIn, s.storagePage)
	s.route("POST", "/storage/freezers", managers, s.createFreezer)
	s.route("POST", "/storage/racks", managers, s.createRack)
	s.route("POST", "/storage/racks/move", managers, s.moveRack)
	s.route("POST", "/storage/boxes", managers, s.createBox)
	s.route("POST", "/storage/box-types", adminOnly, s.createBoxType)
	s.route("GET", "/storage/find", signedIn, s.findPage)
	s.route("GET", "/storage/checked-out", signedIn, s.checkedOutPage)
	s.route("GET", "/storage/import", lab, s.importPage)
	s.route("POST", "/storage/import", lab, s.importPreview)
	s.route("POST", "/storage/import/confirm", lab, s.importConfirm)
	s.route("GET", "/boxes/:barcode", signedIn, s.boxPage)
	s.route("GET", "/boxes/:barcode/grid", signedIn, s.boxGrid)
	s.route("POST", "/boxes/:barcode", lab, s.placeScan)
	s.route("POST", "/boxes/:barcode/move", managers, s.moveBox)
	s.route("POST", "/samples/:code/storage", lab, s.sampleStorageAction)

	// Shipments and partner instances.
	s.route("GET", "/shipments", lab, s.shipmentsPage)
	s.route("POST", "/shipments", lab, s.createShipmentForm)
	s.route("GET", "/shipments/import", lab, s.importManifestPage)
	s.route("POST", "/shipments/import", lab, s.importManifest)
	s.route("GET", "/shipments/:shipment", lab, s.shipmentPage)
	s.route("GET", "/shipments/:shipment/manifest", lab, s.apiManifest)
	s.route("POST", "/shipments/:shipment/items", lab, s.packScan)
	s.route("POST", "/shipments/:shipment/items/:sample/remove", lab, s.removeShipmentItem)
	s.route("POST", "/shipments/:shipment/dispatch", lab, s.dispatchShipment)
	s.route("POST", "/shipments/:shipment/cancel", lab, s.cancelShipment)
	s.route("POST", "/shipments/:shipment/receive", lab, s.receiveScanShipment)
	s.route("POST", "/shipments/:shipment/discrepancies/:sample/resolve", managers, s.resolveDiscrepancyForm)
	s.route("GET", "/shipments/:shipment/receipt", lab, s.apiReceiptReport)
	s.route("POST", "/shipments/:shipment/receipt", lab, s.applyReceiptReportForm)
	s.route("GET", "/admin/peers", adminOnly, s.peersPage)
	s.route("POST", "/admin/peers", adminOnly, s.registerPeerForm)

	// Labels and the audit trail.
	s.route("GET", "/labels/:file", signedIn, s.labelImage)
	s.route("GET", "/labels/print", signedIn, s.printPage)
	s.route("POST", "/labels/print", signedIn, s.print)
	s.route("GET", "/labels/verify", signedIn, s.verifyPage)
	s.route("POST", "/labels/verify", signedIn, s.verify)
	s.route("GET", "/audit", managers, s.auditPage)
	s.route("POST", "/audit/verify", managers, s.auditVerifyPage)
	s.route("GET", "/audit/export.csv", managers, s.auditExportCSV)

	// FHIR R4, read-only, with the API's tokens.
	s.route("GET", "/fhir/metadata", signedIn, s.fhirMetadata)
	s.route("GET", "/fhir/:type", signedIn, s.fhirSearch)
	s.route("GET", "/fhir/:type/:id", signedIn, s.fhirRead)

	// JSON API.
	s.route("GET", "/api/v1/me", signedIn, s.apiMe)
	s.route("GET", "/api/v1/sites", signedIn, s.apiSites)
	s.route("POST", "/api/v1/sites", adminOnly, s.apiCreateSite)
	s.route("GET", "/api/v1/users", adminOnly, s.apiUsers)
	s.route("POST", "/api/v1/users", adminOnly, s.apiCreateUser)
	s.route("PATCH", "/api/v1/users/:username", adminOnly, s.apiUpdateUser)
	s.route("GET", "/api/v1/studies", signedIn, s.apiStudies)
	s.route("POST", "/api/v1/studies", adminOnly, s.apiCreateStudy)
	s.route("GET", "/api/v1/studies/:study", signedIn, s.apiStudy)
	s.route("PATCH", "/api/v1/studies/:study", adminOnly, s.apiUpdateStudy)
	s.route("POST", "/api/v1/studies/:study/visits", adminOnly, s.apiAddVisit)
	s.route("POST", "/api/v1/studies/:study/consent-documents", adminOnly, s.apiAddConsentDocument)
	s.route("POST", "/api/v1/studies/:study/consent-documents/:version/retire", adminOnly, s.apiRetireConsentDocument)
	s.route("POST", "/api/v1/participants", clinical, s.apiEnrol)
	s.route("GET", "/api/v1/participants/:pseudonym", signedIn, s.apiParticipant)
	s.route("POST", "/api/v1/participants/:pseudonym/enrolments", clinical, s.apiEnrolExisting)
	s.route("POST", "/api/v1/participants/:pseudonym/consents", clinical, s.apiRecordConsent)
	s.route("POST", "/api/v1/participants/:pseudonym/consents/:id/withdraw", clinical, s.apiWithdrawConsent)
	s.route("POST", "/api/v1/participants/:pseudonym/visits", clinical, s.apiOpenVisit)
	s.route("GET", "/api/v1/consents", signedIn, s.apiConsents)
	s.route("GET", "/api/v1/samples", signedIn, s.apiSamples)
	s.route("POST", "/api/v1/samples", collectors, s.apiCollect)
	s.route("GET", "/api/v1/samples/:code", signedIn, s.apiSample)
	s.route("POST", "/api/v1/samples/:code/receive", lab, s.apiReceive)
	s.route("POST", "/api/v1/samples/:code/processing", lab, s.apiProcessing)
	s.route("POST", "/api/v1/samples/:code/aliquots", lab, s.apiAliquot)
	s.route("POST", "/api/v1/samples/:code/destroy", lab, s.apiEnd(sample.ActDestroy))
	s.route("POST", "/api/v1/samples/:code/consume", lab, s.apiEnd(sample.ActConsume))
	s.route("POST", "/api/v1/samples/:code/lost", lab, s.apiEnd(sample.ActLose))
	s.route("POST", "/api/v1/samples/:code/hold", managers, s.apiHold(true))
	s.route("POST", "/api/v1/samples/:code/release", managers, s.apiHold(false))
	s.route("POST", "/api/v1/samples/:code/decision", managers, s.apiDecide)
	s.route("GET", "/api/v1/samples/:code/custody", signedIn, s.apiCustody)
	s.route("GET", "/api/v1/freezers", signedIn, s.apiFreezers)
	s.route("POST", "/api/v1/freezers", managers, s.apiCreateFreezer)
	s.route("POST", "/api/v1/freezers/:freezer/racks", managers, s.apiCreateRack)
	s.route("POST", "/api/v1/racks/:rack/move", managers, s.apiMoveRack)
	s.route("POST", "/api/v1/boxes", managers, s.apiCreateBox)
	s.route("GET", "/api/v1/box-types", signedIn, s.apiBoxTypes)
	s.route("POST", "/api/v1/box-types", adminOnly, s.apiCreateBoxType)
	s.route("POST", "/api/v1/boxes/import", lab, s.apiRackImport)
	s.route("GET", "/api/v1/boxes/:barcode", signedIn, s.apiBox)
	s.route("PUT", "/api/v1/boxes/:barcode/positions/:position", lab, s.apiPlace)
	s.route("DELETE", "/api/v1/boxes/:barcode/positions/:position", lab, s.apiRemove)
	s.route("POST", "/api/v1/boxes/:barcode/next", lab, s.apiPlace)
	s.route("POST", "/api/v1/boxes/:barcode/move", managers, s.apiMoveBox)
	s.route("POST", "/api/v1/samples/:code/checkout", lab, s.apiCheckOut)
	s.route("POST", "/api/v1/samples/:code/checkin", lab, s.apiCheckIn)
	s.route("GET", "/api/v1/storage/free", signedIn, s.apiFreeSpace)
	s.route("GET", "/api/v1/storage/checked-out", signedIn, s.apiCheckedOut)
	s.route("GET", "/api/v1/storage/occupancy", signedIn, s.apiOccupancy)
	s.route("GET", "/api/v1/instance", signedIn, s.apiInstance)
	s.route("GET", "/api/v1/shipments/:shipment/manifest", lab, s.apiManifest)
	s.route("POST", "/api/v1/shipments", lab, s.apiCreateShipment)
	s.route("POST", "/api/v1/shipments/import", lab, s.apiImportShipment)
	s.route("GET", "/api/v1/peers", adminOnly, s.apiPeers)
	s.route("POST", "/api/v1/peers", adminOnly, s.apiRegisterPeer)
	s.route("GET", "/api/v1/shipments", lab, s.apiShipments)
	s.route("GET", "/api/v1/shipments/:shipment", lab, s.apiShipment)
	s.route("POST", "/api/v1/shipments/:shipment/items", lab, s.apiAddShipmentItem)
	s.route("DELETE", "/api/v1/shipments/:shipment/items/:sample", lab, s.apiRemoveShipmentItem)
	s.route("POST", "/api/v1/shipments/:shipment/dispatch", lab, s.apiDispatchShipment)
	s.route("POST", "/api/v1/shipments/:shipment/cancel", lab, s.apiCancelShipment)
	s.route("POST", "/api/v1/shipments/:shipment/receive", lab, s.apiReceiveShipment)
	s.route("POST", "/api/v1/shipments/:shipment/discrepancies/:sample/resolve", managers, s.apiResolveDiscrepancy)
	s.route("GET", "/api/v1/shipments/:shipment/receipt", lab, s.apiReceiptReport)
	s.route("POST", "/api/v1/shipments/:shipment/receipt", lab, s.apiApplyReceiptReport)
	s.route("GET", "/api/v1/export/fhir", managers, s.apiExportFHIR)
	s.route("POST", "/api/v1/import/samples", managers, s.apiImportSamples)
	s.route("GET", "/api/v1/import/jobs/:id", managers, s.apiImportJob)
	s.route("POST", "/api/v1/import/jobs/:id/cancel", managers, s.apiCancelImport)
	s.route("GET", "/api/v1/samples/export.csv", managers, s.apiSamplesExport)
	s.route("GET", "/api/v1/export/miabis.csv", managers, s.apiMIABISExport)
	s.route("GET", "/api/v1/printers", signedIn, s.apiPrinters)
	s.route("POST", "/api/v1/printers", adminOnly, s.apiCreatePrinter)
	s.route("GET", "/api/v1/label-templates", signedIn, s.apiTemplates)
	s.route("POST", "/api/v1/label-templates", adminOnly, s.apiCreateTemplate)
	s.route("POST", "/api/v1/print-jobs", collectors, s.apiPrint)
	s.route("GET", "/api/v1/print-jobs", signedIn, s.apiPrintJobs)
	s.route("POST", "/api/v1/labels/verify", signedIn, s.apiVerifyLabel)
	s.route("GET", "/api/v1/samples/:code/label.zpl", signedIn, s.apiSampleZPL)
	s.route("GET", "/api/v1/audit", managers, s.apiAudit)
	s.route("GET", "/api/v1/audit/verify", managers, s.apiAuditVerify)
	s.route("GET", "/api/v1/audit/export.csv", managers, s.auditExportCSV)
}
