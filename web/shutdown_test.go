package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"biobank/web"
)

// TestServe_DrainsInFlightRequests cancels Serve's context while a sign-in's body is
// still arriving: the request completes normally and Serve then returns nil.
func TestServe_DrainsInFlightRequests(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)

	srv := web.New(web.Config{}, a.db)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	token, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	body := url.Values{"_csrf": {token}, "username": {"nurse"}, "password": {testPassword}}.Encode()

	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, base+"/login", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		r, err := hc.Do(req)
		done <- result{r, err}
	}()

	half := len(body) / 2
	if _, err := io.WriteString(pw, body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is now reading the body
	cancel()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	// New connections are refused once shutdown has begun.
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts connections during shutdown")
	}
	if _, err := io.WriteString(pw, body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	res := <-done
	if res.err != nil {
		t.Fatalf("the in-flight request failed: %v", res.err)
	}
	res.resp.Body.Close()
	if res.resp.StatusCode != http.StatusSeeOther || res.resp.Header.Get("Location") != "/" {
		t.Errorf("the in-flight sign-in got %d to %q, want 303 to /", res.resp.StatusCode, res.resp.Header.Get("Location"))
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the last request finished")
	}
}
