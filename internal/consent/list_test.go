package consent_test

import (
	"context"
	"slices"
	"testing"

	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/participant"
)

// listed holds the participants of listFixture by the state of their current consent.
type listed struct {
	all, partial, withdrawn, kiel, superseded, ra participant.Participant
}

// listFixture records current consents in every state:
//
//	all         LUX      IBD  storage, genetic, sharing, recontact  active
//	partial     LUX      IBD  storage, genetic (sharing withdrawn)  partially_withdrawn
//	withdrawn   LUX      IBD  nothing (storage, genetic withdrawn)  withdrawn
//	kiel        DE-KIEL  IBD  storage, sharing                      active
//	superseded  LUX      IBD  storage, sharing (newer; the older granted storage only)
//	ra          LUX      RA   storage                               active
func listFixture(tb testing.TB) (*fixture, listed) {
	tb.Helper()
	f := newFixture(tb)
	var l listed
	record := func(actor auth.Actor, p participant.Participant, studyCode, version, signed string, tiers ...string) consent.Consent {
		return f.mustRecord(tb, actor, p.Pseudonym, consent.RecordInput{Study: studyCode, Version: version, SignedOn: signed, Tiers: tiers})
	}
	l.all = f.mustEnrol(tb, f.NurseLUX, "IBD")
	record(f.NurseLUX, l.all, "IBD", "1.0", "2025-02-01", "storage", "genetic", "sharing", "recontact")
	l.partial = f.mustEnrol(tb, f.NurseLUX, "IBD")
	c := record(f.NurseLUX, l.partial, "IBD", "1.0", "2025-02-02", "storage", "genetic", "sharing")
	f.mustWithdraw(tb, f.NurseLUX, l.partial.Pseudonym, c.ID, "sharing")
	l.withdrawn = f.mustEnrol(tb, f.NurseLUX, "IBD")
	c = record(f.NurseLUX, l.withdrawn, "IBD", "1.0", "2025-02-03", "storage", "genetic")
	f.mustWithdraw(tb, f.NurseLUX, l.withdrawn.Pseudonym, c.ID)
	l.kiel = f.mustEnrol(tb, f.NurseKiel, "IBD")
	record(f.NurseKiel, l.kiel, "IBD", "2.0", "2025-02-04", "storage", "sharing")
	l.superseded = f.mustEnrol(tb, f.NurseLUX, "IBD")
	record(f.NurseLUX, l.superseded, "IBD", "2.0", "2025-01-05", "storage")
	record(f.NurseLUX, l.superseded, "IBD", "2.0", "2025-03-05", "storage", "sharing")
	l.ra = f.mustEnrol(tb, f.NurseLUX, "RA")
	record(f.NurseLUX, l.ra, "RA", "1.0", "2025-02-06", "storage")
	return f, l
}

func TestList_FiltersCurrentConsentsByStatusStudyAndTiers(t *testing.T) {
	t.Parallel()
	f, l := listFixture(t)
	cases := []struct {
		name   string
		actor  auth.Actor
		filter consent.Filter
		want   []participant.Participant
	}{
		{"everything, current consents only", f.Manager, consent.Filter{}, []participant.Participant{l.all, l.partial, l.withdrawn, l.kiel, l.superseded, l.ra}},
		{"active", f.Manager, consent.Filter{Status: consent.StatusActive}, []participant.Participant{l.all, l.kiel, l.superseded, l.ra}},
		{"partially withdrawn", f.Manager, consent.Filter{Status: consent.StatusPartial}, []participant.Participant{l.partial}},
		{"withdrawn", f.Manager, consent.Filter{Status: consent.StatusWithdrawn}, []participant.Participant{l.withdrawn}},
		{"study RA", f.Admin, consent.Filter{Study: "ra"}, []participant.Participant{l.ra}},
		{"sharing in force", f.Manager, consent.Filter{Tiers: []string{"sharing"}}, []participant.Participant{l.all, l.kiel, l.superseded}},
		{"storage and genetic in force", f.Manager, consent.Filter{Tiers: []string{"genetic", "storage"}}, []participant.Participant{l.all, l.partial}},
		{"every tier in force", f.Manager, consent.Filter{Tiers: []string{"storage", "genetic", "sharing", "recontact"}}, []participant.Participant{l.all}},
		{"partially withdrawn with genetic", f.Manager, consent.Filter{Status: consent.StatusPartial, Tiers: []string{"genetic"}}, []participant.Participant{l.partial}},
		{"active IBD sharing", f.Manager, consent.Filter{Status: consent.StatusActive, Study: "IBD", Tiers: []string{"sharing"}}, []participant.Participant{l.all, l.kiel, l.superseded}},
		{"nurse at LUX sees her site only", f.NurseLUX, consent.Filter{}, []participant.Participant{l.all, l.partial, l.withdrawn, l.superseded, l.ra}},
		{"technician at LUX sees his site only", f.TechLUX, consent.Filter{Tiers: []string{"sharing"}}, []participant.Participant{l.all, l.superseded}},
		{"nurse at DE-KIEL sees her site only", f.NurseKiel, consent.Filter{}, []participant.Participant{l.kiel}},
		{"nurse at DE-KIEL, withdrawn", f.NurseKiel, consent.Filter{Status: consent.StatusWithdrawn}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, next, err := f.Consents.List(context.Background(), tc.actor, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := pseudonyms(rows), sorted(tc.want...); !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
			if next != 0 {
				t.Errorf("next cursor %d on the only page", next)
			}
			for _, r := range rows {
				if tc.filter.Status != "" && r.Status() != tc.filter.Status {
					t.Errorf("%s has status %s", r.Pseudonym, r.Status())
				}
			}
		})
	}
	t.Run("rows carry the consent as it stands", func(t *testing.T) {
		rows, _, err := f.Consents.List(context.Background(), f.Manager, consent.Filter{Status: consent.StatusPartial})
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %+v, %v", rows, err)
		}
		r := rows[0]
		if r.Site != "LUX" || r.Study != "IBD" || r.Version != "1.0" || r.SignedOn.Format("2006-01-02") != "2025-02-02" ||
			!slices.Equal(r.Tiers.Strings(), []string{"storage", "genetic", "sharing"}) || !slices.Equal(r.EffectiveTiers.Strings(), []string{"storage", "genetic"}) {
			t.Errorf("row %+v", r)
		}
	})
	t.Run("bad filters", func(t *testing.T) {
		_, _, err := f.Consents.List(context.Background(), f.Manager, consent.Filter{Status: "revoked"})
		wantValidation(t, err, "status")
		_, _, err = f.Consents.List(context.Background(), f.Manager, consent.Filter{Tiers: []string{"marketing"}})
		wantValidation(t, err, "tiers")
	})
}

func TestList_PagesWithTheCursorListingEachConsentOnce(t *testing.T) {
	t.Parallel()
	f, _ := listFixture(t)
	ctx := context.Background()
	all, _, err := f.Consents.List(ctx, f.Manager, consent.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var paged []int64
	cursor, pages := int64(0), 0
	for {
		rows, next, err := f.Consents.List(ctx, f.Manager, consent.Filter{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(rows) > 2 {
			t.Fatalf("page %d has %d rows, limit 2", pages, len(rows))
		}
		for _, r := range rows {
			paged = append(paged, r.ConsentID)
		}
		if next == 0 {
			break
		}
		if pages > 10 {
			t.Fatal("the cursor never reaches the end")
		}
		cursor = next
	}
	if pages != 3 {
		t.Errorf("%d pages of 2 for 6 consents, want 3", pages)
	}
	var want []int64
	for _, r := range all {
		want = append(want, r.ConsentID)
	}
	if len(want) != 6 || !slices.Equal(paged, want) {
		t.Errorf("paged %v, want %v (each current consent once, newest first)", paged, want)
	}
	if !slices.IsSortedFunc(paged, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("paged %v not newest first", paged)
	}

	// Paging a filtered list of a nurse.
	var nurse []string
	cursor = 0
	for i := 0; ; i++ {
		rows, next, err := f.Consents.List(ctx, f.NurseLUX, consent.Filter{Status: consent.StatusActive, Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			nurse = append(nurse, r.Pseudonym)
		}
		if next == 0 || i > 10 {
			break
		}
		cursor = next
	}
	if len(nurse) != 3 {
		t.Errorf("the LUX nurse paged %v, want her 3 active consents", nurse)
	}
}

func TestRecordAndWithdraw_ForbiddenForANurseOfAnotherSite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-02-01", Tiers: []string{"storage"}})
	check := unchanged(t, f.DB, consentTables...)
	_, err := f.Consents.Record(ctx, f.NurseKiel, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-02-01", Tiers: []string{"storage"}})
	wantForbidden(t, err)
	_, err = f.Consents.Withdraw(ctx, f.NurseKiel, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: "asked"})
	wantForbidden(t, err)
	check()
	// The administrator acts on every site.
	f.mustWithdraw(t, f.Admin, p.Pseudonym, c.ID)
}
