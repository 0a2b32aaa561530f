package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestAdmin_CreatesSiteAndUserWithReason(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, adminUser, adminPassword)

	// A site without a reason: the browser would refuse the empty required field, so take
	// the attribute away to see what the server says.
	visit(t, ctx, a.URL+"/admin/sites")
	if !exists(t, ctx, `[data-testid="site-`+siteCode+`"]`) {
		t.Errorf("the sites table does not list %s%s", siteCode, pageState(ctx))
	}
	status := submit(t, ctx, "add a site without a reason",
		chromedp.SendKeys(chromedp.ID("f-code"), "BER"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Berlin Partner Clinic"),
		chromedp.SendKeys(chromedp.ID("f-country"), "DE"),
		chromedp.RemoveAttribute(chromedp.ID("f-reason"), "required"),
		chromedp.Click(chromedp.CSS(`[data-testid="site-form"] button[type="submit"]`)),
	)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("a site without a reason: status %d, want %d", status, http.StatusUnprocessableEntity)
	}
	if got := text(t, ctx, "error-reason"); !strings.Contains(strings.ToLower(got), "reason") {
		t.Errorf("error beside the reason field = %q, want it to ask for a reason", got)
	}
	if exists(t, ctx, `[data-testid="site-BER"]`) {
		t.Errorf("the site was added although the reason was missing%s", pageState(ctx))
	}
	for id, want := range map[string]string{"f-code": "BER", "f-name": "Berlin Partner Clinic", "f-country": "DE"} {
		if got := value(t, ctx, id); got != want {
			t.Errorf("refused form: #%s = %q, want what was typed, %q", id, got, want)
		}
	}

	// Give the reason on the form as it came back.
	status = submit(t, ctx, "add a site with a reason",
		chromedp.SendKeys(chromedp.ID("f-reason"), "New partner clinic joins the study"),
		chromedp.Click(chromedp.CSS(`[data-testid="site-form"] button[type="submit"]`)),
	)
	if status != http.StatusOK {
		t.Errorf("add a site: landed on a page with status %d", status)
	}
	if got := location(t, ctx); got != a.URL+"/admin/sites" {
		t.Errorf("after adding a site the browser is at %s, want %s/admin/sites", got, a.URL)
	}
	if got := text(t, ctx, "flash-success"); !strings.Contains(got, "BER") {
		t.Errorf("flash after adding a site = %q, want it to name BER", got)
	}
	if got := text(t, ctx, "site-BER"); !strings.Contains(got, "Berlin Partner Clinic") || !strings.Contains(got, "DE") {
		t.Errorf("the new site's row reads %q", got)
	}

	// A nurse at the new site. The reason is refused first here too, with spaces only.
	visit(t, ctx, a.URL+"/admin/users/new")
	fillUser := []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("f-username"), "bertha"),
		chromedp.SetValue(chromedp.ID("f-role"), "nurse"),
		chromedp.SetValue(chromedp.ID("f-site"), "BER"),
		chromedp.SendKeys(chromedp.ID("f-password"), "bertha-pass-1234"),
	}
	status = submit(t, ctx, "add a user with a blank reason", append(fillUser,
		chromedp.SendKeys(chromedp.ID("f-reason"), "   "),
		chromedp.Click(chromedp.CSS(`[data-testid="user-form"] button[type="submit"]`)),
	)...)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("a user with a blank reason: status %d, want %d", status, http.StatusUnprocessableEntity)
	}
	if got := text(t, ctx, "error-reason"); !strings.Contains(strings.ToLower(got), "reason") {
		t.Errorf("error beside the reason field = %q, want it to ask for a reason", got)
	}
	if got := value(t, ctx, "f-username"); got != "bertha" {
		t.Errorf("refused user form: username = %q, want %q", got, "bertha")
	}
	if got := value(t, ctx, "f-password"); got != "" {
		t.Errorf("the refused user form sent the password back (%d characters)", len(got))
	}

	visit(t, ctx, a.URL+"/admin/users/new")
	status = submit(t, ctx, "add a user", append(fillUser,
		chromedp.SendKeys(chromedp.ID("f-reason"), "Study nurse for the Berlin clinic"),
		chromedp.Click(chromedp.CSS(`[data-testid="user-form"] button[type="submit"]`)),
	)...)
	if status != http.StatusOK {
		t.Errorf("add a user: landed on a page with status %d", status)
	}
	if got := location(t, ctx); !strings.HasPrefix(got, a.URL+"/admin/users/") {
		t.Errorf("after adding a user the browser is at %s, want the user's page", got)
	}
	if got := text(t, ctx, "user-name"); got != "bertha" {
		t.Errorf("the user page is for %q, want bertha", got)
	}
	visit(t, ctx, a.URL+"/admin/users")
	if got := text(t, ctx, "user-bertha"); !strings.Contains(strings.ToLower(got), "nurse") || !strings.Contains(got, "BER") {
		t.Errorf("the users table row of bertha reads %q, want a nurse at BER", got)
	}

	// The new nurse, at another PC: her own home page, none of the admin's links.
	nurse := newIncognito(t, ctx)
	signIn(t, nurse, a.URL, "bertha", "bertha-pass-1234")
	if !exists(t, nurse, `[data-testid="home-nurse"]`) {
		t.Errorf("the new nurse does not see the nurse home page%s", pageState(nurse))
	}
	for _, link := range []string{"/admin/users", "/admin/sites", "/audit"} {
		if exists(t, nurse, `a[href="`+link+`"]`) {
			t.Errorf("the nurse's page links to %s%s", link, pageState(nurse))
		}
	}
	if got := text(t, nurse, "who"); !strings.Contains(got, "bertha") || !strings.Contains(got, "BER") {
		t.Errorf("the nurse's header says %q, want bertha at BER", got)
	}
	// And the admin pages refuse her.
	if status := visitStatus(t, nurse, a.URL+"/admin/users"); status != http.StatusForbidden {
		t.Errorf("a nurse opening /admin/users: status %d, want %d", status, http.StatusForbidden)
	}
}
