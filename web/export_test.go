package web

import (
	"github.com/labstack/echo/v4"

	"biobank/internal/app"
)

// RouteForTest registers h as a public route, for tests that need a handler the
// application does not have, such as one that fails with an internal error.
func (s *Server) RouteForTest(method, path string, h echo.HandlerFunc) {
	s.route(method, path, public, h)
}

// SafeNext exposes safeNext to the tests.
var SafeNext = safeNext

// RouteTable lists every registered route as "METHOD path", as the route table holds it.
func (s *Server) RouteTable() []string {
	out := make([]string, 0, len(s.access))
	for k := range s.access {
		out = append(out, k)
	}
	return out
}

// RoutePattern is the route (its path pattern) that serves method and path, or "".
func (s *Server) RoutePattern(method, path string) string {
	c := s.echo.NewContext(nil, nil)
	s.echo.Router().Find(method, path, c)
	return c.Path()
}

// FailExportPage makes the read of page n of every streamed export fail with err from
// now on (a database that goes away in the middle of a download).
func (s *Server) FailExportPage(n int, err error) {
	s.failExportPage = func(page int) error {
		if page == n {
			return err
		}
		return nil
	}
}

// App exposes the composition root to tests that set up records through the services.
func (s *Server) App() *app.App { return s.app }
