package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"biobank/internal/auth"
	"biobank/internal/bench"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// TestRun_SmallDataSetGivesACompleteTable runs the bench on 10,000 samples and checks the
// report is complete and every figure a number — the figures themselves are for the
// command, never asserted here.
func TestRun_SmallDataSetGivesACompleteTable(t *testing.T) {
	var out bytes.Buffer
	rep, err := bench.Run(context.Background(), bench.Options{ServerURL: dbtest.ServerURL(t), Samples: 10_000, Events: 10_000, Requests: 10, JSON: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var decoded bench.Report
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	want := []string{"raw pgx lookup", "API sample read", "sample page", "scan → sample page", "API sample reads, 8 clients", "box grid page",
		"participant page", "samples list, no filter", "samples list status=stored", "samples list specimen_type=csf", "samples list study=MS",
		"samples list from=", "samples list hold=yes", "samples list status=stored&specimen_type=plasma", "samples list participant=",
		"audit page", "audit verify", "audit append, one event", "audit append, 10,000 events", "samples CSV export"}
	if len(decoded.Figures) != len(want) {
		t.Fatalf("%d figures, want %d: %+v", len(decoded.Figures), len(want), decoded.Figures)
	}
	for i, f := range decoded.Figures {
		if !strings.HasPrefix(f.Name, want[i]) {
			t.Errorf("figure %d is %q, want %q…", i, f.Name, want[i])
		}
		if math.IsNaN(f.PerSecond) || math.IsInf(f.PerSecond, 0) || f.PerSecond <= 0 {
			t.Errorf("%s: throughput %v", f.Name, f.PerSecond)
		}
		if math.IsNaN(f.RatioToRaw) || math.IsInf(f.RatioToRaw, 0) || f.P50ms > 0 && f.RatioToRaw <= 0 {
			t.Errorf("%s: ratio to raw %v", f.Name, f.RatioToRaw)
		}
	}
	if rep.GeneratePerSec <= 0 || decoded.Samples != 10_000 {
		t.Errorf("generation %+v", rep)
	}
	var table bytes.Buffer
	if _, err := bench.Run(context.Background(), bench.Options{ServerURL: dbtest.ServerURL(t), Samples: 2_000, Events: 100, Requests: 5}, &table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "× raw p50") || !strings.Contains(table.String(), "samples CSV export") {
		t.Errorf("table:\n%s", table.String())
	}
}

// TestRun_RefusesADatabaseWithData: pointed at a database that holds data, the bench says
// so and touches nothing.
func TestRun_RefusesADatabaseWithData(t *testing.T) {
	url := dbtest.NewURL(t)
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := auth.NewService(d).CreateSite(context.Background(), auth.CommandLine, auth.SiteInput{Code: "LUX", Name: "Luxembourg", Country: "LU", Reason: "real data"}); err != nil {
		t.Fatal(err)
	}
	var before int64
	if err := d.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events").Scan(&before); err != nil {
		t.Fatal(err)
	}
	_, err = bench.Run(context.Background(), bench.Options{DatabaseURL: url, Samples: 100, Events: 10, Requests: 5}, &bytes.Buffer{})
	if !errors.Is(err, bench.ErrNotEmpty) {
		t.Fatalf("a database with data: %v, want ErrNotEmpty", err)
	}
	var after int64
	if err := d.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events").Scan(&after); err != nil || after != before {
		t.Errorf("the refused bench changed the database: %d → %d events", before, after)
	}
}
