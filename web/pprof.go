package web

import (
	"net/http/pprof"
	"strings"

	"github.com/labstack/echo/v4"
)

// pprofPrefix is where Go's profiler answers, for administrators only, so that a slow page
// can be profiled on the production server (go tool pprof with the session cookie or an
// administrator's token).
const pprofPrefix = "/admin/debug/pprof/"

// debugPprof serves net/http/pprof under pprofPrefix: the index, the named profiles
// (heap, goroutine, allocs, block, mutex, threadcreate), cmdline, profile (CPU, ?seconds=),
// symbol and trace.
func (s *Server) debugPprof(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, pprofPrefix)
	r := c.Request().Clone(c.Request().Context())
	r.URL.Path = "/debug/pprof/" + name // where pprof.Index reads the profile's name from
	w := c.Response()
	switch name {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
	return nil
}
