package sample_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"biobank/internal/consent"
	"biobank/internal/sample"
)

// TestHoldAndEnd checks the manager's quality hold and the end of a sample's life.
func TestHoldAndEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runScenarios(t, w,
		scenario{"QuarantineAndRelease_NeedReasonAndManager", quarantineAndReleaseNeedReasonAndManager},
		scenario{"End_NeedsReasonAndRefusesTerminalSamples", endNeedsReasonAndRefusesTerminalSamples},
	)
}

func quarantineAndReleaseNeedReasonAndManager(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	before := w.tally(t)
	_, err := w.samples.Quarantine(ctx, w.tech, smp.Accession, "haemolysed")
	wantForbidden(t, err)
	_, err = w.samples.Quarantine(ctx, w.manager, smp.Accession, " ")
	wantValidation(t, err, "reason")
	w.unchanged(t, before)

	held, err := w.samples.Quarantine(ctx, w.manager, smp.Accession, "haemolysed")
	if err != nil {
		t.Fatal(err)
	}
	got := w.mustGet(t, smp.Accession)
	for _, s := range []sample.Sample{held, got} {
		if !s.Hold || s.HoldKind != sample.HoldQuality || s.HoldReason != "haemolysed" || s.Status != sample.Received {
			t.Errorf("quarantined: hold %v %q %q, %s", s.Hold, s.HoldKind, s.HoldReason, s.Status)
		}
	}
	_, err = w.samples.Quarantine(ctx, w.manager, smp.Accession, "again")
	wantConflict(t, err, "already_on_hold")

	before = w.tally(t)
	_, err = w.samples.Release(ctx, w.tech, smp.Accession, "fine")
	wantForbidden(t, err)
	_, err = w.samples.Release(ctx, w.manager, smp.Accession, "")
	wantValidation(t, err, "reason")
	w.unchanged(t, before)
	if _, err := w.samples.Release(ctx, w.manager, smp.Accession, "re-tested: fine"); err != nil {
		t.Fatal(err)
	}
	if got := w.mustGet(t, smp.Accession); got.Hold || got.HoldKind != "" || got.HoldReason != "" {
		t.Errorf("released: hold %v %q %q", got.Hold, got.HoldKind, got.HoldReason)
	}
	_, err = w.samples.Release(ctx, w.manager, smp.Accession, "again")
	wantConflict(t, err, "not_on_hold")
	if w.auditCount(t, "sample.quarantine", smp.Accession) != 1 || w.auditCount(t, "sample.release", smp.Accession) != 1 {
		t.Error("quarantine and release should each be audited once")
	}
	var reasons []string
	if err := w.db.Gorm.Raw("SELECT reason FROM audit_events WHERE entity_id = ? AND action IN ('sample.quarantine', 'sample.release') ORDER BY seq",
		smp.Accession).Scan(&reasons).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(reasons, "|") != "haemolysed|re-tested: fine" {
		t.Errorf("audited reasons %q", reasons)
	}
}

func TestWithdrawal_OfRecontactOnlyHoldsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	kids := w.mustAliquot(t, smp.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	res, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "moved abroad", Tiers: []string{"recontact"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.HeldSamples) != 0 {
		t.Errorf("held %v", res.HeldSamples)
	}
	for _, a := range []string{smp.Accession, kids[0].Accession, kids[1].Accession} {
		if got := w.mustGet(t, a); got.Hold {
			t.Errorf("%s held after a re-contact withdrawal", a)
		}
	}
}

func TestWithdrawal_OfSharingHoldsTheStudysSamplesAndDescendants(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	// In IBD: a blood tube with a plasma aliquot, a grandchild and a DNA derivative; a
	// serum tube emptied by aliquoting (consumed: nothing to hold) with its aliquots.
	blood := w.mustReceived(t, "whole_blood", "PED", "6")
	plasma := w.mustAliquot(t, blood.Accession, sample.Split{Count: 1, Volume: dec("1"), SpecimenType: "plasma"})[0]
	grand := w.mustAliquot(t, plasma.Accession, sample.Split{Count: 1, Volume: dec("0.5")})[0]
	used := dec("0.5")
	dna := w.mustAliquot(t, blood.Accession, sample.Split{Count: 1, Volume: dec("20"), Unit: "µg", SpecimenType: "dna", InputVolume: &used})[0]
	serum := w.mustReceived(t, "serum", "SST", "1")
	serumKids := w.mustAliquot(t, serum.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	collectedOnly := w.mustCollectTubes(t, w.collection(tube("urine", "PPS", "20")))[0]
	// The same participant in another study, and another participant in IBD.
	w.addStudy(t, "CRC")
	w.join(t, w.pseudonym, "CRC", []string{"storage", "sharing"}, true, true)
	crcIn := w.collection(tube("whole_blood", "PED", "4"))
	crcIn.Study = "CRC"
	crc := w.mustCollectTubes(t, crcIn)[0]
	other := w.newParticipant(t, "IBD", []string{"storage", "sharing"}, true)
	otherIn := w.collection(tube("whole_blood", "PED", "4"))
	otherIn.Participant = other
	otherTube := w.mustCollectTubes(t, otherIn)[0]

	res, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "letter of 3 March", Tiers: []string{"sharing"}})
	if err != nil {
		t.Fatal(err)
	}
	wantHeld := []string{blood.Accession, plasma.Accession, grand.Accession, dna.Accession, serumKids[0].Accession, serumKids[1].Accession, collectedOnly.Accession}
	sort.Strings(wantHeld)
	got := append([]string(nil), res.HeldSamples...)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(wantHeld, ",") {
		t.Fatalf("held %v, want %v", got, wantHeld)
	}
	for _, a := range wantHeld {
		s := w.mustGet(t, a)
		if !s.Hold || s.HoldKind != sample.HoldConsent || !strings.Contains(s.HoldReason, "letter of 3 March") {
			t.Errorf("%s: hold %v %q %q", a, s.Hold, s.HoldKind, s.HoldReason)
		}
		if n := w.auditCount(t, "sample.consent_hold", a); n != 1 {
			t.Errorf("%s: %d consent_hold events", a, n)
		}
	}
	for _, a := range []string{serum.Accession, crc.Accession, otherTube.Accession} {
		if s := w.mustGet(t, a); s.Hold {
			t.Errorf("%s (%s, %s) should not be held", a, s.Status, s.Study.Code)
		}
	}
	// The manager's consent-actions list shows exactly the held samples.
	rows, _, err := w.samples.ConsentHeld(ctx, w.manager, 0)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range rows {
		listed = append(listed, r.Accession)
	}
	sort.Strings(listed)
	if strings.Join(listed, ",") != strings.Join(wantHeld, ",") {
		t.Errorf("consent actions list %v, want %v", listed, wantHeld)
	}
	_, _, err = w.samples.ConsentHeld(ctx, w.tech, 0)
	wantForbidden(t, err)
	// A held sample is neither aliquoted nor released by a quality decision.
	_, err = w.samples.Aliquot(ctx, w.tech, blood.Accession, sample.Split{Count: 1, Volume: dec("0.5")})
	wantConflict(t, err, "sample_on_hold")
	_, err = w.samples.Release(ctx, w.manager, blood.Accession, "looks fine")
	wantConflict(t, err, "consent_hold")
	_, err = w.samples.Quarantine(ctx, w.manager, blood.Accession, "also haemolysed")
	wantConflict(t, err, "already_on_hold")
}

func TestDecide_KeepRefusedWhenStorageIsWithdrawn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	kid := w.mustAliquot(t, smp.Accession, sample.Split{Count: 1, Volume: dec("0.5")})[0]
	free := w.mustReceived(t, "whole_blood", "PED", "4")
	if _, err := w.samples.End(ctx, w.manager, free.Accession, sample.ActConsume, "used for assay"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "letter", Tiers: []string{"storage"}}); err != nil {
		t.Fatal(err)
	}
	before := w.tally(t)
	_, err := w.samples.Decide(ctx, w.manager, smp.Accession, sample.DecideKeep, "governance board approved")
	if c := wantConflict(t, err, "consent_forbids_keeping"); !strings.Contains(c.Message, smp.Accession) {
		t.Errorf("message %q should name the sample", c.Message)
	}
	_, err = w.samples.Decide(ctx, w.manager, smp.Accession, sample.DecideDestroy, "")
	wantValidation(t, err, "reason")
	_, err = w.samples.Decide(ctx, w.manager, smp.Accession, "archive", "why not")
	wantValidation(t, err, "decision")
	_, err = w.samples.Decide(ctx, w.tech, smp.Accession, sample.DecideDestroy, "participant asked")
	wantForbidden(t, err)
	_, err = w.samples.Decide(ctx, w.manager, free.Accession, sample.DecideDestroy, "participant asked")
	wantConflict(t, err, "no_consent_hold")
	w.unchanged(t, before)
	if s := w.mustGet(t, smp.Accession); !s.Hold || s.Status != sample.Received {
		t.Fatalf("refused decisions changed the sample: %v %s", s.Hold, s.Status)
	}

	// Destroying the tube reaches its aliquot, held by the same withdrawal: each is
	// destroyed, no longer shown as held, with a decision and an event of its own.
	if gone, err := w.samples.Decide(ctx, w.manager, smp.Accession, sample.DecideDestroy, "participant asked"); err != nil || gone.Status != sample.Destroyed || gone.Hold {
		t.Fatalf("destroy %s: %s hold %v, %v", smp.Accession, gone.Status, gone.Hold, err)
	}
	for _, a := range []string{smp.Accession, kid.Accession} {
		if s := w.mustGet(t, a); s.Status != sample.Destroyed || s.Hold {
			t.Errorf("%s after the decision: %s, hold %v", a, s.Status, s.Hold)
		}
		if n := w.auditCount(t, "sample.consent_decision", a); n != 1 {
			t.Errorf("%s: %d consent_decision events", a, n)
		}
	}
	var decisions []string
	if err := w.db.Gorm.Raw("SELECT decision || ':' || reason FROM consent_decisions ORDER BY id").Scan(&decisions).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(decisions, ",") != "destroy:participant asked,destroy:participant asked (decided for "+smp.Accession+")" {
		t.Errorf("consent decisions %v", decisions)
	}
	// A destroyed sample has nothing left to decide, and leaves the consent-actions list.
	_, err = w.samples.Decide(ctx, w.manager, smp.Accession, sample.DecideDestroy, "again")
	if err == nil {
		t.Error("decided twice on a destroyed sample")
	}
	if rows, _, err := w.samples.ConsentHeld(ctx, w.manager, 0); err != nil || len(rows) != 0 {
		t.Errorf("consent actions list after every decision: %d rows %v, want none", len(rows), err)
	}
}

func TestConsentHeld_ListsOnlySamplesAwaitingADecision(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	var tubes []sample.Sample
	for i := 0; i < 4; i++ {
		tubes = append(tubes, w.mustReceived(t, "whole_blood", "PED", "4"))
	}
	if _, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "letter", Tiers: []string{"sharing"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.samples.Decide(ctx, w.manager, tubes[0].Accession, sample.DecideDestroy, "participant asked"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.samples.Decide(ctx, w.manager, tubes[1].Accession, sample.DecideKeep, "storage still granted"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.samples.End(ctx, w.manager, tubes[2].Accession, sample.ActLose, "not found in its box"); err != nil {
		t.Fatal(err)
	}
	rows, _, err := w.samples.ConsentHeld(ctx, w.manager, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Accession != tubes[3].Accession {
		var got []string
		for _, r := range rows {
			got = append(got, r.Accession+" "+string(r.Status))
		}
		t.Errorf("consent actions list %v, want only %s", got, tubes[3].Accession)
	}
}

func TestEnd_DestroyingAConsentHeldSampleGoesThroughDecide(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	if _, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, consent.WithdrawInput{Reason: "letter", Tiers: []string{"genetic"}}); err != nil {
		t.Fatal(err)
	}
	before := w.tally(t)
	_, err := w.samples.End(ctx, w.manager, smp.Accession, sample.ActDestroy, "participant asked")
	if c := wantConflict(t, err, "consent_hold"); !strings.Contains(c.Message, "consent") {
		t.Errorf("message %q should point to the consent actions", c.Message)
	}
	w.unchanged(t, before)
	if s := w.mustGet(t, smp.Accession); s.Status != sample.Received {
		t.Errorf("status %s", s.Status)
	}
	kept, err := w.samples.Decide(ctx, w.manager, smp.Accession, sample.DecideKeep, "storage still granted")
	if err != nil || kept.Hold || kept.Status != sample.Received {
		t.Fatalf("keep: %+v %v", kept, err)
	}
}

func endNeedsReasonAndRefusesTerminalSamples(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	before := w.tally(t)
	_, err := w.samples.End(ctx, w.manager, smp.Accession, sample.ActDestroy, "  ")
	wantValidation(t, err, "reason")
	_, err = w.samples.End(ctx, w.manager, smp.Accession, sample.ActReceive, "why")
	wantValidation(t, err, "action")
	_, err = w.samples.End(ctx, w.nurse, smp.Accession, sample.ActLose, "dropped")
	wantForbidden(t, err)
	_, err = w.samples.End(ctx, w.tech2, smp.Accession, sample.ActLose, "dropped")
	wantForbidden(t, err)
	w.unchanged(t, before)

	cases := []struct {
		action sample.Action
		want   sample.Status
		event  string
	}{
		{sample.ActConsume, sample.Consumed, "sample.consume"},
		{sample.ActDestroy, sample.Destroyed, "sample.destroy"},
		{sample.ActLose, sample.Lost, "sample.lose"},
	}
	for _, c := range cases {
		t.Run(string(c.want), func(t *testing.T) {
			s := w.mustReceived(t, "whole_blood", "PED", "4")
			ended, err := w.samples.End(ctx, w.manager, s.Accession, c.action, "reason for "+string(c.action))
			if err != nil || ended.Status != c.want {
				t.Fatalf("end: %s %v", ended.Status, err)
			}
			if n := w.auditCount(t, c.event, s.Accession); n != 1 {
				t.Errorf("%d %s events", n, c.event)
			}
			before := w.tally(t)
			for _, again := range []sample.Action{sample.ActConsume, sample.ActDestroy, sample.ActLose} {
				_, err := w.samples.End(ctx, w.manager, s.Accession, again, "again")
				if c := wantConflict(t, err, "wrong_status"); !strings.Contains(c.Message, "life has ended") {
					t.Errorf("message %q", c.Message)
				}
			}
			_, err = w.samples.Quarantine(ctx, w.manager, s.Accession, "too late")
			wantConflict(t, err, "wrong_status")
			w.unchanged(t, before)
		})
	}
}
