package web

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/templates"
)

// auditFilter reads the review filters from the query string. Dates may be YYYY-MM-DD
// (until is then inclusive: the whole day) or RFC 3339 times.
func auditFilter(c echo.Context) (audit.Filter, error) {
	var f audit.Filter
	if e := strings.TrimSpace(c.QueryParam("entity")); e != "" {
		if t, id, ok := strings.Cut(e, ":"); ok {
			f.EntityType, f.EntityID = t, id
		} else {
			f.EntityID = e
		}
	}
	f.Actor = strings.TrimSpace(c.QueryParam("actor"))
	f.Action = strings.TrimSpace(c.QueryParam("action"))
	f.Site = strings.ToUpper(strings.TrimSpace(c.QueryParam("site")))
	var err error
	if f.Since, err = parseWhen("since", c.QueryParam("since"), false); err != nil {
		return f, err
	}
	if f.Until, err = parseWhen("until", c.QueryParam("until"), true); err != nil {
		return f, err
	}
	if f.Cursor, err = cursorParam(c); err != nil {
		return f, err
	}
	if l := c.QueryParam("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit <= 0 || f.Limit > audit.MaxPageSize {
			return f, apperr.Invalid("limit", "The limit must be a number from 1 to 500.")
		}
	}
	return f, nil
}

func parseWhen(field, s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		if endOfDay {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.Invalid(field, "Give a date as YYYY-MM-DD or a time as RFC 3339 (2026-01-31T14:00:00Z).")
}

func (s *Server) auditPage(c echo.Context) error {
	return s.renderAudit(c, nil)
}

func (s *Server) renderAudit(c echo.Context, verify *audit.VerifyResult) error {
	form := formFrom(c, "entity", "actor", "action", "site", "since", "until")
	for k := range form.Values {
		form.Values[k] = c.QueryParam(k)
	}
	list := templates.AuditList{Filter: form, Verify: verify}
	ctx := c.Request().Context()
	actions, err := audit.Actions(ctx, s.db.Gorm)
	if err != nil {
		return err
	}
	for _, a := range actions {
		list.Actions = append(list.Actions, templates.Option{Value: a, Label: a})
	}
	sites, err := s.app.Auth.Sites(ctx)
	if err != nil {
		return err
	}
	for _, site := range sites {
		list.Sites = append(list.Sites, templates.Option{Value: site.Code, Label: site.Name + " (" + site.Code + ")"})
	}
	exportQuery := url.Values{}
	for k, v := range c.QueryParams() {
		if k != "cursor" {
			exportQuery[k] = v
		}
	}
	list.ExportCSV = "/audit/export.csv?" + exportQuery.Encode()
	status := http.StatusOK
	filter, err := auditFilter(c)
	if err != nil {
		if !formError(&list.Filter, err) {
			return err
		}
		status = http.StatusUnprocessableEntity
	} else {
		page, err := audit.List(c.Request().Context(), s.db.Gorm, filter)
		if err != nil {
			return err
		}
		list.Events = page.Events
		list.NextURL = nextPageURL(c, "/audit", page.NextCursor)
	}
	p := s.page(c, "Audit trail")
	p.Nav = "audit"
	return s.render(c, status, templates.AuditPage(p, list))
}

func (s *Server) auditVerifyPage(c echo.Context) error {
	res, err := audit.Verify(c.Request().Context(), s.db.Pool)
	if err != nil {
		return err
	}
	c.Request().URL.RawQuery = url.Values{}.Encode()
	return s.renderAudit(c, &res)
}

// auditExportCSV streams every event matching the filters as CSV, page by page, so an
// export of millions of events holds one page in memory at a time.
func (s *Server) auditExportCSV(c echo.Context) error {
	filter, err := auditFilter(c)
	if err != nil {
		return err
	}
	filter.Limit = audit.MaxPageSize
	// The first page is read before the first byte goes out, so a refused filter or an
	// unreachable database is an ordinary error response, not an empty file.
	page, err := s.auditExportPage(c, filter, 1)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="audit-trail.csv"`)
	w.Header().Set(echo.HeaderCacheControl, "no-store")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "at", "actor", "site", "action", "entity_type", "entity_id", "reason", "before", "after", "prev_hash", "hash"})
	for n := 2; ; n++ {
		for _, e := range page.Events {
			_ = cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339Nano), e.Actor, e.Site, e.Action,
				e.EntityType, e.EntityID, e.Reason, string(e.Before), string(e.After), e.PrevHash, e.Hash})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			abortStream(c, "audit export", err)
		}
		if page.NextCursor == 0 {
			return nil
		}
		filter.Cursor = page.NextCursor
		if page, err = s.auditExportPage(c, filter, n); err != nil {
			abortStream(c, "audit export", err)
		}
	}
}

// auditExportPage reads one page of an export within the request timeout.
func (s *Server) auditExportPage(c echo.Context, filter audit.Filter, n int) (audit.Page, error) {
	if s.failExportPage != nil {
		if err := s.failExportPage(n); err != nil {
			return audit.Page{}, err
		}
	}
	ctx, cancel := s.pageContext(c)
	defer cancel()
	return audit.List(ctx, s.db.Gorm, filter)
}

// abortStream ends a streamed response that failed after its status was sent: it logs the
// error and aborts the connection, so the client sees a broken transfer rather than a
// shorter file that looks complete.
func abortStream(c echo.Context, what string, err error) {
	slog.Error(what+" failed after the response began; connection aborted", "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err)
	panic(http.ErrAbortHandler)
}

// nextPageURL is the link to the next page of a keyset-paginated list: the same query with
// the cursor moved on, or empty on the last page.
func nextPageURL(c echo.Context, path string, next int64) string {
	if next <= 0 {
		return ""
	}
	q := url.Values{} // a copy: echo's QueryParams is the request's own map
	for k, v := range c.QueryParams() {
		q[k] = v
	}
	q.Set("cursor", strconv.FormatInt(next, 10))
	return path + "?" + q.Encode()
}

// cursorParam reads a keyset list's cursor: empty for the first page, else the
// next_cursor of the page before; anything else is refused, never read as the first page.
func cursorParam(c echo.Context) (int64, error) {
	v := c.QueryParam("cursor")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Invalid("cursor", "The cursor must be the next_cursor of a previous page.")
	}
	return n, nil
}
