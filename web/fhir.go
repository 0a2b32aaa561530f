package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"biobank/internal/fhir"
)

// fhirJSON is FHIR's JSON media type.
const fhirJSON = "application/fhir+json; charset=utf-8"

// fhirBuilt is the CapabilityStatement's date: when this server version was built.
var fhirBuilt = time.Now().UTC().Format("2006-01-02")

// fhirError answers an error as an OperationOutcome (FHIR's error body).
func fhirError(c echo.Context, status int, body apiErrorBody) error {
	code := map[int]string{http.StatusBadRequest: "invalid", http.StatusUnauthorized: "login", http.StatusForbidden: "forbidden",
		http.StatusNotFound: "not-found", http.StatusMethodNotAllowed: "not-supported", http.StatusConflict: "conflict",
		http.StatusUnprocessableEntity: "invalid", http.StatusServiceUnavailable: "transient"}[status]
	if code == "" {
		code = "exception"
	}
	return fhirBlob(c, status, fhir.Outcome(code, body.Message))
}

func fhirBlob(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderContentType, fhirJSON)
	c.Response().WriteHeader(status)
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// fhirInvalid is a refused FHIR request: 400 with an OperationOutcome.
func fhirInvalid(c echo.Context, msg string) error {
	return fhirBlob(c, http.StatusBadRequest, fhir.Outcome("invalid", msg))
}

func (s *Server) fhirMetadata(c echo.Context) error {
	return fhirBlob(c, http.StatusOK, fhir.Capability(fhirBuilt))
}

// fhirRead reads one resource: Specimen/{accession} or Patient/{pseudonym}.
func (s *Server) fhirRead(c echo.Context) error {
	ctx, a, id := c.Request().Context(), actor(c), c.Param("id")
	if err := fhirParams(c, nil); err != nil {
		return err
	}
	switch c.Param("type") {
	case "Specimen":
		sp, err := s.app.FHIR.Specimen(ctx, a, id)
		if err != nil {
			return err
		}
		return fhirBlob(c, http.StatusOK, sp)
	case "Patient":
		p, err := s.app.FHIR.Patient(ctx, a, id)
		if err != nil {
			return err
		}
		return fhirBlob(c, http.StatusOK, p)
	}
	return fhirUnsupported(c, "read")
}

func fhirUnsupported(c echo.Context, what string) error {
	return fhirInvalid(c, "This server does not "+what+" "+c.Param("type")+" resources: it serves Specimen (read, search), Patient (read) and Condition (search); see /fhir/metadata.")
}

// fhirParams refuses any query parameter not in allowed (strict handling, as FHIR allows);
// _format=json is always accepted.
func fhirParams(c echo.Context, allowed []string) error {
	for name, vals := range c.QueryParams() {
		switch {
		case name == "_format" && len(vals) == 1 && (vals[0] == "json" || strings.Contains(vals[0], "fhir+json") || vals[0] == "application/json"):
		case contains(allowed, name):
		default:
			return &fhirRefusal{msg: "Unknown or unsupported search parameter " + strconv.Quote(name) + "; this server refuses those it does not know (handling=strict)."}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fhirRefusal is a bad FHIR request, answered 400 with an OperationOutcome.
type fhirRefusal struct{ msg string }

func (e *fhirRefusal) Error() string { return e.msg }

// fhirSearch searches a resource type: Specimen or Condition.
func (s *Server) fhirSearch(c echo.Context) error {
	switch c.Param("type") {
	case "Specimen":
		return s.fhirSearchSpecimens(c)
	case "Condition":
		if err := fhirParams(c, []string{"subject", "patient"}); err != nil {
			return err
		}
		subject := strings.TrimPrefix(c.QueryParam("subject")+c.QueryParam("patient"), "Patient/")
		if subject == "" {
			return fhirInvalid(c, "Search Conditions by subject=Patient/{pseudonym}.")
		}
		list, err := s.app.FHIR.Conditions(c.Request().Context(), actor(c), subject)
		if err != nil {
			return err
		}
		b := searchset(c, len(list), "")
		for _, cond := range list {
			b.Entry = append(b.Entry, fhir.BundleEntry{FullURL: s.fhirBase(c) + "/Condition/" + cond.ID, Resource: cond, Search: &fhir.BundleSearch{Mode: "match"}})
		}
		return fhirBlob(c, http.StatusOK, b)
	}
	return fhirUnsupported(c, "search")
}

func (s *Server) fhirSearchSpecimens(c echo.Context) error {
	if err := fhirParams(c, []string{"subject", "patient", "type", "_lastUpdated", "_count", "_cursor"}); err != nil {
		return err
	}
	var q fhir.SpecimenQuery
	if v := c.QueryParam("subject") + c.QueryParam("patient"); v != "" {
		q.Subject = strings.TrimPrefix(v, "Patient/")
	}
	if v := c.QueryParam("type"); v != "" {
		t, ok := fhir.SpecimenType(v)
		if !ok {
			return fhirInvalid(c, "Unknown specimen type "+strconv.Quote(v)+": give a SNOMED CT code, a BBMRI material type or the biobank's type.")
		}
		q.SpecimenType = t
	}
	for _, v := range c.QueryParams()["_lastUpdated"] {
		if len(v) < 3 {
			return fhirInvalid(c, "_lastUpdated is a prefix (gt, ge, lt, le) and a time, e.g. gt2026-11-01T00:00:00Z.")
		}
		prefix, raw := v[:2], v[2:]
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			if d, derr := time.Parse("2006-01-02", raw); derr == nil {
				t, err = d, nil
			}
		}
		if err != nil {
			return fhirInvalid(c, "_lastUpdated takes a date (2026-11-01) or an instant (2026-11-01T12:00:00Z) after its prefix.")
		}
		switch prefix {
		case "gt":
			q.UpdatedAfter = t
		case "ge":
			q.UpdatedFrom = t
		case "lt":
			q.UpdatedTo = t
		case "le":
			q.UpdatedTo = t.Add(time.Nanosecond)
		default:
			return fhirInvalid(c, "_lastUpdated takes the prefixes gt, ge, lt and le.")
		}
	}
	if v := c.QueryParam("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fhirInvalid(c, "_count is a number from 1 to 1000.")
		}
		q.Count = n
	}
	if v := c.QueryParam("_cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fhirInvalid(c, "_cursor is the keyset of the next link, as the previous page gave it.")
		}
		q.After = n
	}
	list, next, err := s.app.FHIR.SearchSpecimens(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	nextURL := ""
	if next > 0 {
		params := c.QueryParams()
		params.Set("_cursor", strconv.FormatInt(next, 10))
		nextURL = s.fhirBase(c) + "/Specimen?" + params.Encode()
	}
	b := searchset(c, -1, nextURL)
	for _, sp := range list {
		b.Entry = append(b.Entry, fhir.BundleEntry{FullURL: s.fhirBase(c) + "/Specimen/" + sp.ID, Resource: sp, Search: &fhir.BundleSearch{Mode: "match"}})
	}
	return fhirBlob(c, http.StatusOK, b)
}

// searchset is an empty searchset Bundle with its self link (and next, when given); total
// only when known without counting.
func searchset(c echo.Context, total int, next string) fhir.Bundle {
	b := fhir.Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: time.Now().UTC().Format(time.RFC3339),
		Link: []fhir.BundleLink{{Relation: "self", URL: fhirSelf(c)}}}
	if total >= 0 {
		b.Total = &total
	}
	if next != "" {
		b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: next})
	}
	return b
}

// fhirBase is the FHIR base URL as the client reached it.
func (s *Server) fhirBase(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + "/fhir"
}

func fhirSelf(c echo.Context) string {
	u := url.URL{Scheme: c.Scheme(), Host: c.Request().Host, Path: c.Request().URL.Path, RawQuery: c.Request().URL.RawQuery}
	return u.String()
}

// apiExportFHIR streams the bulk feed: NDJSON, one transaction Bundle per participant.
func (s *Server) apiExportFHIR(c echo.Context) error {
	var since time.Time
	if v := strings.TrimSpace(c.QueryParam("since")); v != "" {
		t, err := parseWhen("since", v, false)
		if err != nil {
			return err
		}
		since = t
	}
	if err := fhirParamsAPI(c, "study", "since"); err != nil {
		return err
	}
	w := &lazyWriter{c: c, contentType: "application/fhir+ndjson", filename: "biobank-fhir.ndjson"}
	err := s.app.FHIR.Export(c.Request().Context(), actor(c), strings.ToUpper(strings.TrimSpace(c.QueryParam("study"))), since, w)
	if err != nil && w.started {
		abortStream(c, "FHIR export", err) // a cut-off feed must not look complete
	}
	if err == nil && !w.started {
		_, err = w.Write(nil) // nothing changed since: an empty feed
	}
	return err
}

// fhirParamsAPI refuses query parameters an export does not take (a misspelt filter
// would otherwise export everything).
func fhirParamsAPI(c echo.Context, allowed ...string) error {
	for name := range c.QueryParams() {
		if !contains(allowed, name) {
			return &malformedError{Field: name, Message: "Unknown parameter " + strconv.Quote(name) + "; this export takes " + strings.Join(allowed, " and ") + "."}
		}
	}
	return nil
}

// lazyWriter starts a download (its content type, file name and status) with its first
// write, so that an error before any output still gets its own status and body.
type lazyWriter struct {
	c                     echo.Context
	contentType, filename string
	started               bool
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.c.Response().Header()
		h.Set(echo.HeaderContentType, w.contentType)
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.filename+`"`)
		h.Set(echo.HeaderCacheControl, "no-store")
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}

// Flush sends what was written so far.
func (w *lazyWriter) Flush() {
	if w.started {
		w.c.Response().Flush()
	}
}
