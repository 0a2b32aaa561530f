package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// TestImport_KillNineLeavesNothingAndTheJobFailed kills the server (SIGKILL) while a large
// import is writing: after the restart not one of its samples exists, and the job says it
// failed because it was interrupted.
func TestImport_KillNineLeavesNothingAndTheJobFailed(t *testing.T) {
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, "mira", "manager", siteCode, "manager-pass-1234")
	token := a.apiToken(t, "mira")
	var file strings.Builder
	file.WriteString("pseudonym,study,visit,specimen_type,container,volume,unit,collected_at,tube_barcode\n")
	for i := range 60_000 {
		fmt.Fprintf(&file, "%s,%s,BASELINE,whole_blood,PED,9,mL,2019-03-14 09:30,K9-%07d\n", v.Pseudonym, v.Study, i)
	}
	var job struct {
		Job    int64
		Status string
		Done   int
		Error  string
	}
	req, err := http.NewRequest("POST", a.URL+"/api/v1/import/samples?file_name=big.csv", strings.NewReader(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start the import: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &job); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for job.Done == 0 {
		if time.Now().After(deadline) || job.Status != "running" {
			t.Fatalf("the import never began writing: %+v", job)
		}
		time.Sleep(10 * time.Millisecond)
		a.apiWant(t, token, "GET", fmt.Sprintf("/api/v1/import/jobs/%d", job.Job), nil, http.StatusOK, &job)
	}
	a.kill9(t)

	conn, err := pgx.Connect(context.Background(), a.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM samples WHERE tube_barcode LIKE 'K9-%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the kill %d samples of the import exist (%v)", n, err)
	}
	if err := a.serve(t, nil); err != nil {
		t.Fatal(err)
	}
	a.apiWant(t, token, "GET", fmt.Sprintf("/api/v1/import/jobs/%d", job.Job), nil, http.StatusOK, &job)
	if job.Status != "failed" || !strings.Contains(job.Error, "interrupted") {
		t.Errorf("after the restart the job is %+v", job)
	}
}

// TestManager_ChecksFixesImportsAndFindsATube is the import journey in the browser: the
// manager checks a file and sees its one problem with its line, fixes the file, imports it
// while the job's page shows the progress, and finds an imported tube by scanning its
// barcode.
func TestManager_ChecksFixesImportsAndFindsATube(t *testing.T) {
	a := startApp(t)
	v := a.setUpOpenedVisit(t)
	a.createUser(t, "mira", "manager", siteCode, "manager-pass-1234")
	write := func(unit string) string {
		var b strings.Builder
		b.WriteString("pseudonym,study,visit,specimen_type,container,volume,unit,collected_at,tube_barcode\n")
		for i := range 400 {
			u := "mL"
			if i == 7 {
				u = unit
			}
			fmt.Fprintf(&b, "%s,%s,BASELINE,serum,SST,5,%s,2018-05-02 08:15,OLD-%05d\n", v.Pseudonym, v.Study, u, i)
		}
		path := filepath.Join(t.TempDir(), "legacy.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ctx := newBrowser(t)
	signIn(t, ctx, a.URL, "mira", "manager-pass-1234")
	visit(t, ctx, a.URL+"/samples")
	if status := submit(t, ctx, "open the import page", chromedp.Click(testID("import-link"))); status != http.StatusOK {
		t.Fatalf("import page: %d%s", status, pageState(ctx))
	}
	do(t, ctx, "choose the file", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{write("g")}))
	if status := submit(t, ctx, "check the file", chromedp.Click(testID("import-check"))); status != http.StatusOK {
		t.Fatalf("check: %d%s", status, pageState(ctx))
	}
	problems := rowsText(t, ctx, `[data-testid="import-problem"]`)
	if len(problems) != 1 || !strings.Contains(problems[0], "9") || !strings.Contains(problems[0], "measured in mL") {
		t.Fatalf("the check lists %q, want the wrong unit on line 9", problems)
	}
	do(t, ctx, "choose the fixed file", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{write("mL")}))
	if status := submit(t, ctx, "import", chromedp.Click(testID("import-start"))); status != http.StatusOK {
		t.Fatalf("import: %d%s", status, pageState(ctx))
	}
	if !strings.Contains(location(t, ctx), "/import/jobs/") || !exists(t, ctx, `[data-testid="import-progress"]`) {
		t.Fatalf("after starting, the browser is at %s%s", location(t, ctx), pageState(ctx))
	}
	// The page refreshes itself until the import is done (a check may meet a reload).
	for deadline := time.Now().Add(30 * time.Second); ; {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="import-done"]') !== null`))
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish on the page (%v)%s", err, pageState(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := text(t, ctx, "import-progress"); !strings.Contains(got, "400 of 400 rows") {
		t.Errorf("progress %q", got)
	}
	do(t, ctx, "press /", pressKey("/", "Slash", 191))
	if status := submit(t, ctx, "scan an imported tube", chromedp.KeyEvent("OLD-00123"), pressEnter()); status != http.StatusOK {
		t.Fatalf("scan: %d%s", status, pageState(ctx))
	}
	if got := location(t, ctx); !strings.Contains(got, "/samples/") {
		t.Errorf("scanning an imported tube leads to %s, want its sample page%s", got, pageState(ctx))
	}
}
