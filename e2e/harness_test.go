// Package e2e holds the browser tests: each starts the real biobank binary on a free port
// with a fresh PostgreSQL database, drives Debian's Chromium with chromedp, and asserts what
// a person sees (wtf's cmd/wtfd chromedp tests).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"biobank/internal/db/dbtest"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// testTimeout bounds one journey, browser actions included.
const testTimeout = 60 * time.Second

// Accounts every app starts with, all at site LUX.
const (
	siteCode      = "LUX"
	adminUser     = "admin"
	adminPassword = "admin-pass-1234"
	nurseUser     = "nora"
	nursePassword = "nurse-pass-1234"
)

// A technician the sample journeys add with the CLI (startApp does not), also at LUX.
const (
	technicianUser     = "tess"
	technicianPassword = "tech-pass-1234"
)

// binary is the biobank binary built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "biobank-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "biobank")
	build := exec.Command("go", "build", "-o", binary, "./cmd/biobank")
	build.Dir = dbtest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/biobank: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// app is one running biobank server with its own database.
type app struct {
	URL   string // http://127.0.0.1:port, no trailing slash
	DBURL string
	log   *syncBuffer
	// proc is the running server and exited its exit; killed marks a server the test
	// killed on purpose (kill9), whose cleanup has nothing left to stop.
	proc   *os.Process
	exited chan error
	killed map[*os.Process]bool
}

// kill9 kills the server as a power cut would (SIGKILL): no shutdown, no cleanup.
func (a *app) kill9(t *testing.T) {
	t.Helper()
	if err := a.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	if a.killed == nil {
		a.killed = map[*os.Process]bool{}
	}
	a.killed[a.proc] = true
}

// syncBuffer collects a process's output; the process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startApp creates a fresh database, site LUX with an admin and a nurse (through the
// binary's own CLI), and serves the application on a free loopback port until the test
// ends. env adds configuration such as BIOBANK_SESSION_IDLE_TIMEOUT=2s.
func startApp(t *testing.T, env ...string) *app {
	t.Helper()
	a := &app{DBURL: dbtest.NewURL(t), log: &syncBuffer{}}
	a.cli(t, "", "site", "create", "--code", siteCode, "--name", "Luxembourg Biobank", "--country", "LU")
	a.createUser(t, adminUser, "admin", siteCode, adminPassword)
	a.createUser(t, nurseUser, "nurse", siteCode, nursePassword)

	// The free port is found by listening and closing, so another process can take it
	// before the server does; try again with a new port then.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = a.serve(t, env); lastErr == nil {
			return a
		}
	}
	t.Fatalf("e2e: biobank serve did not start: %v\n--- server output ---\n%s", lastErr, a.log.String())
	return nil
}

// createUser adds an account with the CLI, giving the password on standard input.
func (a *app) createUser(t *testing.T, username, role, site, password string) {
	t.Helper()
	a.cli(t, password+"\n", "user", "create", "--username", username, "--role", role, "--site", site, "--password-stdin")
}

// cli runs one biobank subcommand against the app's database and fails the test when it
// does not succeed. It returns what the command wrote on standard output.
func (a *app) cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = a.env(nil)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("e2e: biobank %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// apiToken creates an API token acting as username with the CLI and returns it.
func (a *app) apiToken(t *testing.T, username string) string {
	t.Helper()
	token := strings.TrimSpace(a.cli(t, "", "token", "create", "--username", username, "--name", "e2e set-up"))
	if token == "" || strings.ContainsAny(token, " \n") {
		t.Fatalf("e2e: token create for %s printed %q, want one token", username, token)
	}
	return token
}

// api sends one JSON API request with the bearer token and returns the status and body.
// body is marshalled to JSON unless it is nil.
func (a *app) api(t *testing.T, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("e2e: encode the body of %s %s: %v", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.URL+path, r)
	if err != nil {
		t.Fatalf("e2e: %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("e2e: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("e2e: read the reply to %s %s: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// apiWant sends a JSON API request and fails the test unless it answers with status
// want; it decodes the reply into into unless that is nil.
func (a *app) apiWant(t *testing.T, token, method, path string, body any, want int, into any) {
	t.Helper()
	status, out := a.api(t, token, method, path, body)
	if status != want {
		t.Fatalf("e2e: %s %s: status %d, want %d\n%s", method, path, status, want, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			t.Fatalf("e2e: decode the reply to %s %s: %v\n%s", method, path, err, out)
		}
	}
}

// createStudy sets up a study through the JSON API as an administrator (token): the
// study, then each visit with its specimen requirements. The shapes are those of
// study.Input and study.VisitInput.
func (a *app) createStudy(t *testing.T, token, code, name string, visits ...map[string]any) {
	t.Helper()
	a.apiWant(t, token, "POST", "/api/v1/studies", map[string]any{"code": code, "name": name}, http.StatusCreated, nil)
	for _, v := range visits {
		a.apiWant(t, token, "POST", "/api/v1/studies/"+code+"/visits", v, http.StatusCreated, nil)
	}
}

// addConsentDocument adds a consent version offering tiers to a study through the JSON API.
func (a *app) addConsentDocument(t *testing.T, token, studyCode, version string, tiers ...string) {
	t.Helper()
	a.apiWant(t, token, "POST", "/api/v1/studies/"+studyCode+"/consent-documents",
		map[string]any{"version": version, "tiers": tiers}, http.StatusCreated, nil)
}

// bloodBaseline is a baseline visit as the JSON API takes it (study.VisitInput): EDTA
// whole blood, 9 mL in PED, to be split into 6 plasma aliquots of 0.5 mL, and serum,
// 7.5 mL in SST.
var bloodBaseline = map[string]any{
	"code": "BASELINE", "name": "Baseline", "day_offset": 0, "window_before": 0, "window_after": 14,
	"requirements": []map[string]any{
		{"specimen_type": "whole_blood", "container": "PED", "volume": 9, "unit": "mL",
			"aliquots": 6, "aliquot_volume": 0.5, "aliquot_type": "plasma", "storage_temperature": "-80"},
		{"specimen_type": "serum", "container": "SST", "volume": 7.5, "unit": "mL", "storage_temperature": "-80"},
	},
}

// openedVisit is what setUpOpenedVisit made: the study's code, a participant ready for
// tubes to be registered, and the tokens that did it.
type openedVisit struct {
	Study      string
	Pseudonym  string
	AdminToken string
	NurseToken string
}

// setUpOpenedVisit prepares, through the JSON API, everything a nurse needs before she
// registers tubes: as the admin, study CRC with the bloodBaseline visit and consent
// version 1.0; as the nurse, a participant enrolled in CRC, a consent to version 1.0
// signed today that grants storage, and the baseline visit opened today.
func (a *app) setUpOpenedVisit(t *testing.T) openedVisit {
	t.Helper()
	v := openedVisit{Study: "CRC", AdminToken: a.apiToken(t, adminUser), NurseToken: a.apiToken(t, nurseUser)}
	a.createStudy(t, v.AdminToken, v.Study, "Colorectal cancer cohort", bloodBaseline)
	a.addConsentDocument(t, v.AdminToken, v.Study, "1.0", "storage", "genetic", "sharing", "recontact")
	var enrolled struct {
		Pseudonym string `json:"pseudonym"`
	}
	a.apiWant(t, v.NurseToken, "POST", "/api/v1/participants", map[string]any{"study": v.Study}, http.StatusCreated, &enrolled)
	if enrolled.Pseudonym == "" {
		t.Fatalf("e2e: enrolling in %s gave no pseudonym", v.Study)
	}
	v.Pseudonym = enrolled.Pseudonym
	today := time.Now().UTC().Format("2006-01-02")
	a.apiWant(t, v.NurseToken, "POST", "/api/v1/participants/"+v.Pseudonym+"/consents",
		map[string]any{"study": v.Study, "version": "1.0", "signed_on": today, "tiers": []string{"storage", "sharing"}},
		http.StatusCreated, nil)
	a.apiWant(t, v.NurseToken, "POST", "/api/v1/participants/"+v.Pseudonym+"/visits",
		map[string]any{"study": v.Study, "visit": "BASELINE", "date": today}, http.StatusCreated, nil)
	return v
}

// env is the process environment for the binary: this one's, without any biobank
// configuration a developer may have exported, plus the app's database and extra.
func (a *app) env(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BIOBANK_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "DATABASE_URL="+a.DBURL, "BIOBANK_KEY_FILE="+filepath.Join(filepath.Dir(binary), "instance.key"))
	return append(env, extra...)
}

// serve starts `biobank serve` on a free port and waits for /healthz to answer 200. The
// server gets SIGTERM when the test ends, and its output is logged when the test failed.
func (a *app) serve(t *testing.T, extra []string) error {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.log, "--- biobank serve --addr %s\n", addr)
	cmd := exec.Command(binary, "serve", "--addr", addr)
	cmd.Env = a.env(extra)
	cmd.Stdout, cmd.Stderr = a.log, a.log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	base := "http://" + addr
	if err := waitHealthy(base, exited, 30*time.Second); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	a.URL, a.proc, a.exited = base, cmd.Process, exited
	t.Cleanup(func() {
		if a.killed[cmd.Process] {
			if t.Failed() {
				t.Logf("--- server output ---\n%s", a.log.String())
			}
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("e2e: biobank serve did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("e2e: biobank serve still running 15s after SIGTERM; killed")
		}
		if t.Failed() {
			t.Logf("--- server output ---\n%s", a.log.String())
		}
	})
	return nil
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHealthy polls base/healthz until it answers 200, the process exits, or the time is up.
func waitHealthy(base string, exited <-chan error, within time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("biobank serve exited before it was healthy: %v", err)
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("GET %s/healthz not 200 within %s", base, within)
}

// newBrowser starts a headless Chromium with a fresh profile and returns a tab context
// that ends after testTimeout. The browser is closed when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("e2e: the browser tests need Chromium at %s (%v): install Debian's chromium package "+
			"(apt-get install chromium), as .ci/run does", chromiumPath, err)
	}
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		if t.Failed() && out.String() != "" {
			t.Logf("--- chromium output ---\n%s", out.String())
		}
	})
	// The first run starts the browser and binds it to browserCtx, which has no deadline;
	// the journey's deadline goes on a context derived from it.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("e2e: start chromium: %v\n%s", err, out.String())
	}
	ctx, cancel := context.WithTimeout(browserCtx, testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newIncognito opens a tab in a new browser context of the same browser: its own cookies,
// as if another person sat at another PC.
func newIncognito(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("e2e: open a new browser context: %v", err)
	}
	return ctx
}

// testID is the CSS selector of the element with that data-testid.
func testID(id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id))
}

// do runs browser steps and fails the test on the first error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v%s", what, err, pageState(ctx))
	}
}

// visit opens url and waits for it to load.
func visit(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, "open "+url, chromedp.Navigate(url))
}

// visitStatus opens url and returns the HTTP status of the page it shows.
func visitStatus(t *testing.T, ctx context.Context, url string) int64 {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v%s", url, err, pageState(ctx))
	}
	return resp.Status
}

// submit runs the steps (typically a click on a submit button) and waits for the page
// they load, following redirects; it returns the final document's HTTP status.
func submit(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("%s: %v%s", what, err, pageState(ctx))
	}
	return resp.Status
}

// fillSignIn fills the sign-in form on the current page and submits it, returning the
// HTTP status of the page that comes back.
func fillSignIn(t *testing.T, ctx context.Context, username, password string) int64 {
	t.Helper()
	return submit(t, ctx, "sign in as "+username,
		chromedp.WaitVisible(testID("signin-form")),
		clearInput("f-username"),
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		clearInput("f-password"),
		chromedp.SendKeys(chromedp.ID("f-password"), password),
		chromedp.Click(testID("signin-submit")),
	)
}

// clearInput empties the input with that id. (chromedp.SetValue cannot: cdproto's
// CallArgument drops an empty string value under json v2's omitempty, so the page gets
// undefined and SetValue reports "could not set value".)
func clearInput(id string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(id)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%s).value = ""`, q))
}

// signIn opens the sign-in page of base and signs in; it fails the test unless the browser
// ends up on the home page.
func signIn(t *testing.T, ctx context.Context, base, username, password string) {
	t.Helper()
	visit(t, ctx, base+"/login")
	if status := fillSignIn(t, ctx, username, password); status != http.StatusOK {
		t.Fatalf("sign in as %s: status %d%s", username, status, pageState(ctx))
	}
	if got := location(t, ctx); got != base+"/" {
		t.Fatalf("after signing in as %s the browser is at %s, want %s/%s", username, got, base, pageState(ctx))
	}
}

// location is the URL of the current page.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read location: %v", err)
	}
	return u
}

// text is the visible text of the element with that data-testid, waiting for it to appear.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(testID(id), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("text of [data-testid=%q]: %v%s", id, err, pageState(ctx))
	}
	return strings.TrimSpace(s)
}

// value is the current value of the input with that id.
func value(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("value of #%s: %v%s", id, err, pageState(ctx))
	}
	return s
}

// exists reports whether the page has an element matching the CSS selector, without
// waiting: the page has loaded when this is asked.
func exists(t *testing.T, ctx context.Context, css string) bool {
	t.Helper()
	sel, _ := json.Marshal(css)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%s) !== null", sel)))
	if err != nil {
		t.Fatalf("look for %s: %v", css, err)
	}
	return ok
}

// activeID is the id of the element that has the keyboard focus.
func activeID(t *testing.T, ctx context.Context) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	return id
}

// pageState describes where the browser is, for failure messages.
func pageState(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u, _ := chromedp.Run(c, chromedp.Location())
	body, _ := chromedp.Run(c, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 1500 {
		body = body[:1500] + "…"
	}
	return fmt.Sprintf("\n--- page %s ---\n%s", u, body)
}

// acceptDialogs clicks OK on every JavaScript dialog (a data-confirm question, an alert)
// the tab opens from now on, as the person at the screen would. The function it returns
// lists the dialogs' messages so far.
func acceptDialogs(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var messages []string
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, ev.Message)
			mu.Unlock()
			// The dialog blocks the action that opened it, which is waiting on another
			// goroutine; answer it from here.
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), messages...)
	}
}

// storageBox is what createBox made: the box's barcode and where it is, as the pages name
// them.
type storageBox struct {
	Barcode string
	Freezer string
	Rack    string
}

// createBox sets up storage through the JSON API as a manager or administrator (token): a
// −80 °C freezer, a rack in it, and a rows × cols box with barcode in that rack.
func (a *app) createBox(t *testing.T, token, barcode string, rows, cols int) storageBox {
	t.Helper()
	b := storageBox{Barcode: barcode, Freezer: "Freezer 3 (-80)", Rack: "Rack 2"}
	var freezer struct {
		ID int64 `json:"id"`
	}
	a.apiWant(t, token, "POST", "/api/v1/freezers",
		map[string]any{"name": b.Freezer, "type": "-80", "temperature": -80}, http.StatusCreated, &freezer)
	if freezer.ID == 0 {
		t.Fatalf("e2e: creating freezer %q gave no id", b.Freezer)
	}
	id := fmt.Sprint(freezer.ID)
	a.apiWant(t, token, "POST", "/api/v1/freezers/"+id+"/racks", map[string]any{"name": b.Rack}, http.StatusCreated, nil)
	var box struct {
		Free int `json:"free"`
	}
	a.apiWant(t, token, "POST", "/api/v1/boxes",
		map[string]any{"barcode": barcode, "freezer": id, "rack": b.Rack, "rows": rows, "cols": cols}, http.StatusCreated, &box)
	if box.Free != rows*cols {
		t.Fatalf("e2e: the new box %s has %d free positions, want %d", barcode, box.Free, rows*cols)
	}
	return b
}

// receivedAliquots registers an EDTA blood tube of the opened baseline visit (as the
// nurse), receives it and splits it into n plasma aliquots of 0.5 mL (as techToken, a
// technician's token), all through the JSON API. It returns the aliquots' accession IDs
// in order; they are received, ready to be stored.
func (a *app) receivedAliquots(t *testing.T, v openedVisit, techToken string, n int) []string {
	t.Helper()
	blood := collectTubes(t, a, v, time.Now().UTC().Add(-2*time.Hour).Truncate(time.Minute),
		map[string]any{"specimen_type": "whole_blood", "container": "PED", "volume": 9, "unit": "mL"})[0]
	a.apiWant(t, techToken, "POST", "/api/v1/samples/"+blood+"/receive", nil, http.StatusOK, nil)
	var out struct {
		Aliquots []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"aliquots"`
	}
	a.apiWant(t, techToken, "POST", "/api/v1/samples/"+blood+"/aliquots",
		map[string]any{"count": n, "volume": 0.5, "specimen_type": "plasma"}, http.StatusCreated, &out)
	if len(out.Aliquots) != n {
		t.Fatalf("e2e: splitting %s into %d aliquots gave %d", blood, n, len(out.Aliquots))
	}
	ids := make([]string, n)
	for i, al := range out.Aliquots {
		if al.Status != "received" {
			t.Fatalf("e2e: aliquot %s of %s has status %q, want received", al.ID, blood, al.Status)
		}
		ids[i] = al.ID
	}
	return ids
}
