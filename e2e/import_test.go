package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
