package sample_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"testing"

	"biobank/internal/sample"
)

// cloneSamples adds n copies of the sample with id (new accession IDs, no tube barcode) in
// one statement: bulk fixture data for the export, not a path the application takes.
func (w world) cloneSamples(tb testing.TB, id int64, n int) {
	tb.Helper()
	_, err := w.db.Pool.Exec(context.Background(), `INSERT INTO samples (accession, participant_id, study_id, visit_id, specimen_type,
		container, volume, initial_volume, unit, collected_at, status, site_id, processing, sprec)
		SELECT 'BULK' || lpad(g::text, 8, '0'), participant_id, study_id, visit_id, specimen_type, container, volume, initial_volume, unit,
			collected_at, status, site_id, processing, sprec
		FROM samples, generate_series(1, $2) g WHERE id = $1`, id, n)
	if err != nil {
		tb.Fatal(err)
	}
}

// TestExport_WritesEverySelectedSampleOncePageByPage: across several pages every sample
// the filter selects is written once, in id order, with its parent; other sites' samples
// stay out for site-bound staff.
func TestExport_WritesEverySelectedSampleOncePageByPage(t *testing.T) {
	w := newWorld(t)
	parent := w.mustReceived(t, "whole_blood", "PED", "9")
	kids := w.mustAliquot(t, parent.Accession, sample.Split{Count: 2, Volume: dec("0.5"), SpecimenType: "plasma"})
	w.cloneSamples(t, parent.ID, sample.ExportPage+7)
	var buf bytes.Buffer
	if err := w.samples.Export(context.Background(), w.tech, sample.Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(sample.ExportHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	if got, want := len(rows)-1, sample.ExportPage+7+3; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[0]] {
			t.Fatalf("%s exported twice", r[0])
		}
		seen[r[0]] = true
	}
	if rows[1][0] != parent.Accession || rows[2][0] != kids[0].Accession || rows[2][15] != parent.Accession || rows[2][7] != "0.5" {
		t.Errorf("first rows %v %v", rows[1], rows[2])
	}
	buf.Reset()
	if err := w.samples.Export(context.Background(), w.tech2, sample.Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("another site's technician exports %d lines, want the header only", n)
	}
	if err := w.samples.Export(context.Background(), w.tech, sample.Filter{Status: "frozen"}, io.Discard); err == nil {
		t.Error("an unknown status was taken")
	}
}

// BenchmarkExport measures the streamed export's time and memory per row over 20,000
// samples: the bytes allocated per row stay the same whatever the number of rows, since
// each page is written and dropped.
func BenchmarkExport(b *testing.B) {
	w := newWorld(b)
	parent := w.mustReceived(b, "whole_blood", "PED", "9")
	const rows = 20000
	w.cloneSamples(b, parent.ID, rows-1)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.samples.Export(context.Background(), w.tech, sample.Filter{}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	b.StopTimer()
}
