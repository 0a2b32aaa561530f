package consent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/study"
)

func TestRecord_StoresConsentOnActiveVersionAndAudits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "ibd", Version: "1.0", SignedOn: "2025-06-16",
		Tiers: []string{"genetic", "STORAGE"}})
	if c.ID == 0 || strings.Join(c.Tiers.Strings(), ",") != "storage,genetic" || strings.Join(c.EffectiveTiers.Strings(), ",") != "storage,genetic" ||
		!c.SignedOn.Equal(time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)) || c.Status() != consent.StatusActive {
		t.Errorf("consent %+v: want storage,genetic in force, signed 2025-06-16 (a day's grace), active", c)
	}
	if got := f.mayUse(t, p, f.IBD); got != "storage,genetic" {
		t.Errorf("MayUse allows %q, want storage,genetic", got)
	}
	var recordedBy int64
	if err := f.DB.Gorm.Table("consents").Where("id = ?", c.ID).Select("recorded_by").Scan(&recordedBy).Error; err != nil || recordedBy != f.NurseLUX.UserID {
		t.Errorf("recorded_by = %d (%v), want the nurse %d", recordedBy, err, f.NurseLUX.UserID)
	}
	ev := lastEvent(t, f.DB, p.Pseudonym, "consent.record")
	var after struct {
		ConsentID int64    `json:"consent_id"`
		Study     string   `json:"study"`
		Version   string   `json:"version"`
		Tiers     []string `json:"tiers"`
	}
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if ev.Actor != "nurse-lux" || after.ConsentID != c.ID || after.Study != "IBD" || after.Version != "1.0" || strings.Join(after.Tiers, ",") != "storage,genetic" {
		t.Errorf("audit event actor %q after %s", ev.Actor, ev.After)
	}
	hist, err := f.Consents.History(ctx, p.ID)
	if err != nil || len(hist) != 1 || hist[0].Document.Version != "1.0" || hist[0].Study.Code != "IBD" {
		t.Errorf("History = %+v, %v", hist, err)
	}
}

func TestRecord_Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	ok := consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-06-01", Tiers: []string{"storage"}}
	with := func(change func(in *consent.RecordInput)) consent.RecordInput {
		in := ok
		change(&in)
		return in
	}
	cases := []struct {
		name      string
		actor     auth.Actor
		pseudonym string
		in        consent.RecordInput
		field     string // of a ValidationError
		code      string // of the ValidationError or ConflictError
		conflict  bool
		forbidden bool
		notFound  bool
	}{
		{name: "retired version", in: with(func(in *consent.RecordInput) { in.Version = "0.9" }), field: "version", code: "retired_version"},
		{name: "tier not offered", in: with(func(in *consent.RecordInput) { in.Version, in.Tiers = "2.0", []string{"storage", "genetic"} }), field: "tiers", code: "tier_not_offered"},
		{name: "unknown tier", in: with(func(in *consent.RecordInput) { in.Tiers = []string{"storage", "advertising"} }), field: "tiers", code: "invalid"},
		{name: "no tiers", in: with(func(in *consent.RecordInput) { in.Tiers = nil }), field: "tiers"},
		{name: "signed in the future", in: with(func(in *consent.RecordInput) { in.SignedOn = "2025-06-17" }), field: "signed_on"},
		{name: "no signature date", in: with(func(in *consent.RecordInput) { in.SignedOn = "" }), field: "signed_on"},
		{name: "signature date not a date", in: with(func(in *consent.RecordInput) { in.SignedOn = "01/06/2025" }), field: "signed_on"},
		{name: "unknown version", in: with(func(in *consent.RecordInput) { in.Version = "3.0" }), field: "version"},
		{name: "unknown study", in: with(func(in *consent.RecordInput) { in.Study = "XYZ" }), field: "study"},
		{name: "no study", in: with(func(in *consent.RecordInput) { in.Study = "" }), field: "study"},
		{name: "not enrolled in the study", in: with(func(in *consent.RecordInput) { in.Study = "RA" }), conflict: true, code: "not_enrolled"},
		{name: "nurse of another site", actor: f.NurseKiel, in: ok, forbidden: true},
		{name: "technician", actor: f.TechLUX, in: ok, forbidden: true},
		{name: "unknown participant", pseudonym: "TTP-000000", in: ok, notFound: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			actor, pseudonym := f.NurseLUX, p.Pseudonym
			if tc.actor.UserID != 0 {
				actor = tc.actor
			}
			if tc.pseudonym != "" {
				pseudonym = tc.pseudonym
			}
			check := unchanged(t, f.DB, consentTables...)
			_, err := f.Consents.Record(context.Background(), actor, pseudonym, tc.in)
			switch {
			case tc.forbidden:
				wantForbidden(t, err)
			case tc.notFound:
				wantNotFound(t, err)
			case tc.conflict:
				wantConflict(t, err, tc.code)
			default:
				if v := wantValidation(t, err, tc.field); tc.code != "" && v.Code != tc.code {
					t.Errorf("code = %q, want %q (message %q)", v.Code, tc.code, v.Message)
				}
			}
			check()
		})
	}
	if got := f.mayUse(t, p, f.IBD); got != "" {
		t.Errorf("after refused consents MayUse allows %q, want nothing", got)
	}
}

func TestRecord_ManagerAndAdminRecordAtAnySite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.mustEnrol(t, f.NurseKiel, "IBD")
	for _, actor := range []auth.Actor{f.Manager, f.Admin} {
		f.mustRecord(t, actor, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "2.0", SignedOn: "2025-06-01", Tiers: []string{"storage"}})
	}
}

func TestWithdraw_OneTierLeavesTheOthersInForce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-02-01",
		Tiers: []string{"storage", "genetic", "sharing"}})

	w, err := f.Consents.Withdraw(ctx, f.NurseLUX, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: " no genetic analysis ", Tiers: []string{"genetic"}, WithdrawnOn: "2025-06-10"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.Consent.EffectiveTiers.Strings(), ","); got != "storage,sharing" || w.Consent.Status() != consent.StatusPartial {
		t.Errorf("after withdrawing genetic: effective %q status %q; want storage,sharing, %s", got, w.Consent.Status(), consent.StatusPartial)
	}
	if len(w.HeldSamples) != 0 {
		t.Errorf("held samples %v without a hold hook", w.HeldSamples)
	}
	if got := effectiveTiers(t, f.DB, c.ID); got != "storage,sharing" {
		t.Errorf("stored effective tiers %q, want storage,sharing", got)
	}
	if got := f.mayUse(t, p, f.IBD); got != "storage,sharing" {
		t.Errorf("MayUse allows %q, want storage,sharing", got)
	}
	hist, err := f.Consents.History(ctx, p.ID)
	if err != nil || len(hist) != 1 || len(hist[0].Withdrawals) != 1 {
		t.Fatalf("History = %+v, %v", hist, err)
	}
	wd := hist[0].Withdrawals[0]
	if wd.Reason != "no genetic analysis" || strings.Join(wd.Tiers.Strings(), ",") != "genetic" || !wd.WithdrawnOn.Equal(time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)) ||
		wd.RecordedBy == nil || *wd.RecordedBy != f.NurseLUX.UserID {
		t.Errorf("withdrawal %+v", wd)
	}

	ev := lastEvent(t, f.DB, p.Pseudonym, "consent.withdraw")
	var before, after struct {
		ConsentID      int64    `json:"consent_id"`
		EffectiveTiers []string `json:"effective_tiers"`
		WithdrawnTiers []string `json:"withdrawn_tiers"`
		WithdrawnOn    string   `json:"withdrawn_on"`
	}
	if err := json.Unmarshal(ev.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if ev.Reason != "no genetic analysis" || ev.Actor != "nurse-lux" ||
		before.ConsentID != c.ID || strings.Join(before.EffectiveTiers, ",") != "storage,genetic,sharing" ||
		after.ConsentID != c.ID || strings.Join(after.EffectiveTiers, ",") != "storage,sharing" ||
		strings.Join(after.WithdrawnTiers, ",") != "genetic" || after.WithdrawnOn != "2025-06-10" {
		t.Errorf("audit event reason %q before %s after %s", ev.Reason, ev.Before, ev.After)
	}
}

func TestWithdraw_NoTiersWithdrawsEverythingOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-02-01",
		Tiers: []string{"storage", "genetic", "sharing", "recontact"}})
	f.mustWithdraw(t, f.NurseLUX, p.Pseudonym, c.ID, "recontact")

	w, err := f.Consents.Withdraw(ctx, f.Manager, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: "withdrew from the study"})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Consent.EffectiveTiers) != 0 || w.Consent.Status() != consent.StatusWithdrawn {
		t.Errorf("after a full withdrawal: effective %v status %q", w.Consent.EffectiveTiers, w.Consent.Status())
	}
	if got := effectiveTiers(t, f.DB, c.ID); got != "" {
		t.Errorf("stored effective tiers %q, want none", got)
	}
	if got := f.mayUse(t, p, f.IBD); got != "" {
		t.Errorf("MayUse allows %q after a full withdrawal, want nothing", got)
	}
	ev := lastEvent(t, f.DB, p.Pseudonym, "consent.withdraw")
	if ev.Actor != "manager" || !strings.Contains(string(ev.After), `"withdrawn_tiers": ["storage", "genetic", "sharing"]`) {
		t.Errorf("audit event by %q after %s: want the manager withdrawing the three tiers left", ev.Actor, ev.After)
	}

	for _, tiers := range [][]string{nil, {"storage"}} {
		check := unchanged(t, f.DB, consentTables...)
		_, err = f.Consents.Withdraw(ctx, f.NurseLUX, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: "again", Tiers: tiers})
		wantConflict(t, err, "already_withdrawn")
		check()
	}
}

func TestWithdraw_Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	other := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-02-01",
		Tiers: []string{"storage", "genetic", "sharing"}})
	f.mustWithdraw(t, f.NurseLUX, p.Pseudonym, c.ID, "sharing")
	cases := []struct {
		name      string
		actor     auth.Actor
		pseudonym string
		in        consent.WithdrawInput
		field     string
		code      string
		forbidden bool
		notFound  bool
	}{
		{name: "tier already withdrawn", in: consent.WithdrawInput{Reason: "r", Tiers: []string{"sharing"}}, field: "tiers"},
		{name: "tier never granted", in: consent.WithdrawInput{Reason: "r", Tiers: []string{"recontact"}}, field: "tiers"},
		{name: "one tier in force, one not", in: consent.WithdrawInput{Reason: "r", Tiers: []string{"genetic", "recontact"}}, field: "tiers"},
		{name: "unknown tier", in: consent.WithdrawInput{Reason: "r", Tiers: []string{"everything"}}, field: "tiers"},
		{name: "no reason", in: consent.WithdrawInput{Reason: "  ", Tiers: []string{"genetic"}}, field: "reason", code: "reason_required"},
		{name: "reason too long", in: consent.WithdrawInput{Reason: strings.Repeat("r", 501)}, field: "reason"},
		{name: "withdrawn in the future", in: consent.WithdrawInput{Reason: "r", WithdrawnOn: "2025-07-01"}, field: "withdrawn_on"},
		{name: "withdrawal date not a date", in: consent.WithdrawInput{Reason: "r", WithdrawnOn: "yesterday"}, field: "withdrawn_on"},
		{name: "consent of another participant", pseudonym: other.Pseudonym, in: consent.WithdrawInput{Reason: "r"}, notFound: true},
		{name: "nurse of another site", actor: f.NurseKiel, in: consent.WithdrawInput{Reason: "r"}, forbidden: true},
		{name: "technician", actor: f.TechLUX, in: consent.WithdrawInput{Reason: "r"}, forbidden: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			actor, pseudonym := f.NurseLUX, p.Pseudonym
			if tc.actor.UserID != 0 {
				actor = tc.actor
			}
			if tc.pseudonym != "" {
				pseudonym = tc.pseudonym
			}
			check := unchanged(t, f.DB, consentTables...)
			_, err := f.Consents.Withdraw(context.Background(), actor, pseudonym, c.ID, tc.in)
			switch {
			case tc.forbidden:
				wantForbidden(t, err)
			case tc.notFound:
				wantNotFound(t, err)
			default:
				if v := wantValidation(t, err, tc.field); tc.code != "" && v.Code != tc.code {
					t.Errorf("code = %q, want %q", v.Code, tc.code)
				}
			}
			check()
		})
	}
	if got := effectiveTiers(t, f.DB, c.ID); got != "storage,genetic" {
		t.Errorf("after refused withdrawals the tiers in force are %q, want storage,genetic", got)
	}
}

func TestWithdraw_HoldHookRunsInTheTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "2.0", SignedOn: "2025-02-01", Tiers: []string{"storage", "sharing"}})

	failing := consent.NewService(f.DB, f.Participants, holderFunc(func(tx *db.Tx, actor auth.Actor, got consent.Consent, remaining study.Tiers, reason string) ([]string, error) {
		return nil, errors.New("hold failed")
	}))
	failing.Now = f.Consents.Now
	check := unchanged(t, f.DB, consentTables...)
	if _, err := failing.Withdraw(ctx, f.NurseLUX, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: "r", Tiers: []string{"sharing"}}); err == nil {
		t.Fatal("a failing hold hook did not fail the withdrawal")
	}
	check()
	if got := effectiveTiers(t, f.DB, c.ID); got != "storage,sharing" {
		t.Errorf("a failed withdrawal left %q in force, want storage,sharing", got)
	}

	var seen struct {
		remaining string
		reason    string
		mayShare  bool
	}
	watching := consent.NewService(f.DB, f.Participants, holderFunc(func(tx *db.Tx, actor auth.Actor, got consent.Consent, remaining study.Tiers, reason string) ([]string, error) {
		seen.remaining, seen.reason = strings.Join(remaining.Strings(), ","), reason
		var err error
		// Inside the transaction the withdrawal is already visible.
		seen.mayShare, err = consent.MayUse(tx.DB, got.ParticipantID, got.StudyID, study.TierSharing)
		return []string{"BB0000001"}, err
	}))
	watching.Now = f.Consents.Now
	w, err := watching.Withdraw(ctx, f.NurseLUX, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: "no sharing", Tiers: []string{"sharing"}})
	if err != nil {
		t.Fatal(err)
	}
	if seen.remaining != "storage" || seen.reason != "no sharing" || seen.mayShare {
		t.Errorf("hook saw remaining %q reason %q may share %v", seen.remaining, seen.reason, seen.mayShare)
	}
	if strings.Join(w.HeldSamples, ",") != "BB0000001" {
		t.Errorf("held samples %v", w.HeldSamples)
	}
}

func TestMayUse_TheLatestConsentWins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	if got := f.mayUse(t, p, f.IBD); got != "" {
		t.Errorf("without a consent MayUse allows %q", got)
	}
	first := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-02-01", Tiers: []string{"storage", "genetic", "sharing"}})
	f.mustWithdraw(t, f.NurseLUX, p.Pseudonym, first.ID, "sharing")
	if got := f.mayUse(t, p, f.IBD); got != "storage,genetic" {
		t.Errorf("after withdrawing sharing MayUse allows %q, want storage,genetic", got)
	}

	// A newer consent granting more tiers is in force again.
	second := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "1.0", SignedOn: "2025-03-01",
		Tiers: []string{"storage", "genetic", "sharing", "recontact"}})
	if got := f.mayUse(t, p, f.IBD); got != "storage,genetic,sharing,recontact" {
		t.Errorf("after a newer consent MayUse allows %q, want all four tiers", got)
	}
	// A consent signed earlier but recorded later does not replace the latest signed one.
	f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "2.0", SignedOn: "2025-01-15", Tiers: []string{"storage"}})
	if got := f.mayUse(t, p, f.IBD); got != "storage,genetic,sharing,recontact" {
		t.Errorf("after recording an older consent MayUse allows %q, want the newest's four tiers", got)
	}
	// Withdrawing the newest in full withdraws everything: older consents do not revive.
	f.mustWithdraw(t, f.NurseLUX, p.Pseudonym, second.ID)
	if got := f.mayUse(t, p, f.IBD); got != "" {
		t.Errorf("after withdrawing the newest consent MayUse allows %q, want nothing", got)
	}
	// Consent is per study.
	if got := f.mayUse(t, p, f.RA); got != "" {
		t.Errorf("MayUse in RA allows %q, want nothing", got)
	}
}

func TestWithdraw_ConcurrentSameTierOnlyOneSucceeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.mustEnrol(t, f.NurseLUX, "IBD")
	c := f.mustRecord(t, f.NurseLUX, p.Pseudonym, consent.RecordInput{Study: "IBD", Version: "2.0", SignedOn: "2025-02-01", Tiers: []string{"storage", "sharing"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = f.Consents.Withdraw(ctx, f.NurseLUX, p.Pseudonym, c.ID, consent.WithdrawInput{Reason: "no sharing", Tiers: []string{"sharing"}})
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
		if v, isValidation := apperr.AsValidation(err); !isValidation || v.Field != "tiers" {
			t.Errorf("want success or a ValidationError for tiers, got %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d withdrawals succeeded, want exactly 1", ok)
	}
	var withdrawals int64
	if err := f.DB.Gorm.Table("consent_withdrawals").Where("consent_id = ?", c.ID).Count(&withdrawals).Error; err != nil || withdrawals != 1 {
		t.Errorf("%d withdrawals stored (%v), want 1", withdrawals, err)
	}
	if got := effectiveTiers(t, f.DB, c.ID); got != "storage" {
		t.Errorf("tiers in force %q, want storage", got)
	}
}

// holderFunc is a consent.Holder made of a function, to watch or fail the hold step.
type holderFunc func(tx *db.Tx, actor auth.Actor, c consent.Consent, remaining study.Tiers, reason string) ([]string, error)

func (f holderFunc) HoldForWithdrawal(tx *db.Tx, actor auth.Actor, c consent.Consent, remaining study.Tiers, reason string) ([]string, error) {
	return f(tx, actor, c, remaining, reason)
}
