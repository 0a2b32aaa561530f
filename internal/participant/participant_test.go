package participant_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/participant"
	"biobank/internal/study"
)

func TestEnrol_GeneratesUniqueCheckedPseudonymsAndAudits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	year := 1980
	a := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "ibd", Sex: "female", BirthYear: &year, EnrolledOn: "2025-06-01"})
	b := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD"})
	for _, p := range []participant.Participant{a, b} {
		if len(p.Pseudonym) != participant.PseudonymLength || !checkcode.ValidPID(p.Pseudonym) || p.External {
			t.Errorf("generated pseudonym %q: want %d symbols with valid check symbols, not external", p.Pseudonym, participant.PseudonymLength)
		}
		if p.SiteID != f.LUX.ID {
			t.Errorf("%s enrolled at site %d, want LUX (%d)", p.Pseudonym, p.SiteID, f.LUX.ID)
		}
	}
	if a.Pseudonym == b.Pseudonym {
		t.Errorf("two enrolments got the same pseudonym %s", a.Pseudonym)
	}

	got, err := f.Participants.Get(context.Background(), f.NurseLUX, a.Pseudonym)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sex == nil || *got.Sex != "female" || got.BirthYear == nil || *got.BirthYear != 1980 || got.Site.Code != "LUX" {
		t.Errorf("stored participant %+v: want female, 1980, LUX", got)
	}
	enr, ok := got.Enrolment(f.IBD.ID)
	if !ok || !enr.EnrolledOn.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) || enr.SiteID != f.LUX.ID || enr.Study.Code != "IBD" {
		t.Errorf("enrolment %+v (found %v): want IBD on 2025-06-01 at LUX", enr, ok)
	}
	if bEnr, _ := b.Enrolment(f.IBD.ID); !bEnr.EnrolledOn.Equal(time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("enrolment without a date is on %s, want today 2025-06-15", bEnr.EnrolledOn)
	}

	ev := lastEvent(t, f.DB, a.Pseudonym, "participant.enrol")
	var after map[string]any
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if ev.Actor != "nurse-lux" || ev.ActorID == nil || *ev.ActorID != f.NurseLUX.UserID || ev.Site != "LUX" ||
		after["study"] != "IBD" || after["site"] != "LUX" || after["enrolled_on"] != "2025-06-01" {
		t.Errorf("audit event %+v after %s", ev, ev.After)
	}
}

func TestEnrol_AcceptsTypedBuiltInPseudonymNormalised(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name  string
		typed func(p string) string
		data  string
	}{
		{"as printed", func(p string) string { return p }, "K3X7Q2"},
		{"lower case", strings.ToLower, "M9PZ4T"},
		{"look-alike letters and spaces", typedSloppily, "0158AC"},
		{"look-alikes upper case", func(p string) string {
			return strings.NewReplacer("0", "O", "1", "I", "5", "S", "8", "B").Replace(p)
		}, "1850DE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := builtIn(t, tc.data)
			p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: tc.typed(want)})
			if p.Pseudonym != want || p.External {
				t.Errorf("typed %q: stored %q (external %v), want %q", tc.typed(want), p.Pseudonym, p.External, want)
			}
		})
	}
}

func TestEnrol_RefusesWrongCheckSuggestingTheCorrection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	right := builtIn(t, "H4N7W2")
	for i := 0; i < participant.PseudonymLength; i++ {
		typed := mistyped(right, i)
		check := unchanged(t, f.DB, participantTables...)
		_, err := f.Participants.Enrol(context.Background(), f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: typed})
		v := wantValidation(t, err, "pseudonym")
		if v.Code != "wrong_check" || !strings.Contains(v.Message, right) {
			t.Errorf("typed %s: code %q message %q; want wrong_check suggesting %s", typed, v.Code, v.Message, right)
		}
		check()
	}
	// The correction is never applied: the right pseudonym is still free.
	f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: right})
}

func TestEnrol_RefusesBadInputWritingNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	closed := false
	if _, err := f.Studies.Update(ctx, f.Admin, "RA", study.Input{Name: "Rheumatoid arthritis", Active: &closed, Reason: "recruitment ended"}); err != nil {
		t.Fatal(err)
	}
	year := func(y int) *int { return &y }
	cases := []struct {
		name  string
		in    participant.EnrolInput
		field string
		code  string
	}{
		{"too short", participant.EnrolInput{Study: "IBD", Pseudonym: "K3X7Q2"}, "pseudonym", "malformed_pseudonym"},
		{"too long", participant.EnrolInput{Study: "IBD", Pseudonym: "K3X7Q2M9Z"}, "pseudonym", "malformed_pseudonym"},
		{"character outside the alphabet", participant.EnrolInput{Study: "IBD", Pseudonym: "K3X7Q2M!"}, "pseudonym", "malformed_pseudonym"},
		{"unknown study", participant.EnrolInput{Study: "XYZ"}, "study", ""},
		{"no study", participant.EnrolInput{Study: " "}, "study", ""},
		{"closed study", participant.EnrolInput{Study: "RA"}, "study", ""},
		{"enrolment date in the future", participant.EnrolInput{Study: "IBD", EnrolledOn: "2025-06-20"}, "enrolled_on", ""},
		{"enrolment date not a date", participant.EnrolInput{Study: "IBD", EnrolledOn: "15.06.2025"}, "enrolled_on", ""},
		{"birth year before 1900", participant.EnrolInput{Study: "IBD", BirthYear: year(1899)}, "birth_year", ""},
		{"birth year in the future", participant.EnrolInput{Study: "IBD", BirthYear: year(2026)}, "birth_year", ""},
		{"sex not a MIABIS value", participant.EnrolInput{Study: "IBD", Sex: "F"}, "sex", ""},
		{"sex in capitals", participant.EnrolInput{Study: "IBD", Sex: "Female"}, "sex", ""},
		{"unknown site named by a manager", participant.EnrolInput{Study: "IBD", Site: "FR-LYON"}, "site", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := unchanged(t, f.DB, participantTables...)
			actor := f.NurseLUX
			if tc.in.Site != "" {
				actor = f.Manager
			}
			_, err := f.Participants.Enrol(ctx, actor, tc.in)
			v := wantValidation(t, err, tc.field)
			if tc.code != "" && v.Code != tc.code {
				t.Errorf("code = %q, want %q", v.Code, tc.code)
			}
			check()
		})
	}
	// The limits themselves are accepted.
	for _, in := range []participant.EnrolInput{
		{Study: "IBD", BirthYear: year(1900), Sex: "not_applicable"},
		{Study: "IBD", BirthYear: year(2025), Sex: "undifferentiated", EnrolledOn: "2025-06-15"},
	} {
		f.mustEnrol(t, f.NurseLUX, in)
	}
}

func TestEnrol_RefusesDuplicatePseudonym(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := builtIn(t, "0158AC")
	f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: p})
	for _, typed := range []string{p, typedSloppily(p)} {
		for _, st := range []string{"IBD", "RA"} {
			check := unchanged(t, f.DB, participantTables...)
			_, err := f.Participants.Enrol(context.Background(), f.NurseKiel, participant.EnrolInput{Study: st, Pseudonym: typed})
			if c := wantConflict(t, err, "duplicate_pseudonym"); c.Field != "pseudonym" {
				t.Errorf("conflict field = %q, want pseudonym", c.Field)
			}
			check()
		}
	}
}

func TestEnrol_ExternalPseudonymMustMatchTheStudyPattern(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustStudy(t, study.Input{Code: "MS", Name: "Multiple sclerosis", PseudonymPattern: `TTP-[0-9]{6}`,
		PseudonymScheme: checkcode.SchemeNone, Reason: "the TTP's pseudonyms carry no check characters"})

	p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "MS", Pseudonym: " ttp-123456 "})
	if p.Pseudonym != "TTP-123456" || !p.External {
		t.Errorf("stored %q (external %v), want TTP-123456, external", p.Pseudonym, p.External)
	}
	got, err := f.Participants.Get(ctx, f.NurseLUX, "ttp-123456")
	if err != nil || got.ID != p.ID {
		t.Errorf("Get(ttp-123456) = %+v, %v", got, err)
	}
	// A built-in pseudonym is still accepted in a study with an external pattern.
	f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "MS", Pseudonym: builtIn(t, "K3X7Q2")})

	for _, tc := range []struct{ study, pseudonym string }{
		{"MS", "TTP-12345"},   // one digit short
		{"MS", "TTP-1234567"}, // one too many
		{"MS", "XYZ-123456"},  // another issuer
		{"IBD", "TTP-654321"}, // IBD accepts no external pseudonyms
	} {
		check := unchanged(t, f.DB, participantTables...)
		_, err := f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: tc.study, Pseudonym: tc.pseudonym})
		wantValidation(t, err, "pseudonym")
		check()
	}
}

// A biobank-v1 study (one created before the schemes with its check on) keeps taking
// external pseudonyms of its pattern that pass the biobank-v1 check, of any length.
func TestEnrol_ExternalPseudonymWithCheckMustPassTheBuiltInCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustStudy(t, study.Input{Code: "MS", Name: "Multiple sclerosis", PseudonymPattern: `[A-Z0-9]{10}`, PseudonymScheme: checkcode.SchemeBiobankV1})
	good, err := checkcode.Append("K3X7Q2M9")
	if err != nil {
		t.Fatal(err)
	}
	p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "MS", Pseudonym: good})
	if p.Pseudonym != good || !p.External {
		t.Errorf("stored %q (external %v), want %s, external", p.Pseudonym, p.External, good)
	}
	check := unchanged(t, f.DB, participantTables...)
	_, err = f.Participants.Enrol(context.Background(), f.NurseLUX, participant.EnrolInput{Study: "MS", Pseudonym: mistyped(good, 2)})
	if v := wantValidation(t, err, "pseudonym"); v.Code != "wrong_check" {
		t.Errorf("code = %q, want wrong_check", v.Code)
	}
	check()
}

func TestEnrol_SiteOfEnrolment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	t.Run("nurse at her own site, named or not", func(t *testing.T) {
		for _, site := range []string{"", "LUX", " lux "} {
			p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD", Site: site})
			if p.SiteID != f.LUX.ID {
				t.Errorf("site %q: enrolled at %d, want LUX", site, p.SiteID)
			}
		}
	})
	t.Run("nurse at another site is forbidden", func(t *testing.T) {
		check := unchanged(t, f.DB, participantTables...)
		_, err := f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: "IBD", Site: "DE-KIEL"})
		wantForbidden(t, err)
		check()
	})
	t.Run("technician may not enrol", func(t *testing.T) {
		check := unchanged(t, f.DB, participantTables...)
		_, err := f.Participants.Enrol(ctx, f.TechLUX, participant.EnrolInput{Study: "IBD"})
		wantForbidden(t, err)
		check()
	})
	t.Run("manager and admin name another site", func(t *testing.T) {
		for _, actor := range []struct {
			name string
			p    participant.Participant
		}{
			{"manager", f.mustEnrol(t, f.Manager, participant.EnrolInput{Study: "IBD", Site: "de-kiel"})},
			{"admin", f.mustEnrol(t, f.Admin, participant.EnrolInput{Study: "IBD", Site: "DE-KIEL"})},
		} {
			if actor.p.SiteID != f.Kiel.ID {
				t.Errorf("%s: enrolled at %d, want DE-KIEL (%d)", actor.name, actor.p.SiteID, f.Kiel.ID)
			}
			got, err := f.Participants.Get(ctx, f.NurseKiel, actor.p.Pseudonym)
			if err != nil || got.Site.Code != "DE-KIEL" || got.Enrolments[0].SiteID != f.Kiel.ID {
				t.Errorf("%s: the Kiel nurse sees %+v, %v", actor.name, got, err)
			}
			ev := lastEvent(t, f.DB, actor.p.Pseudonym, "participant.enrol")
			if !strings.Contains(string(ev.After), `"site": "DE-KIEL"`) {
				t.Errorf("%s: audited %s, want site DE-KIEL", actor.name, ev.After)
			}
		}
	})
}

func TestEnrol_ConcurrentSamePseudonymOnlyOneSucceeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := builtIn(t, "W4R7T2")
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: p})
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if c, isConflict := apperr.AsConflict(err); !isConflict || c.Code != "duplicate_pseudonym" {
			t.Errorf("want success or duplicate_pseudonym, got %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d enrolments succeeded, want exactly 1", ok)
	}
	var rows int64
	if err := f.DB.Gorm.Table("participants").Where("pseudonym = ?", p).Count(&rows).Error; err != nil || rows != 1 {
		t.Errorf("%d participants with %s (%v), want 1", rows, p, err)
	}
}

func TestEnrolExisting_AddsAnotherStudyOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD"})

	check := unchanged(t, f.DB, participantTables...)
	_, err := f.Participants.EnrolExisting(ctx, f.NurseKiel, p.Pseudonym, "RA", "")
	wantForbidden(t, err)
	_, err = f.Participants.EnrolExisting(ctx, f.NurseLUX, p.Pseudonym, "IBD", "")
	wantConflict(t, err, "already_enrolled")
	_, err = f.Participants.EnrolExisting(ctx, f.NurseLUX, p.Pseudonym, "XYZ", "")
	wantValidation(t, err, "study")
	_, err = f.Participants.EnrolExisting(ctx, f.NurseLUX, p.Pseudonym, "RA", "2030-01-01")
	wantValidation(t, err, "enrolled_on")
	check()

	got, err := f.Participants.EnrolExisting(ctx, f.NurseLUX, p.Pseudonym, "ra", "2025-05-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Enrolments) != 2 || got.Enrolments[0].Study.Code != "RA" || got.Enrolments[1].Study.Code != "IBD" {
		t.Errorf("enrolments %+v: want RA (2025-05-01) then IBD (today)", got.Enrolments)
	}
	ev := lastEvent(t, f.DB, p.Pseudonym, "participant.enrol")
	if !strings.Contains(string(ev.After), `"study": "RA"`) {
		t.Errorf("audited %s, want study RA", ev.After)
	}
}

func TestGet_ScopedToTheActorsSite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD"})
	cases := []struct {
		name    string
		actor   auth.Actor
		allowed bool
	}{
		{"nurse at LUX", f.NurseLUX, true},
		{"technician at LUX", f.TechLUX, true},
		{"manager", f.Manager, true},
		{"admin", f.Admin, true},
		{"nurse at DE-KIEL", f.NurseKiel, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Participants.Get(context.Background(), tc.actor, p.Pseudonym)
			if !tc.allowed {
				wantForbidden(t, err)
				if got.ID != 0 {
					t.Errorf("a refused Get returned %+v", got)
				}
				return
			}
			if err != nil || got.ID != p.ID {
				t.Errorf("Get = %+v, %v", got, err)
			}
		})
	}
}

func TestGet_FindsTheParticipantHoweverThePseudonymIsTyped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	want := builtIn(t, "0158AC")
	p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: want})
	for _, typed := range []string{want, strings.ToLower(want), typedSloppily(want), want[:4] + "-" + want[4:], want[:4] + " " + want[4:]} {
		got, err := f.Participants.Get(ctx, f.NurseLUX, typed)
		if err != nil || got.ID != p.ID {
			t.Errorf("Get(%q) = %q, %v; want %s", typed, got.Pseudonym, err, want)
		}
	}

	_, err := f.Participants.Get(ctx, f.NurseLUX, mistyped(want, 3))
	if v := wantValidation(t, err, "pseudonym"); v.Code != "wrong_check" || !strings.Contains(v.Message, want) {
		t.Errorf("mistyped lookup: code %q message %q; want wrong_check suggesting %s", v.Code, v.Message, want)
	}
	_, err = f.Participants.Get(ctx, f.NurseLUX, "K3")
	if v := wantValidation(t, err, "pseudonym"); v.Code != "malformed_pseudonym" {
		t.Errorf("malformed lookup: code %q", v.Code)
	}
	_, err = f.Participants.Get(ctx, f.NurseLUX, builtIn(t, "ZZZZZZ"))
	wantNotFound(t, err)
}
