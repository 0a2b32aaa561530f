package participant_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"biobank/internal/participant"
)

// enrolledInIBD enrols a participant at LUX in IBD on 2025-01-10: the baseline window is
// 2025-01-10 to 2025-01-17, the month-3 window 2025-03-27 to 2025-04-24.
func enrolledInIBD(tb testing.TB, f *fixture) participant.Participant {
	tb.Helper()
	return f.mustEnrol(tb, f.NurseLUX, participant.EnrolInput{Study: "IBD", EnrolledOn: "2025-01-10"})
}

func date(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestOpenVisit_InsideTheWindowOpensAndAudits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := enrolledInIBD(t, f)
	for _, tc := range []struct{ visit, date string }{
		{"baseline", "2025-01-10"}, // first day of the window
		{"M3", "2025-04-24"},       // last day of the window
	} {
		v := f.mustOpenVisit(t, f.NurseLUX, p.Pseudonym, participant.OpenVisitInput{Study: "ibd", Visit: tc.visit, Date: tc.date, Reason: "not needed"})
		if v.ID == 0 || !v.VisitDate.Equal(date(tc.date)) || v.OutOfWindowReason != "" || v.SiteID != f.LUX.ID ||
			v.OpenedBy == nil || *v.OpenedBy != f.NurseLUX.UserID || !strings.EqualFold(v.Definition.Code, tc.visit) {
			t.Errorf("%s visit %+v: want %s, no out-of-window reason, opened by the nurse at LUX", tc.visit, v, tc.date)
		}
		ev := lastEvent(t, f.DB, p.Pseudonym, "visit.open")
		var after map[string]any
		if err := json.Unmarshal(ev.After, &after); err != nil {
			t.Fatal(err)
		}
		if ev.Actor != "nurse-lux" || ev.Reason != "" || after["date"] != tc.date || after["study"] != "IBD" {
			t.Errorf("audit event %+v after %s", ev, ev.After)
		}
	}
}

func TestOpenVisit_OutsideTheWindowNeedsAReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := enrolledInIBD(t, f)
	for _, d := range []string{"2025-03-26", "2025-04-25", "2025-06-15"} {
		check := unchanged(t, f.DB, participantTables...)
		_, err := f.Participants.OpenVisit(ctx, f.NurseLUX, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: d, Reason: "   "})
		c := wantConflict(t, err, participant.OutOfWindowCode)
		if c.Field != "date" || !strings.Contains(c.Message, "2025-03-27") || !strings.Contains(c.Message, "2025-04-24") {
			t.Errorf("%s: conflict field %q message %q; want the window 2025-03-27 to 2025-04-24", d, c.Field, c.Message)
		}
		check()
	}

	v := f.mustOpenVisit(t, f.NurseLUX, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-05-02", Reason: " participant was abroad "})
	if v.OutOfWindowReason != "participant was abroad" {
		t.Errorf("out-of-window reason = %q", v.OutOfWindowReason)
	}
	var stored string
	if err := f.DB.Gorm.Table("visits").Where("id = ?", v.ID).Select("out_of_window_reason").Scan(&stored).Error; err != nil || stored != "participant was abroad" {
		t.Errorf("stored reason %q, %v", stored, err)
	}
	ev := lastEvent(t, f.DB, p.Pseudonym, "visit.open")
	if ev.Reason != "participant was abroad" || !strings.Contains(string(ev.After), `"window_to": "2025-04-24"`) {
		t.Errorf("audit event reason %q after %s", ev.Reason, ev.After)
	}
}

func TestOpenVisit_Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := enrolledInIBD(t, f)
	f.mustOpenVisit(t, f.NurseLUX, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE", Date: "2025-01-12"})
	cases := []struct {
		name      string
		in        participant.OpenVisitInput
		field     string // of a ValidationError
		conflict  string
		forbidden bool
		actor     string
	}{
		{name: "same visit twice", in: participant.OpenVisitInput{Study: "IBD", Visit: "baseline", Date: "2025-01-13"}, conflict: "visit_exists"},
		{name: "unknown visit", in: participant.OpenVisitInput{Study: "IBD", Visit: "M6", Date: "2025-04-01"}, field: "visit"},
		{name: "no visit", in: participant.OpenVisitInput{Study: "IBD", Date: "2025-04-01"}, field: "visit"},
		{name: "unknown study", in: participant.OpenVisitInput{Study: "XYZ", Visit: "M3", Date: "2025-04-01"}, field: "study"},
		{name: "no study", in: participant.OpenVisitInput{Visit: "M3", Date: "2025-04-01"}, field: "study"},
		{name: "date before enrolment", in: participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-01-09", Reason: "early"}, field: "date"},
		{name: "date in the future", in: participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-06-20", Reason: "later"}, field: "date"},
		{name: "date not a date", in: participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "1 April"}, field: "date"},
		{name: "not enrolled in the study", in: participant.OpenVisitInput{Study: "RA", Visit: "BASELINE", Date: "2025-06-10"}, conflict: "not_enrolled"},
		{name: "reason too long", in: participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-05-02", Reason: strings.Repeat("r", 501)}, field: "reason"},
		{name: "nurse of another site", in: participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-04-01"}, forbidden: true, actor: "kiel"},
		{name: "technician", in: participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-04-01"}, forbidden: true, actor: "tech"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			actor := f.NurseLUX
			switch tc.actor {
			case "kiel":
				actor = f.NurseKiel
			case "tech":
				actor = f.TechLUX
			}
			check := unchanged(t, f.DB, participantTables...)
			_, err := f.Participants.OpenVisit(context.Background(), actor, p.Pseudonym, tc.in)
			switch {
			case tc.forbidden:
				wantForbidden(t, err)
			case tc.conflict != "":
				wantConflict(t, err, tc.conflict)
			default:
				wantValidation(t, err, tc.field)
			}
			check()
		})
	}
	t.Run("unknown participant", func(t *testing.T) {
		_, err := f.Participants.OpenVisit(context.Background(), f.NurseLUX, builtIn(t, "ZZZZZZ"), participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-04-01"})
		wantNotFound(t, err)
	})
	t.Run("manager and admin open visits at any site", func(t *testing.T) {
		f.mustOpenVisit(t, f.Manager, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-04-01"})
		kiel := f.mustEnrol(t, f.NurseKiel, participant.EnrolInput{Study: "IBD", EnrolledOn: "2025-06-10"})
		v := f.mustOpenVisit(t, f.Admin, kiel.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE", Date: "2025-06-11"})
		if v.SiteID != f.Kiel.ID {
			t.Errorf("visit of a Kiel participant recorded at site %d, want DE-KIEL (%d)", v.SiteID, f.Kiel.ID)
		}
	})
}

func TestGet_ReturnsVisitsWithExpectedSpecimensInPositionOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := enrolledInIBD(t, f)
	f.mustOpenVisit(t, f.NurseLUX, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "M3", Date: "2025-04-01"})
	f.mustOpenVisit(t, f.NurseLUX, p.Pseudonym, participant.OpenVisitInput{Study: "IBD", Visit: "BASELINE", Date: "2025-01-11"})
	// Reverse the stored positions so that the order of the rows on disk is not the order
	// of the positions: only an ORDER BY position gives stool, serum, whole blood.
	if err := f.DB.Gorm.Exec(`UPDATE specimen_requirements SET position = -position`).Error; err != nil {
		t.Fatal(err)
	}

	got, err := f.Participants.Get(ctx, f.TechLUX, p.Pseudonym)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Visits) != 2 || got.Visits[0].Definition.Code != "BASELINE" || got.Visits[1].Definition.Code != "M3" {
		t.Fatalf("visits %+v: want BASELINE then M3 (by date)", got.Visits)
	}
	var types []string
	for _, r := range got.Visits[0].Definition.Requirements {
		types = append(types, r.SpecimenType)
	}
	if strings.Join(types, ",") != "stool,serum,whole_blood" {
		t.Errorf("baseline requirements %v, want stool,serum,whole_blood (by position)", types)
	}
	if n := len(got.Visits[1].Definition.Requirements); n != 0 {
		t.Errorf("M3 has %d requirements, want none", n)
	}
}
