package e2e

import (
	"bytes"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"biobank/internal/auth"
)

func TestSignIn_HomeAndSignOut(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := newBrowser(t)

	signIn(t, ctx, a.URL, adminUser, adminPassword)
	if got := text(t, ctx, "home-title"); !strings.Contains(got, adminUser) {
		t.Errorf("home title = %q, want it to name %q", got, adminUser)
	}
	if !exists(t, ctx, `[data-testid="home-admin"]`) {
		t.Errorf("the admin's home page has no admin cards%s", pageState(ctx))
	}
	for _, link := range []string{"/admin/users", "/admin/sites"} {
		if !exists(t, ctx, `nav a[href="`+link+`"]`) {
			t.Errorf("the admin's navigation has no link to %s%s", link, pageState(ctx))
		}
	}
	if got := text(t, ctx, "who"); !strings.Contains(got, adminUser) || !strings.Contains(got, siteCode) {
		t.Errorf("header says %q, want the user %q and the site %s", got, adminUser, siteCode)
	}

	// One screenshot proves the page renders, styles and all, not only that the DOM exists.
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(t.TempDir(), "home.png")
	if err := os.WriteFile(file, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(saved))
	if err != nil {
		t.Fatalf("the home page screenshot (%d bytes) is not a PNG: %v", len(saved), err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("the home page screenshot is %dx%d, want a whole page", b.Dx(), b.Dy())
	}

	status := submit(t, ctx, "sign out", chromedp.Click(testID("sign-out")))
	if status != http.StatusOK {
		t.Errorf("sign-out landed on a page with status %d", status)
	}
	if got := location(t, ctx); got != a.URL+"/login" {
		t.Errorf("after signing out the browser is at %s, want %s/login", got, a.URL)
	}
	if got := text(t, ctx, "flash-success"); !strings.Contains(strings.ToLower(got), "signed out") {
		t.Errorf("flash after signing out = %q, want it to say signed out", got)
	}
	if !exists(t, ctx, `[data-testid="signin-form"]`) {
		t.Errorf("no sign-in form after signing out%s", pageState(ctx))
	}

	// The session is gone: the home page sends the browser back to sign in, and as the
	// person signed out themselves it does not claim the session ended by itself.
	visit(t, ctx, a.URL+"/")
	if got := location(t, ctx); got != a.URL+"/login" {
		t.Errorf("after signing out, / took the browser to %s, want %s/login", got, a.URL)
	}
	if exists(t, ctx, `[data-testid="home-title"]`) {
		t.Errorf("the home page is still shown after signing out%s", pageState(ctx))
	}
	if exists(t, ctx, `[data-testid="flash-info"]`) {
		t.Errorf("after a deliberate sign-out the sign-in page says %q", text(t, ctx, "flash-info"))
	}
}

func TestSignIn_WrongPasswordShowsMessage(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := newBrowser(t)

	visit(t, ctx, a.URL+"/login")
	if status := fillSignIn(t, ctx, adminUser, "not-the-password"); status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want %d", status, http.StatusUnauthorized)
	}
	wrongPassword := text(t, ctx, "form-error")
	if wrongPassword != auth.SignInMessage {
		t.Errorf("wrong password message = %q, want %q", wrongPassword, auth.SignInMessage)
	}
	if got := value(t, ctx, "f-username"); got != adminUser {
		t.Errorf("username field after a refused sign-in = %q, want what was typed, %q", got, adminUser)
	}
	if got := value(t, ctx, "f-password"); got != "" {
		t.Errorf("the password field was sent back filled in (%d characters)", len(got))
	}
	if exists(t, ctx, `[data-testid="sign-out"]`) {
		t.Errorf("a refused sign-in shows the signed-in header%s", pageState(ctx))
	}

	// An unknown username gets exactly the same answer, so the form does not tell who has
	// an account.
	if status := fillSignIn(t, ctx, "nobody-here", "not-the-password"); status != http.StatusUnauthorized {
		t.Errorf("unknown username: status %d, want %d", status, http.StatusUnauthorized)
	}
	if got := text(t, ctx, "form-error"); got != wrongPassword {
		t.Errorf("unknown username message = %q, want the wrong-password message %q", got, wrongPassword)
	}
	if got := value(t, ctx, "f-username"); got != "nobody-here" {
		t.Errorf("username field = %q, want %q", got, "nobody-here")
	}

	// The right password still works: the failures above did not reach the lock-out.
	if status := fillSignIn(t, ctx, adminUser, adminPassword); status != http.StatusOK {
		t.Fatalf("correct password after one failure: status %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); got != a.URL+"/" {
		t.Errorf("after signing in the browser is at %s, want %s/", got, a.URL)
	}
}

func TestSignIn_LockedAccount(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := newBrowser(t)

	visit(t, ctx, a.URL+"/login")
	for i := 1; i <= auth.MaxFailedSignIns; i++ {
		if status := fillSignIn(t, ctx, nurseUser, "wrong-password-"+string(rune('0'+i))); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want %d", i, status, http.StatusUnauthorized)
		}
	}
	// Locked now: the correct password is refused with the very same message, which does not
	// say the account exists, let alone that it is locked.
	if status := fillSignIn(t, ctx, nurseUser, nursePassword); status != http.StatusUnauthorized {
		t.Fatalf("correct password on a locked account: status %d, want %d%s", status, http.StatusUnauthorized, pageState(ctx))
	}
	if got := text(t, ctx, "form-error"); got != auth.SignInMessage {
		t.Errorf("locked account message = %q, want %q", got, auth.SignInMessage)
	}
	if got := location(t, ctx); got != a.URL+"/login" {
		t.Errorf("a locked account reached %s", got)
	}
	visit(t, ctx, a.URL+"/")
	if got := location(t, ctx); got != a.URL+"/login" {
		t.Errorf("after the refused sign-in, / took the browser to %s, want %s/login", got, a.URL)
	}

	// The lock is the nurse's alone: the admin still signs in.
	signIn(t, newIncognito(t, ctx), a.URL, adminUser, adminPassword)
}

func TestSession_IdleExpirySendsBackToSignIn(t *testing.T) {
	t.Parallel()
	// The idle time must outlast one sign-in (open the form, type, submit) on a loaded
	// machine: the sign-in form's CSRF token lives in a session with the same timeout.
	const idle = 3 * time.Second
	a := startApp(t, "BIOBANK_SESSION_IDLE_TIMEOUT="+idle.String())
	ctx := newBrowser(t)

	signIn(t, ctx, a.URL, nurseUser, nursePassword)
	if !exists(t, ctx, `[data-testid="home-nurse"]`) {
		t.Fatalf("no nurse home page after signing in%s", pageState(ctx))
	}

	// Idle past the timeout, then ask for the home page.
	time.Sleep(idle + time.Second)
	visit(t, ctx, a.URL+"/")
	if got := location(t, ctx); got != a.URL+"/login" {
		t.Fatalf("an idle session took / to %s, want %s/login%s", got, a.URL, pageState(ctx))
	}
	if got := text(t, ctx, "flash-info"); !strings.Contains(got, "Your session has ended") {
		t.Errorf("flash after the session expired = %q, want it to say %q", got, "Your session has ended")
	}
	if exists(t, ctx, `[data-testid="home-title"]`) {
		t.Errorf("the home page is shown on an expired session%s", pageState(ctx))
	}
	if status := fillSignIn(t, ctx, nurseUser, nursePassword); status != http.StatusOK {
		t.Fatalf("sign in again: status %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); got != a.URL+"/" {
		t.Errorf("signing in again went to %s, want back to %s/", got, a.URL)
	}
	if !exists(t, ctx, `[data-testid="home-nurse"]`) {
		t.Errorf("no nurse home page after signing in again%s", pageState(ctx))
	}

	// A deeper page: signing in again returns to exactly what was asked for.
	time.Sleep(idle + time.Second)
	wanted := "/scan?q=TUBE-0042"
	visit(t, ctx, a.URL+wanted)
	if got := location(t, ctx); !strings.HasPrefix(got, a.URL+"/login?next=") {
		t.Fatalf("an idle session took %s to %s, want the sign-in page remembering it%s", wanted, got, pageState(ctx))
	}
	if got := text(t, ctx, "flash-info"); !strings.Contains(got, "Your session has ended") {
		t.Errorf("flash after the session expired again = %q", got)
	}
	fillSignIn(t, ctx, nurseUser, nursePassword)
	if got := location(t, ctx); got != a.URL+wanted {
		t.Errorf("signing in again went to %s, want back to %s", got, a.URL+wanted)
	}
	if got := text(t, ctx, "scan-echo"); got != "TUBE-0042" {
		t.Errorf("the page wanted shows the scan %q, want %q", got, "TUBE-0042")
	}
}
