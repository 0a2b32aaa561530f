package sample_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"biobank/internal/sample"
)

func accessionsOf(rows []sample.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Accession
	}
	return out
}

func sameSet(got, want []string) bool {
	g, w := append([]string(nil), got...), append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	return strings.Join(g, ",") == strings.Join(w, ",")
}

func TestList_FiltersPagingAndSites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	yesterday := today.AddDate(0, 0, -1)
	collect := func(participant, studyCode string, at time.Time, tb sample.Tube) sample.Sample {
		in := w.collection(tb)
		in.Participant, in.Study, in.CollectedAt = participant, studyCode, at.Format(time.RFC3339)
		return w.mustCollectTubes(t, in)[0]
	}
	w.addStudy(t, "CRC")
	w.join(t, w.pseudonym, "CRC", []string{"storage"}, true, true)
	other := w.newParticipant(t, "IBD", []string{"storage"}, true)

	s1 := collect(w.pseudonym, "IBD", yesterday.Add(12*time.Hour), tube("whole_blood", "PED", "9"))
	s2 := collect(w.pseudonym, "IBD", today, tube("serum", "SST", "5"))
	s3 := collect(w.pseudonym, "IBD", today, tube("urine", "PPS", "20"))
	s4 := collect(w.pseudonym, "CRC", today, tube("whole_blood", "PED", "4"))
	s5 := collect(other, "IBD", today, tube("serum", "SST", "5"))
	if _, err := w.samples.Receive(ctx, w.tech, s2.Accession); err != nil {
		t.Fatal(err)
	}
	al := w.mustAliquot(t, s2.Accession, sample.Split{Count: 1, Volume: dec("0.5")})[0]
	if _, err := w.samples.Quarantine(ctx, w.manager, s3.Accession, "leaked"); err != nil {
		t.Fatal(err)
	}
	all := []string{s1.Accession, s2.Accession, s3.Accession, s4.Accession, s5.Accession, al.Accession}

	cases := []struct {
		name string
		f    sample.Filter
		want []string
	}{
		{"everything", sample.Filter{}, all},
		{"study IBD", sample.Filter{Study: "IBD"}, []string{s1.Accession, s2.Accession, s3.Accession, s5.Accession, al.Accession}},
		{"study crc in lower case", sample.Filter{Study: " crc "}, []string{s4.Accession}},
		{"unknown study", sample.Filter{Study: "NOPE"}, nil},
		{"visit", sample.Filter{Visit: "baseline"}, all},
		{"type serum", sample.Filter{SpecimenType: "serum"}, []string{s2.Accession, s5.Accession, al.Accession}},
		{"status received", sample.Filter{Status: "received"}, []string{s2.Accession, al.Accession}},
		{"status collected", sample.Filter{Status: "collected"}, []string{s1.Accession, s3.Accession, s4.Accession, s5.Accession}},
		{"held", sample.Filter{Hold: "yes"}, []string{s3.Accession}},
		{"not held", sample.Filter{Hold: "no"}, []string{s1.Accession, s2.Accession, s4.Accession, s5.Accession, al.Accession}},
		{"collected yesterday", sample.Filter{From: yesterday.Format("2006-01-02"), To: yesterday.Format("2006-01-02")}, []string{s1.Accession}},
		{"collected up to yesterday", sample.Filter{To: yesterday.Format("2006-01-02")}, []string{s1.Accession}},
		{"collected from today", sample.Filter{From: today.Format("2006-01-02")}, []string{s2.Accession, s3.Accession, s4.Accession, s5.Accession, al.Accession}},
		{"collected tomorrow", sample.Filter{From: today.AddDate(0, 0, 1).Format("2006-01-02")}, nil},
		{"participant", sample.Filter{Participant: other}, []string{s5.Accession}},
		{"participant in lower case", sample.Filter{Participant: strings.ToLower(w.pseudonym)},
			[]string{s1.Accession, s2.Accession, s3.Accession, s4.Accession, al.Accession}},
		{"combined", sample.Filter{Study: "IBD", SpecimenType: "serum", Participant: w.pseudonym, Hold: "no"}, []string{s2.Accession, al.Accession}},
		{"site LUX", sample.Filter{Site: "lux"}, all},
		{"site PAR", sample.Filter{Site: "PAR"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, next, err := w.samples.List(ctx, w.manager, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := accessionsOf(rows); !sameSet(got, c.want) {
				t.Errorf("listed %v, want %v", got, c.want)
			}
			if next != 0 {
				t.Errorf("next cursor %d on a single page", next)
			}
		})
	}

	for _, bad := range []struct {
		f     sample.Filter
		field string
	}{
		{sample.Filter{Status: "frozen"}, "status"},
		{sample.Filter{Hold: "maybe"}, "hold"},
		{sample.Filter{From: "31/01/2026"}, "from"},
		{sample.Filter{To: "tomorrow"}, "to"},
	} {
		_, _, err := w.samples.List(ctx, w.manager, bad.f)
		wantValidation(t, err, bad.field)
	}

	// A row tells its participant, study, visit, site and parent.
	rows, _, err := w.samples.List(ctx, w.tech, sample.Filter{Participant: w.pseudonym, SpecimenType: "serum", Status: "received"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Participant != w.pseudonym || r.Study != "IBD" || r.Visit != "BASELINE" || r.Site != "LUX" {
			t.Errorf("row %+v", r)
		}
		if (r.Accession == al.Accession) != (r.Parent != nil && *r.Parent == s2.Accession) {
			t.Errorf("row %s has parent %v", r.Accession, r.Parent)
		}
	}

	// Keyset paging: limit 2, newest first, every sample exactly once.
	var paged []string
	var lastID int64
	cursor := int64(0)
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		rows, next, err := w.samples.List(ctx, w.tech, sample.Filter{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 2 {
			t.Fatalf("page of %d rows with limit 2", len(rows))
		}
		for _, r := range rows {
			if lastID != 0 && r.ID >= lastID {
				t.Errorf("row %s (id %d) after id %d: not newest first", r.Accession, r.ID, lastID)
			}
			lastID = r.ID
			paged = append(paged, r.Accession)
		}
		if next == 0 {
			break
		}
		if next != rows[len(rows)-1].ID {
			t.Errorf("next cursor %d, want the last row's id %d", next, rows[len(rows)-1].ID)
		}
		cursor = next
	}
	if len(paged) != len(all) || !sameSet(paged, all) {
		t.Errorf("paged %v, want each of %v once", paged, all)
	}
	if paged[0] != al.Accession {
		t.Errorf("first row %s, want the newest sample %s", paged[0], al.Accession)
	}

	// Site scoping: the technician of another site sees none of them, even when asking.
	for _, f := range []sample.Filter{{}, {Site: "LUX"}, {Participant: w.pseudonym}} {
		rows, _, err := w.samples.List(ctx, w.tech2, f)
		if err != nil || len(rows) != 0 {
			t.Errorf("technician of PAR with %+v sees %v (%v)", f, accessionsOf(rows), err)
		}
	}
	if rows, _, err := w.samples.List(ctx, w.tech, sample.Filter{}); err != nil || len(rows) != len(all) {
		t.Errorf("technician of LUX sees %d of %d (%v)", len(rows), len(all), err)
	}
	_, err = w.samples.Get(ctx, w.tech2, s1.Accession)
	wantForbidden(t, err)
}

func TestCustody_AliquotIncludesItsAncestorsEventsInOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	parent := w.mustReceived(t, "serum", "SST", "5")
	if _, err := w.samples.RecordProcessing(ctx, w.tech, parent.Accession, workedSerum(parent.CollectedAt)); err != nil {
		t.Fatal(err)
	}
	kids := w.mustAliquot(t, parent.Accession, sample.Split{Count: 2, Volume: dec("1")})
	grand := w.mustAliquot(t, kids[0].Accession, sample.Split{Count: 1, Volume: dec("0.5")})[0]
	if _, err := w.samples.Quarantine(ctx, w.manager, kids[1].Accession, "sibling only"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.samples.Quarantine(ctx, w.manager, grand.Accession, "cap loose"); err != nil {
		t.Fatal(err)
	}
	other := w.mustReceived(t, "serum", "SST", "5") // an unrelated tube's events stay out

	smp, events, err := w.samples.Custody(ctx, w.tech, " "+strings.ToLower(grand.Accession))
	if err != nil {
		t.Fatal(err)
	}
	if smp.Accession != grand.Accession {
		t.Errorf("custody of %s", smp.Accession)
	}
	want := []string{
		parent.Accession + " sample.collect",
		parent.Accession + " sample.receive",
		parent.Accession + " sample.process",
		parent.Accession + " sample.aliquot",
		kids[0].Accession + " sample.create_aliquot",
		kids[0].Accession + " sample.aliquot",
		grand.Accession + " sample.create_aliquot",
		grand.Accession + " sample.quarantine",
	}
	var got []string
	var lastSeq int64
	for _, e := range events {
		got = append(got, e.Sample+" "+e.Action)
		if e.Seq <= lastSeq {
			t.Errorf("event %d after %d: not in order", e.Seq, lastSeq)
		}
		lastSeq = e.Seq
		if e.Sample == kids[1].Accession || e.Sample == other.Accession {
			t.Errorf("custody includes %s's event %s", e.Sample, e.Action)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("custody\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if events[len(events)-1].Reason != "cap loose" || events[0].Actor != "nurse1" {
		t.Errorf("events keep who and why: first by %q, last because %q", events[0].Actor, events[len(events)-1].Reason)
	}
	_, _, err = w.samples.Custody(ctx, w.tech2, grand.Accession)
	wantForbidden(t, err)
}
