// Package bench measures the application at scale: it generates a realistic data set in a
// scratch database at database speed, serves the real HTTP server in-process on loopback,
// and measures what people wait for — each figure with its p50, p99 and throughput and its
// ratio to a raw indexed lookup over pgx measured in the same run.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"biobank/internal/app"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/web"
)

// Options are the bench's settings.
type Options struct {
	// ServerURL is a PostgreSQL server's maintenance database, where a scratch database is
	// made; DatabaseURL, when set, is used instead and must hold no data (unless Force).
	ServerURL, DatabaseURL string
	Samples, Events        int
	// Requests is how many requests each figure makes.
	Requests int
	Keep     bool
	Force    bool
	JSON     bool
}

// Figure is one measurement.
type Figure struct {
	Name       string  `json:"name"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	PerSecond  float64 `json:"per_second"`
	Unit       string  `json:"unit"`
	RatioToRaw float64 `json:"ratio_to_raw_p50"`
	Queries    int64   `json:"queries,omitempty"`
	PeakMB     float64 `json:"peak_mb,omitempty"`
}

// Report is a bench run.
type Report struct {
	Samples        int      `json:"samples"`
	Events         int      `json:"events"`
	GenerateSecs   float64  `json:"generate_seconds"`
	GeneratePerSec float64  `json:"generate_samples_per_second"`
	Figures        []Figure `json:"figures"`
}

// ErrNotEmpty refuses a database that holds data the bench did not create.
var ErrNotEmpty = errors.New("bench: the database holds data the bench did not create; give --force to use it anyway (it will be changed), or let the bench make a scratch database")

// Run runs the bench and writes its table (or JSON) to out.
func Run(ctx context.Context, o Options, out io.Writer) (Report, error) {
	dbURL := o.DatabaseURL
	if dbURL == "" {
		var drop func()
		var err error
		dbURL, drop, err = scratch(ctx, o.ServerURL, o.Keep, out)
		if err != nil {
			return Report{}, err
		}
		defer drop()
	}
	// Generation runs without the server's statement timeout (a COPY of a million rows
	// takes longer than one request may); the server and the figures use the limits.
	gen, err := db.Open(ctx, dbURL)
	if err != nil {
		return Report{}, err
	}
	defer gen.Close()
	var migrated, used bool
	if err := gen.Gorm.WithContext(ctx).Raw("SELECT to_regclass('public.sites') IS NOT NULL").Scan(&migrated).Error; err != nil {
		return Report{}, err
	}
	if migrated {
		if err := gen.Gorm.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM sites) OR EXISTS (SELECT 1 FROM users)").Scan(&used).Error; err != nil {
			return Report{}, err
		}
	}
	if used && !o.Force {
		return Report{}, ErrNotEmpty
	}
	if err := gen.Migrate(ctx); err != nil {
		return Report{}, err
	}
	start := time.Now()
	ds, err := generate(ctx, app.New(gen, app.Config{}), gen.Pool, o.Samples, o.Events)
	if err != nil {
		return Report{}, err
	}
	d, err := db.OpenWith(ctx, dbURL, db.DefaultLimits)
	if err != nil {
		return Report{}, err
	}
	defer d.Close()
	a := app.New(d, app.Config{})
	rep := Report{Samples: o.Samples, Events: o.Events, GenerateSecs: time.Since(start).Seconds()}
	rep.GeneratePerSec = float64(o.Samples) / rep.GenerateSecs

	counts := &queryCounts{last: map[string]int64{}}
	srv := web.New(web.Config{Queries: counts, BaseURL: "http://127.0.0.1"}, d)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	m := &measurer{base: base, n: max(o.Requests, 5), ds: ds, counts: counts}
	if err := m.signIn(ctx, a); err != nil {
		return rep, err
	}
	rep.Figures, err = m.all(ctx, a, d)
	if err != nil {
		return rep, err
	}
	raw := rep.Figures[0].P50ms
	for i := range rep.Figures {
		if raw > 0 && rep.Figures[i].P50ms > 0 {
			rep.Figures[i].RatioToRaw = rep.Figures[i].P50ms / raw
		}
	}
	if o.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return rep, enc.Encode(rep)
	}
	return rep, printTable(out, rep)
}

// scratch makes an empty database on the server and returns its URL and how to drop it.
func scratch(ctx context.Context, server string, keep bool, out io.Writer) (string, func(), error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("bench: connect to the server: %w", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "biobank_bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("bench: create the scratch database: %w", err)
	}
	u, err := url.Parse(server)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		defer conn.Close(context.Background())
		if keep {
			fmt.Fprintf(out, "kept the scratch database: %s\n", u.Redacted())
			return
		}
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// queryCounts keeps the queries of each route's last request.
type queryCounts struct {
	mu   sync.Mutex
	last map[string]int64
}

// Observe records a request's queries.
func (q *queryCounts) Observe(method, route string, _ int, n int64) {
	q.mu.Lock()
	q.last[method+" "+route] = n
	q.mu.Unlock()
}

func (q *queryCounts) of(route string) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last[route]
}

// measurer times requests against the in-process server.
type measurer struct {
	base         string
	n            int
	ds           dataSet
	token        string
	managerToken string
	browser      *http.Client
	counts       *queryCounts
}

var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn makes API tokens and a signed-in browser session. Reads run as the manager, who
// sees every site (the generated samples are spread over four).
func (m *measurer) signIn(ctx context.Context, a *app.App) error {
	var err error
	if m.token, _, err = a.Auth.CreateToken(ctx, auth.CommandLine, m.ds.manager, "bench reads"); err != nil {
		return err
	}
	if m.managerToken, _, err = a.Auth.CreateToken(ctx, auth.CommandLine, m.ds.manager, "bench"); err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	m.browser = &http.Client{Jar: jar, Timeout: 60 * time.Second}
	resp, err := m.browser.Get(m.base + "/login")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := csrfPattern.FindSubmatch(body)
	if tok == nil {
		return errors.New("bench: no sign-in form")
	}
	resp, err = m.browser.PostForm(m.base+"/login", url.Values{"_csrf": {string(tok[1])}, "username": {m.ds.manager}, "password": {benchPassword}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		return errors.New("bench: signing in failed")
	}
	return nil
}

// timeRequests runs n calls of do one after another and summarises their durations.
func timeRequests(name, unit string, n int, do func(i int) error) (Figure, error) {
	d := make([]time.Duration, 0, n)
	start := time.Now()
	for i := range n {
		t := time.Now()
		if err := do(i); err != nil {
			return Figure{}, fmt.Errorf("bench: %s: %w", name, err)
		}
		d = append(d, time.Since(t))
	}
	total := time.Since(start)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return Figure{Name: name, Unit: unit, P50ms: ms(d[len(d)/2]), P99ms: ms(d[min(len(d)-1, len(d)*99/100)]),
		PerSecond: float64(n) / total.Seconds()}, nil
}

// get fetches a page or API path and fails on anything but 200.
func (m *measurer) get(client *http.Client, path, token string) error {
	req, err := http.NewRequest("GET", m.base+path, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return nil
}

// all measures every figure; the first is the raw lookup the others are compared with.
func (m *measurer) all(ctx context.Context, a *app.App, d *db.DB) ([]Figure, error) {
	pick := func(i int) string { return m.ds.accessions[(i*7919)%len(m.ds.accessions)] }
	api := &http.Client{Timeout: 60 * time.Second}
	var figs []Figure
	add := func(f Figure, err error, route string) error {
		if err != nil {
			return err
		}
		if route != "" {
			f.Queries = m.counts.of(route)
		}
		figs = append(figs, f)
		return nil
	}
	steps := []func() error{
		func() error {
			f, err := timeRequests("raw pgx lookup (SELECT * … WHERE accession = $1)", "lookups/s", m.n*2, func(i int) error {
				rows, err := d.Pool.Query(ctx, "SELECT * FROM samples WHERE accession = $1", pick(i))
				if err != nil {
					return err
				}
				for rows.Next() {
				}
				rows.Close()
				return rows.Err()
			})
			return add(f, err, "")
		},
		func() error {
			f, err := timeRequests("API sample read", "reads/s", m.n, func(i int) error { return m.get(api, "/api/v1/samples/"+pick(i), m.token) })
			return add(f, err, "GET /api/v1/samples/:code")
		},
		func() error {
			f, err := timeRequests("sample page", "pages/s", m.n, func(i int) error { return m.get(m.browser, "/samples/"+pick(i), "") })
			return add(f, err, "GET /samples/:code")
		},
		func() error {
			f, err := timeRequests("scan → sample page", "scans/s", m.n, func(i int) error {
				return m.get(m.browser, "/scan?q="+m.ds.tubes[(i*7919)%len(m.ds.tubes)], "")
			})
			return add(f, err, "GET /samples/:code")
		},
		func() error {
			f, err := m.concurrent(api, pick)
			return add(f, err, "")
		},
		func() error {
			f, err := timeRequests("box grid page (9×9)", "pages/s", m.n, func(i int) error { return m.get(m.browser, "/boxes/"+m.ds.boxes[i%len(m.ds.boxes)], "") })
			return add(f, err, "GET /boxes/:barcode")
		},
		func() error {
			f, err := timeRequests("participant page", "pages/s", m.n, func(i int) error {
				return m.get(m.browser, "/participants/"+m.ds.people[(i*31)%len(m.ds.people)], "")
			})
			return add(f, err, "GET /participants/:pseudonym")
		},
	}
	for _, filter := range []string{"", "status=stored", "specimen_type=csf", "study=MS", "from=2024-06-01&to=2024-06-30", "hold=yes",
		"status=stored&specimen_type=plasma&study=IBD", "participant=" + m.ds.people[0]} {
		steps = append(steps, func() error {
			name := "samples list " + filter
			if filter == "" {
				name = "samples list, no filter"
			}
			f, err := timeRequests(name, "pages/s", m.n, func(int) error { return m.get(m.browser, "/samples?"+filter, "") })
			return add(f, err, "GET /samples")
		})
	}
	steps = append(steps,
		func() error {
			f, err := timeRequests("audit page, one actor", "pages/s", m.n, func(int) error {
				return m.get(&http.Client{Timeout: time.Minute}, "/api/v1/audit?actor=bench&limit=100", m.managerToken)
			})
			return add(f, err, "GET /api/v1/audit")
		},
		func() error {
			t := time.Now()
			res, err := audit.Verify(ctx, d.Pool)
			if err == nil && !res.OK {
				err = fmt.Errorf("the chain is broken at %d", res.FirstBad)
			}
			secs := time.Since(t).Seconds()
			return add(Figure{Name: "audit verify", Unit: "events/s", PerSecond: float64(res.Events) / secs, P50ms: secs * 1000, P99ms: secs * 1000}, err, "")
		},
		func() error {
			f, err := timeRequests("audit append, one event a transaction", "events/s", m.n, func(i int) error {
				return d.Tx(ctx, func(tx *db.Tx) error {
					e := auth.Actor{Username: "bench"}.Entry("bench.append", "sample", pick(i))
					e.After = benchEvent{N: i}
					tx.Record(e)
					return nil
				})
			})
			return add(f, err, "")
		},
		func() error {
			const batch = 10_000
			t := time.Now()
			err := d.Tx(ctx, func(tx *db.Tx) error {
				for i := range batch {
					e := auth.Actor{Username: "bench"}.Entry("bench.append", "sample", pick(i))
					e.After = benchEvent{N: i}
					tx.Record(e)
				}
				return nil
			})
			secs := time.Since(t).Seconds()
			return add(Figure{Name: "audit append, 10,000 events in one transaction", Unit: "events/s", PerSecond: batch / secs,
				P50ms: secs * 1000, P99ms: secs * 1000}, err, "")
		},
		func() error { return add(m.export(), nil, "") },
	)
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// concurrent measures API sample reads from 8 clients at once.
func (m *measurer) concurrent(api *http.Client, pick func(int) string) (Figure, error) {
	const clients = 8
	var done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range m.n {
				if err := m.get(api, "/api/v1/samples/"+pick(c*m.n+i), m.token); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return Figure{Name: "API sample reads, 8 clients", Unit: "reads/s", PerSecond: float64(done.Load()) / secs}, firstErr
}

// export measures the samples CSV export: rows a second and the server's peak heap.
func (m *measurer) export() Figure {
	// The figure is the heap the export adds: the generator's data is collected first.
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest("GET", m.base+"/api/v1/samples/export.csv", nil)
	req.Header.Set("Authorization", "Bearer "+m.managerToken)
	lines := 0
	if resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req); err == nil {
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			lines += strings.Count(string(buf[:n]), "\n")
			if err != nil {
				break
			}
		}
		resp.Body.Close()
	}
	close(stop)
	secs := time.Since(start).Seconds()
	return Figure{Name: "samples CSV export", Unit: "rows/s", PerSecond: float64(max(lines-1, 0)) / secs, P50ms: secs * 1000, P99ms: secs * 1000,
		PeakMB: float64(peak.Load()-min(peak.Load(), base.HeapInuse)) / (1 << 20)}
}

// printTable writes the report for people.
func printTable(out io.Writer, rep Report) error {
	fmt.Fprintf(out, "biobank bench: %d samples, %d audit events, generated in %.1f s (%.0f samples/s)\n\n",
		rep.Samples, rep.Events, rep.GenerateSecs, rep.GeneratePerSec)
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "figure\tp50 ms\tp99 ms\tthroughput\t\t× raw p50\tqueries\t")
	for _, f := range rep.Figures {
		extra := ""
		if f.PeakMB > 0 {
			extra = fmt.Sprintf(" (heap +%.0f MB at peak)", f.PeakMB)
		}
		q := ""
		if f.Queries > 0 {
			q = fmt.Sprint(f.Queries)
		}
		fmt.Fprintf(w, "%s\t%.2f\t%.2f\t%.0f\t%s%s\t%.1f\t%s\t\n", f.Name, f.P50ms, f.P99ms, f.PerSecond, f.Unit, extra, f.RatioToRaw, q)
	}
	return w.Flush()
}
