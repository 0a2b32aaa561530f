package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"biobank/internal/seed"
	"biobank/web"
)

// getJSON sends GET url with the bearer token (none when empty) and decodes the JSON reply.
func getJSON(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: Content-Type %q, want JSON; body %s", url, ct, body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
	return resp.StatusCode, v
}

// The issue's promise: "A script creates an API token from the command line and calls the
// JSON API with it."
func TestScript_TokenFromCommandLineCallsTheAPI(t *testing.T) {
	url := newDatabase(t)
	mustSiteAndUser(t, "lab.script", "technician")
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--username", "lab.script", "--name", "nightly export").stdout)

	cfg, err := webConfig("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(cfg, openTestDB(t, url)))
	defer srv.Close()

	status, me := getJSON(t, srv.URL+"/api/v1/me", token)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/me with the token: status %d, body %v", status, me)
	}
	if me["username"] != "lab.script" || me["role"] != "technician" || me["site"] != "LUX" {
		t.Errorf("GET /api/v1/me = %v, want lab.script, technician at LUX", me)
	}

	// The same call without the token, or with a token that was never issued, is refused
	// with the contract's error body.
	for _, bad := range []string{"", "bbk_" + strings.Repeat("a", 52), "not-a-token"} {
		status, body := getJSON(t, srv.URL+"/api/v1/me", bad)
		e, _ := body["error"].(map[string]any)
		if status != http.StatusUnauthorized || e["code"] != "unauthenticated" || e["message"] == "" {
			t.Errorf("token %q: status %d, body %v; want 401 unauthenticated", bad, status, body)
		}
	}
	// A technician's token does not open the administrators' API.
	if status, body := getJSON(t, srv.URL+"/api/v1/users", token); status != http.StatusForbidden {
		t.Errorf("technician GET /api/v1/users: status %d, body %v; want 403", status, body)
	}
}

// startServer runs `biobank <command> --addr <free port>` in the background until the test
// ends, waits until /healthz answers, and returns the base URL and a function that stops
// the server (as SIGTERM does) and returns what it printed and its exit code.
func startServer(t *testing.T, command string, extra ...string) (string, func() result) {
	t.Helper()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	args := append([]string{command, "--addr", addr}, extra...)
	go func() { done <- run(ctx, args, strings.NewReader(""), &out, &errOut) }()

	base := "http://" + addr
	stopped := false
	stop := func() result {
		if !stopped {
			stopped = true
			cancel()
		}
		select {
		case code := <-done:
			return result{code: code, stdout: out.String(), stderr: errOut.String()}
		case <-time.After(40 * time.Second):
			t.Fatalf("biobank %s did not stop within 40s of being told to", command)
			return result{}
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case code := <-done:
			t.Fatalf("biobank %s exited %d before serving:\n%s\n%s", command, code, out.String(), errOut.String())
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("biobank %s: /healthz did not answer 200 within 30s (last error %v)", command, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The same script against the real `serve` command: it migrates, listens, answers the API
// with a command-line token, and on SIGTERM (here: the context ending) drains and exits 0.
func TestServe_AnswersTheAPIAndStopsCleanly(t *testing.T) {
	newDatabase(t)
	mustSiteAndUser(t, "admin1", "admin")
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--username", "admin1").stdout)

	base, stop := startServer(t, "serve")
	if status, me := getJSON(t, base+"/api/v1/me", token); status != http.StatusOK || me["username"] != "admin1" {
		t.Errorf("GET /api/v1/me: status %d, body %v", status, me)
	}
	if status, v := getJSON(t, base+"/api/v1/audit/verify", token); status != http.StatusOK || v["ok"] != true {
		t.Errorf("GET /api/v1/audit/verify: status %d, body %v", status, v)
	}
	r := stop()
	if r.code != 0 {
		t.Errorf("serve after shutdown: %s", r)
	}
	if r.stdout != "" {
		t.Errorf("serve printed on stdout (only dev prints there): %q", r.stdout)
	}
}

// `make run` runs `biobank dev`: the first start loads the demo data and prints the URL and
// the logins; a second start on the same database reuses it.
func TestDev_SeedsOnceAndPrintsTheLogins(t *testing.T) {
	url := newDatabase(t)
	base, stop := startServer(t, "dev", "--demo-participants", "1")
	r := stop()
	if r.code != 0 {
		t.Fatalf("dev: %s", r)
	}
	for _, want := range []string{"demo data loaded: 4 sites, 10 users", "Biobank is running at " + base,
		"admin / " + seed.DemoPassword, "nurse.lux", "tech.kiel"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dev output does not say %q:\n%s", want, r.stdout)
		}
	}
	counts := rowCounts(t, url)

	_, stop = startServer(t, "dev", "--demo-participants", "1")
	r = stop()
	if r.code != 0 {
		t.Fatalf("second dev: %s", r)
	}
	if strings.Contains(r.stdout, "demo data loaded") || !strings.Contains(r.stdout, "Biobank is running at") {
		t.Errorf("second dev should reuse the data and still print the URL:\n%s", r.stdout)
	}
	wantCounts(t, url, counts)
}
