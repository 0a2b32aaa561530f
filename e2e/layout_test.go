package e2e

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"biobank/internal/db/dbtest"
	"biobank/internal/seed"
)

// layoutWidths are the screens the application is laid out for: a bench tablet in
// landscape and a desk monitor.
var layoutWidths = []int64{1024, 1400}

// layoutProblems is run on a loaded page: what does not fit at the current width. A page
// that scrolls sideways names the elements that stick out; a header whose parts are not
// on one line says so; a card whose content is wider than the card names it.
const layoutProblems = `(() => {
  const out = [];
  const describe = e => e.tagName.toLowerCase() + (e.dataset.testid ? '[data-testid=' + e.dataset.testid + ']' : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const de = document.documentElement;
  if (de.scrollWidth > de.clientWidth + 1) {
    const wide = [...document.querySelectorAll('main *, header *')]
      .filter(e => e.getBoundingClientRect().right > de.clientWidth + 1)
      .slice(-3).map(describe);
    out.push('the page scrolls sideways (' + de.scrollWidth + 'px wide in ' + de.clientWidth + 'px): ' + wide.join(', '));
  }
  for (const row of document.querySelectorAll('header .topbar-row, header .nav')) {
    const mids = [...row.children].filter(c => c.offsetParent !== null)
      .map(c => { const r = c.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
    if (mids.length && Math.max(...mids) - Math.min(...mids) > 4) {
      out.push('a row of the header wraps (' + describe(row) + ', ' + Math.round(row.getBoundingClientRect().height) + 'px high)');
    }
  }
  for (const c of document.querySelectorAll('.card, form, fieldset, table')) {
    if (c.offsetParent === null) continue;
    const box = c.getBoundingClientRect();
    const over = [...c.querySelectorAll('*')].filter(e => {
      if (e.offsetParent === null) return false;
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.right > box.right + 1;
    });
    if (over.length) out.push(describe(c) + ' is narrower than its content: ' + over.slice(0, 3).map(describe).join(', '));
  }
  return out;
})()`

// TestLayout_FitsBenchTabletAndMonitor signs in as every demo role of the Luxembourg site,
// walks the pages that role can reach from its menu and lists (a few of each kind), and
// checks each at 1024 px and 1400 px wide: nothing scrolls sideways, the header stays on
// one line, nothing sticks out of its card, form or table.
func TestLayout_FitsBenchTabletAndMonitor(t *testing.T) {
	a := &app{DBURL: dbtest.NewURL(t), log: &syncBuffer{}}
	a.cli(t, "", "seed", "--demo", "--participants", "2")
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = a.serve(t, nil); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("e2e: biobank serve did not start: %v\n%s", err, a.log.String())
	}

	// A page's kind: its path with every segment holding a digit made generic.
	generic := regexp.MustCompile(`/[^/?]*[0-9][^/?]*`)
	for _, login := range []string{"admin", "manager", "tech.lux", "nurse.lux"} {
		t.Run(login, func(t *testing.T) {
			ctx := newBrowser(t)
			signIn(t, ctx, a.URL, login, seed.DemoPassword)
			seen := map[string]bool{}
			kinds := map[string]int{}
			queue := []string{"/"}
			var problems []string
			for len(queue) > 0 && len(seen) < 60 {
				path := queue[0]
				queue = queue[1:]
				kind := generic.ReplaceAllString(strings.SplitN(path, "?", 2)[0], "/…")
				if seen[path] || kinds[kind] >= 2 {
					continue
				}
				seen[path] = true
				kinds[kind]++
				visit(t, ctx, a.URL+path)
				for _, w := range layoutWidths {
					do(t, ctx, fmt.Sprintf("resize to %dpx", w), chromedp.EmulateViewport(w, 900))
					found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutProblems))
					if err != nil {
						t.Fatalf("measure %s at %dpx: %v", path, w, err)
					}
					for _, f := range found {
						problems = append(problems, fmt.Sprintf("%s at %dpx: %s", path, w, f))
					}
				}
				links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
					`[...document.querySelectorAll('a[href^="/"]')].map(a => a.getAttribute('href'))`))
				if err != nil {
					t.Fatalf("links of %s: %v", path, err)
				}
				for _, l := range links {
					// Pages only: not files (exports, label images, sheets and ZPL batches,
					// manifests and custody exports in a format).
					if u, err := url.Parse(l); err == nil && !strings.HasPrefix(u.Path, "/static/") &&
						filepath.Ext(u.Path) == "" && u.Query().Get("cursor") == "" && u.Query().Get("format") == "" {
						queue = append(queue, l)
					}
				}
			}
			sort.Strings(problems)
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}
