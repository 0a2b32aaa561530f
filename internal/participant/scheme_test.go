package participant_test

import (
	"context"
	"strings"
	"testing"

	"biobank/internal/checkcode"
	"biobank/internal/participant"
	"biobank/internal/study"
)

// A study of each pseudonym scheme enrols, looks up and refuses a typo by its own
// arithmetic; a lookup, which does not know the study, tries every scheme in use and only
// suggests pseudonyms that exist.
func TestSchemes_EnrolLookUpAndRefuseTypos(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // IBD: created with the default scheme, mainzelliste
	ctx := context.Background()
	f.mustStudy(t, study.Input{Code: "OLD", Name: "Cohort from before the schemes", PseudonymScheme: checkcode.SchemeBiobankV1})
	f.mustStudy(t, study.Input{Code: "TTP", Name: "Cohort with unchecked TTP pseudonyms", PseudonymPattern: `TTP-[0-9]{6}`,
		PseudonymScheme: checkcode.SchemeNone, Reason: "the TTP issues no check characters"})

	// Mainzelliste: a TTP's PID is taken however it is typed; a typo is refused with the
	// one correction the code is sure of.
	const pid = "0003Y0WZ"
	p := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: " ooo3-yowz "})
	if p.Pseudonym != pid {
		t.Fatalf("stored %q, want %s", p.Pseudonym, pid)
	}
	check := unchanged(t, f.DB, participantTables...)
	_, err := f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: "0007W0WA"})
	if v := wantValidation(t, err, "pseudonym"); v.Code != "wrong_check" || !strings.Contains(v.Message, "0007W0W9") {
		t.Errorf("a typo of the PID 0007W0W9: %+v, want wrong_check suggesting it", v)
	}
	// A biobank-v1 code is not a PID: refused in a Mainzelliste study, and its suggestion,
	// if any, is a valid PID (the other scheme's arithmetic is never used).
	v1, _ := checkcode.Append("K3X7Q2")
	if checkcode.ValidPID(v1) {
		t.Fatalf("test data: %s is valid under both schemes", v1)
	}
	_, err = f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: "IBD", Pseudonym: v1})
	v := wantValidation(t, err, "pseudonym")
	if v.Code != "wrong_check" {
		t.Errorf("a biobank-v1 code in a Mainzelliste study: %+v, want wrong_check", v)
	}
	if _, s, ok := strings.Cut(v.Message, "Did you mean "); ok && !checkcode.ValidPID(s[:8]) {
		t.Errorf("a biobank-v1 code in a Mainzelliste study got the suggestion %s, not a PID", s[:8])
	}
	check()
	generated := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "IBD"})
	if !checkcode.ValidPID(generated.Pseudonym) {
		t.Errorf("a new Mainzelliste study generated %s, not a PID", generated.Pseudonym)
	}

	// biobank-v1: today's codes stay valid and are generated; typos corrected its way.
	old := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "OLD", Pseudonym: strings.ToLower(v1)})
	if old.Pseudonym != v1 {
		t.Errorf("stored %q, want %s", old.Pseudonym, v1)
	}
	if g := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "OLD"}); !checkcode.Valid(g.Pseudonym) || len(g.Pseudonym) != 8 {
		t.Errorf("a biobank-v1 study generated %s", g.Pseudonym)
	}
	_, err = f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: "OLD", Pseudonym: pid})
	if v := wantValidation(t, err, "pseudonym"); v.Code != "wrong_check" {
		t.Errorf("a PID in a biobank-v1 study: %+v, want wrong_check", v)
	}

	// none: the pattern, as written; nothing else but the application's own PIDs.
	ttp := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "TTP", Pseudonym: "ttp-123456"})
	if ttp.Pseudonym != "TTP-123456" || !ttp.External {
		t.Errorf("stored %q external %v", ttp.Pseudonym, ttp.External)
	}
	if g := f.mustEnrol(t, f.NurseLUX, participant.EnrolInput{Study: "TTP"}); !checkcode.ValidPID(g.Pseudonym) {
		t.Errorf("a study without a check generated %s, want a PID", g.Pseudonym)
	}
	_, err = f.Participants.Enrol(ctx, f.NurseLUX, participant.EnrolInput{Study: "TTP", Pseudonym: "TTP-12345"})
	if v := wantValidation(t, err, "pseudonym"); v.Code != "malformed_pseudonym" || !strings.Contains(v.Message, "TTP-[0-9]{6}") {
		t.Errorf("a short TTP pseudonym: %+v", v)
	}

	// Lookups try every scheme: each participant is found however typed; a typo suggests
	// the participant it most likely meant, and only one that exists.
	for typed, want := range map[string]string{"0003-y0wz": pid, strings.ToLower(v1): v1, "ttp-123456": "TTP-123456"} {
		got, err := f.Participants.Get(ctx, f.NurseLUX, typed)
		if err != nil || got.Pseudonym != want {
			t.Errorf("Get(%q) = %q, %v; want %s", typed, got.Pseudonym, err, want)
		}
	}
	for typo, want := range map[string]string{"0003Y0WX": pid, v1[:7] + "K": v1} {
		if typo[7] == want[7] {
			typo = typo[:7] + "Q"
		}
		_, err := f.Participants.Get(ctx, f.NurseLUX, typo)
		if v := wantValidation(t, err, "pseudonym"); v.Code != "wrong_check" || !strings.Contains(v.Message, "Did you mean "+want+"?") {
			t.Errorf("Get(%q): %+v, want wrong_check suggesting %s", typo, v, want)
		}
	}
	// 0007W0W9 is a valid PID nobody has: a typo of it gets no suggestion on lookup.
	_, err = f.Participants.Get(ctx, f.NurseLUX, "0007W0WA")
	if v := wantValidation(t, err, "pseudonym"); v.Code != "wrong_check" || strings.Contains(v.Message, "0007W0W9") {
		t.Errorf("Get of a typo of a PID nobody has: %+v, want wrong_check without a suggestion", v)
	}
	// Another site's participant is not suggested to a nurse.
	kiel := f.mustEnrol(t, f.NurseKiel, participant.EnrolInput{Study: "IBD", Pseudonym: "000CU0WP"})
	_, err = f.Participants.Get(ctx, f.NurseLUX, "000CU0WQ")
	if v := wantValidation(t, err, "pseudonym"); strings.Contains(v.Message, kiel.Pseudonym) {
		t.Errorf("a nurse of LUX was offered KIEL's %s: %s", kiel.Pseudonym, v.Message)
	}
}

// A study without a check needs a pattern and an administrator's reason.
func TestSchemes_NoneNeedsPatternAndReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		in    study.Input
		field string
	}{
		{study.Input{Code: "A1", Name: "A", PseudonymScheme: checkcode.SchemeNone, Reason: "TTP"}, "pseudonym_pattern"},
		{study.Input{Code: "A2", Name: "A", PseudonymScheme: checkcode.SchemeNone, PseudonymPattern: "X[0-9]{4}"}, "reason"},
		{study.Input{Code: "A3", Name: "A", PseudonymScheme: "luhn"}, "pseudonym_scheme"},
	} {
		check := unchanged(t, f.DB, "studies", "audit_events")
		_, err := f.Studies.Create(ctx, f.Admin, tc.in)
		wantValidation(t, err, tc.field)
		check()
	}
	// Switching IBD to no check later needs the same.
	noReason := study.Input{Name: "IBD", PseudonymScheme: checkcode.SchemeNone, PseudonymPattern: "X[0-9]{4}", Reason: " "}
	_, err := f.Studies.Update(ctx, f.Admin, "IBD", noReason)
	wantValidation(t, err, "reason")
}
