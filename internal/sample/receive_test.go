package sample_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"biobank/internal/sample"
)

func warningCodes(r sample.Receipt) []string {
	var codes []string
	for _, w := range r.Warnings {
		codes = append(codes, w.Code)
	}
	return codes
}

// TestReceive checks receipt in the lab by scanning, and taking a mistaken receipt back.
func TestReceive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runScenarios(t, w,
		scenario{"MarksReceivedByWhomAndWhen", receiveMarksReceivedByWhomAndWhen},
		scenario{"RepeatScanChangesNothingAndWarns", receiveRepeatScanChangesNothingAndWarns},
		scenario{"LateReceiptWarns", receiveLateReceiptWarns},
		scenario{"HeldSampleIsReceivedWithAWarning", receiveHeldSampleIsReceivedWithAWarning},
		scenario{"TechnicianOfAnotherSiteIsForbidden", receiveTechnicianOfAnotherSiteIsForbidden},
		scenario{"UndoReceive_NeedsReasonReturnsToCollected", undoReceiveNeedsReasonReturnsToCollected},
		scenario{"UndoReceive_RefusedWhenAliquotsExist", undoReceiveRefusedWhenAliquotsExist},
	)
}

func receiveMarksReceivedByWhomAndWhen(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]
	start := time.Now()
	r, err := w.samples.Receive(ctx, w.tech, smp.Accession)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.Sample.Status != sample.Received || len(r.Warnings) != 0 {
		t.Fatalf("receipt %+v", r)
	}
	got := w.mustGet(t, smp.Accession)
	if got.Status != sample.Received || got.ReceivedAt == nil || got.ReceivedAt.Before(start.Add(-time.Second)) ||
		got.ReceivedBy == nil || *got.ReceivedBy != w.tech.UserID {
		t.Errorf("stored %s at %v by %v", got.Status, got.ReceivedAt, got.ReceivedBy)
	}
	if n := w.auditCount(t, "sample.receive", smp.Accession); n != 1 {
		t.Errorf("%d sample.receive events", n)
	}
}

func receiveRepeatScanChangesNothingAndWarns(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	first := w.mustGet(t, smp.Accession)
	before := w.tally(t)
	again, err := w.samples.Receive(ctx, w.tech, smp.Accession)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || strings.Join(warningCodes(again), ",") != "already_received" {
		t.Fatalf("repeat scan %+v", again)
	}
	if !strings.Contains(again.Warnings[0].Message, smp.Accession) {
		t.Errorf("warning %q does not name the sample", again.Warnings[0].Message)
	}
	w.unchanged(t, before)
	if got := w.mustGet(t, smp.Accession); !got.ReceivedAt.Equal(*first.ReceivedAt) || !got.UpdatedAt.Equal(first.UpdatedAt) {
		t.Errorf("repeat scan moved the receipt from %v to %v", first.ReceivedAt, got.ReceivedAt)
	}
}

func receiveLateReceiptWarns(t *testing.T, w world) {
	ctx := context.Background()
	onTime := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0] // collected 3 h ago
	late := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]

	r, err := w.samples.Receive(ctx, w.tech, onTime.Accession)
	if err != nil || len(r.Warnings) != 0 {
		t.Fatalf("receipt 3 h after collection: %+v %v", r, err)
	}
	// The lab clock is 22 h on: the second tube is received 25 h after collection.
	clock := w.samples.Now
	w.samples.Now = func() time.Time { return time.Now().UTC().Add(22 * time.Hour) }
	defer func() { w.samples.Now = clock }()
	r, err = w.samples.Receive(ctx, w.tech, late.Accession)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.Sample.Status != sample.Received || strings.Join(warningCodes(r), ",") != "late" {
		t.Fatalf("late receipt %+v", r)
	}
	if !strings.Contains(r.Warnings[0].Message, late.Accession) || !strings.Contains(r.Warnings[0].Message, "25h") {
		t.Errorf("warning %q should name the sample and the delay", r.Warnings[0].Message)
	}
}

func receiveHeldSampleIsReceivedWithAWarning(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]
	if _, err := w.samples.Quarantine(ctx, w.manager, smp.Accession, "tube leaked in transport"); err != nil {
		t.Fatal(err)
	}
	r, err := w.samples.Receive(ctx, w.tech, smp.Accession)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.Sample.Status != sample.Received || !r.Sample.Hold || strings.Join(warningCodes(r), ",") != "on_hold" {
		t.Fatalf("receipt of a held tube %+v", r)
	}
	if !strings.Contains(r.Warnings[0].Message, "tube leaked in transport") {
		t.Errorf("warning %q should give the hold's reason", r.Warnings[0].Message)
	}
}

func receiveTechnicianOfAnotherSiteIsForbidden(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]
	before := w.tally(t)
	_, err := w.samples.Receive(ctx, w.tech2, smp.Accession)
	wantForbidden(t, err)
	_, err = w.samples.Receive(ctx, w.nurse, smp.Accession)
	wantForbidden(t, err) // nurses register collections; the lab receives
	w.unchanged(t, before)
	if got := w.mustGet(t, smp.Accession); got.Status != sample.Collected || got.ReceivedAt != nil {
		t.Errorf("refused receipt changed the sample: %s", got.Status)
	}
}

func undoReceiveNeedsReasonReturnsToCollected(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")

	before := w.tally(t)
	_, err := w.samples.UndoReceive(ctx, w.tech, smp.Accession, "  ")
	if v := wantValidation(t, err, "reason"); v.Code != "reason_required" {
		t.Errorf("code %q", v.Code)
	}
	_, err = w.samples.UndoReceive(ctx, w.tech2, smp.Accession, "wrong tube")
	wantForbidden(t, err)
	w.unchanged(t, before)

	undone, err := w.samples.UndoReceive(ctx, w.tech, smp.Accession, "scanned the wrong rack")
	if err != nil {
		t.Fatal(err)
	}
	got := w.mustGet(t, smp.Accession)
	for _, s := range []sample.Sample{undone, got} {
		if s.Status != sample.Collected || s.ReceivedAt != nil || s.ReceivedBy != nil {
			t.Errorf("after undo: %s received %v by %v", s.Status, s.ReceivedAt, s.ReceivedBy)
		}
	}
	if n := w.auditCount(t, "sample.undo_receive", smp.Accession); n != 1 {
		t.Errorf("%d sample.undo_receive events", n)
	}
	// A collected tube has no receipt to take back.
	_, err = w.samples.UndoReceive(ctx, w.tech, smp.Accession, "again")
	wantConflict(t, err, "wrong_status")
	// And it can be received again.
	if r, err := w.samples.Receive(ctx, w.tech, smp.Accession); err != nil || !r.Changed {
		t.Fatalf("receive after undo: %+v %v", r, err)
	}
}

func undoReceiveRefusedWhenAliquotsExist(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "whole_blood", "PED", "4")
	kids := w.mustAliquot(t, smp.Accession, sample.Split{Count: 2, Volume: dec("0.5"), SpecimenType: "plasma"})
	before := w.tally(t)
	_, err := w.samples.UndoReceive(ctx, w.tech, smp.Accession, "scanned the wrong rack")
	wantConflict(t, err, "has_aliquots")
	_, err = w.samples.UndoReceive(ctx, w.tech, kids[0].Accession, "scanned the wrong rack")
	wantConflict(t, err, "not_a_primary_tube")
	w.unchanged(t, before)
	if got := w.mustGet(t, smp.Accession); got.Status != sample.Received || got.ReceivedAt == nil {
		t.Errorf("refused undo changed the parent: %s", got.Status)
	}
}
