package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"biobank/internal/checkcode"
)

func TestScanBox_SlashFocusesAndReportsNoMatch(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := newBrowser(t)
	// The admin's home is not a bench page, so nothing focuses the scan box by itself.
	signIn(t, ctx, a.URL, adminUser, adminPassword)
	if got := activeID(t, ctx); got == "scan-q" {
		t.Fatalf("the scan box has focus before / was pressed: the test would prove nothing")
	}

	do(t, ctx, "press /", pressKey("/", "Slash", 191))
	if got := activeID(t, ctx); got != "scan-q" {
		t.Fatalf("after pressing / the focus is on %q, want the scan box #scan-q", got)
	}
	if got := value(t, ctx, "scan-q"); got != "" {
		t.Errorf("pressing / typed %q into the scan box, want it empty", got)
	}

	// Type like a barcode reader: the code, then Enter. The code carries correct check
	// characters, so it is well formed and simply unknown in this empty database.
	code, err := checkcode.Append("TUDE0042")
	if err != nil {
		t.Fatal(err)
	}
	status := submit(t, ctx, "scan "+code, chromedp.KeyEvent(code), chromedp.KeyEvent(kb.Enter))
	if status != http.StatusNotFound {
		t.Errorf("scanning an unknown code: status %d, want %d", status, http.StatusNotFound)
	}
	if got := location(t, ctx); !strings.HasPrefix(got, a.URL+"/scan?") {
		t.Errorf("after the scan the browser is at %s, want %s/scan?q=…", got, a.URL)
	}
	if got := text(t, ctx, "scan-result"); !strings.Contains(got, code) {
		t.Errorf("scan result = %q, want it to echo %q", got, code)
	}
	if got := text(t, ctx, "scan-echo"); got != code {
		t.Errorf("scanned code shown as %q, want %q", got, code)
	}
	// The next scan must land in the box: it has the focus again, holding the last code.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === "scan-q"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("on the scan result page the focus is on %q, want the scan box #scan-q (%v)", activeID(t, ctx), err)
	}
	if got := value(t, ctx, "scan-q"); got != code {
		t.Errorf("the scan box holds %q, want the last code %q", got, code)
	}
}

// pressKey presses and releases one printable key as a keyboard does: the keydown carries
// the text, so a page that cancels the keydown also stops the character being typed.
// (chromedp.KeyEvent sends the character as a separate char event, which a cancelled
// keydown does not stop, unlike a real key press.)
func pressKey(key, code string, keyCode int64) chromedp.Action[chromedp.Void] {
	return pressKeyText(key, code, key, keyCode)
}

// pressEnter presses Enter as a keyboard (or a barcode scanner) does.
func pressEnter() chromedp.Action[chromedp.Void] {
	return pressKeyText("Enter", "Enter", "\r", 13)
}

func pressKeyText(key, code, text string, keyCode int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: key, Code: code,
			Text: text, UnmodifiedText: text, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: key, Code: code,
			WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode}
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
		return err
	})
}
