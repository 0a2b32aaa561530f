package sample_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/sample"
)

// TestAliquot checks splitting a parent into aliquots and derivatives, and what is refused.
func TestAliquot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runScenarios(t, w,
		scenario{"CountOutOfRangeRefused", aliquotCountOutOfRangeRefused},
		scenario{"BadVolumeOrTypeRefused", aliquotBadVolumeOrTypeRefused},
		scenario{"RefusesMoreThanRemainingVolume", aliquotRefusesMoreThanRemainingVolume},
		scenario{"ExactlyTheRemainingVolumeConsumesTheParent", aliquotExactlyTheRemainingVolumeConsumesTheParent},
		scenario{"DerivativeInMicrogramsNeedsInputVolume", aliquotDerivativeInMicrogramsNeedsInputVolume},
		scenario{"HeldParentRefused", aliquotHeldParentRefused},
		scenario{"NotBeforeReceiptNorByAnotherSite", aliquotNotBeforeReceiptNorByAnotherSite},
	)
}

func aliquotCountOutOfRangeRefused(t *testing.T, w world) {
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "9")
	for _, n := range []int{0, -1, sample.MaxAliquots + 1} {
		before := w.tally(t)
		_, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, sample.Split{Count: n, Volume: dec("0.01")})
		wantValidation(t, err, "count")
		w.unchanged(t, before)
	}
	// The bounds themselves are allowed: 200 aliquots of 0.01 mL.
	if kids := w.mustAliquot(t, parent.Accession, sample.Split{Count: sample.MaxAliquots, Volume: dec("0.01")}); len(kids) != sample.MaxAliquots {
		t.Errorf("%d aliquots, want %d", len(kids), sample.MaxAliquots)
	}
	if got := w.mustGet(t, parent.Accession); !got.Volume.Equal(dec("7")) {
		t.Errorf("parent has %s mL, want 7", got.Volume)
	}
}

func aliquotBadVolumeOrTypeRefused(t *testing.T, w world) {
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "9")
	cases := []struct {
		name  string
		in    sample.Split
		field string
	}{
		{"zero volume", sample.Split{Count: 2, Volume: dec("0")}, "volume"},
		{"negative volume", sample.Split{Count: 2, Volume: dec("-0.5")}, "volume"},
		{"unknown unit", sample.Split{Count: 2, Volume: dec("0.5"), Unit: "drops"}, "volume"},
		{"unknown type", sample.Split{Count: 2, Volume: dec("0.5"), SpecimenType: "ichor"}, "specimen_type"},
		{"unknown container", sample.Split{Count: 2, Volume: dec("0.5"), Container: "BUCKET"}, "container"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := w.tally(t)
			_, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, c.in)
			wantValidation(t, err, c.field)
			w.unchanged(t, before)
		})
	}
	if got := w.mustGet(t, parent.Accession); !got.Volume.Equal(dec("9")) {
		t.Errorf("parent has %s mL after refusals, want 9", got.Volume)
	}
}

func aliquotRefusesMoreThanRemainingVolume(t *testing.T, w world) {
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "3")
	w.mustAliquot(t, parent.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	before := w.tally(t)
	_, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, sample.Split{Count: 5, Volume: dec("0.5")})
	c := wantConflict(t, err, "insufficient_volume")
	if !strings.Contains(c.Message, parent.Accession) || !strings.Contains(c.Message, "2") || !strings.Contains(c.Message, "2.5") {
		t.Errorf("message %q should say what is left (2 mL) and what was asked (2.5 mL)", c.Message)
	}
	_, err = w.samples.Aliquot(ctx, w.tech, parent.Accession, sample.Split{Count: 1, Volume: dec("2001"), Unit: "µL"})
	wantConflict(t, err, "insufficient_volume")
	w.unchanged(t, before)
	if got := w.mustGet(t, parent.Accession); !got.Volume.Equal(dec("2")) || got.Status != sample.Received {
		t.Errorf("parent %s %s after refusal, want 2 mL received", got.Volume, got.Status)
	}
}

func aliquotExactlyTheRemainingVolumeConsumesTheParent(t *testing.T, w world) {
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "3")
	w.mustAliquot(t, parent.Accession, sample.Split{Count: 1, Volume: dec("0.75")})
	kids := w.mustAliquot(t, parent.Accession, sample.Split{Count: 3, Volume: dec("0.75"), SpecimenType: "plasma"})
	got := w.mustGet(t, parent.Accession)
	if !got.Volume.IsZero() || got.Status != sample.Consumed {
		t.Fatalf("parent %s mL %s, want 0 and consumed", got.Volume, got.Status)
	}
	if !got.InitialVolume.Equal(dec("3")) || len(got.Children) != 4 {
		t.Errorf("parent initial %s, %d children", got.InitialVolume, len(got.Children))
	}
	for _, k := range kids {
		if k.Status != sample.Received || k.ParentID == nil || *k.ParentID != got.ID || !k.Volume.Equal(dec("0.75")) {
			t.Errorf("child %+v", k)
		}
	}
	// Nothing more can be taken from it: it says so as for any split asking too much.
	before := w.tally(t)
	_, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, sample.Split{Count: 1, Volume: dec("0.1")})
	wantConflict(t, err, "insufficient_volume")
	w.unchanged(t, before)
}

func aliquotDerivativeInMicrogramsNeedsInputVolume(t *testing.T, w world) {
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "4")
	dna := sample.Split{Count: 2, Volume: dec("15.5"), Unit: "µg", SpecimenType: "dna"}
	before := w.tally(t)
	_, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, dna)
	if v := wantValidation(t, err, "input_volume"); !strings.Contains(v.Message, parent.Accession) {
		t.Errorf("message %q should name the parent", v.Message)
	}
	bad := dec("0")
	dna.InputVolume = &bad
	_, err = w.samples.Aliquot(ctx, w.tech, parent.Accession, dna)
	wantValidation(t, err, "input_volume")
	tooMuch := dec("4.5")
	dna.InputVolume = &tooMuch
	_, err = w.samples.Aliquot(ctx, w.tech, parent.Accession, dna)
	wantConflict(t, err, "insufficient_volume")
	w.unchanged(t, before)

	used := dec("0.4")
	dna.InputVolume = &used
	kids, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, dna)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if k.SpecimenType != "dna" || k.Unit != "µg" || !k.Volume.Equal(dec("15.5")) || k.SPREC != "" || k.SPRECVersion != "" {
			t.Errorf("derivative %s %s %s SPREC %q", k.SpecimenType, k.Volume, k.Unit, k.SPREC)
		}
	}
	if got := w.mustGet(t, parent.Accession); !got.Volume.Equal(dec("3.6")) || got.Unit != "mL" {
		t.Errorf("parent %s %s, want 3.6 mL (the input volume taken, not the yield)", got.Volume, got.Unit)
	}
	// In "ug" too, and the input volume may be given for a same-unit split (then ignored).
	ug := sample.Split{Count: 1, Volume: dec("3"), Unit: "ug", SpecimenType: "rna", InputVolume: &used}
	if k := w.mustAliquot(t, parent.Accession, ug); k[0].Unit != "µg" {
		t.Errorf("rna unit %q", k[0].Unit)
	}
	same := sample.Split{Count: 2, Volume: dec("0.5"), SpecimenType: "plasma", InputVolume: &used}
	w.mustAliquot(t, parent.Accession, same)
	if got := w.mustGet(t, parent.Accession); !got.Volume.Equal(dec("2.2")) {
		t.Errorf("parent %s mL, want 2.2", got.Volume)
	}
}

func aliquotHeldParentRefused(t *testing.T, w world) {
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "4")
	if _, err := w.samples.Quarantine(ctx, w.manager, parent.Accession, "clotted"); err != nil {
		t.Fatal(err)
	}
	before := w.tally(t)
	_, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	if c := wantConflict(t, err, "sample_on_hold"); !strings.Contains(c.Message, "clotted") {
		t.Errorf("message %q should give the hold's reason", c.Message)
	}
	w.unchanged(t, before)
	if _, err := w.samples.Release(ctx, w.manager, parent.Accession, "re-checked: fine"); err != nil {
		t.Fatal(err)
	}
	w.mustAliquot(t, parent.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
}

func aliquotNotBeforeReceiptNorByAnotherSite(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]
	before := w.tally(t)
	_, err := w.samples.Aliquot(ctx, w.tech, smp.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	wantConflict(t, err, "wrong_status")
	w.unchanged(t, before)
	if _, err := w.samples.Receive(ctx, w.tech, smp.Accession); err != nil {
		t.Fatal(err)
	}
	before = w.tally(t)
	_, err = w.samples.Aliquot(ctx, w.tech2, smp.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	wantForbidden(t, err)
	_, err = w.samples.Aliquot(ctx, w.nurse, smp.Accession, sample.Split{Count: 2, Volume: dec("0.5")})
	wantForbidden(t, err)
	w.unchanged(t, before)
}

func TestAliquot_ConcurrentSingleAliquotsEmptyTheParentExactly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	parent := w.mustReceived(t, "whole_blood", "PED", "5")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var made []sample.Sample
	var losers []error
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kids, err := w.samples.Aliquot(ctx, w.tech, parent.Accession, sample.Split{Count: 1, Volume: dec("0.5")})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				losers = append(losers, err)
				return
			}
			made = append(made, kids...)
		}()
	}
	wg.Wait()
	if len(made) != 10 || len(losers) != 10 {
		t.Fatalf("%d aliquots made and %d refused; want 10 and 10", len(made), len(losers))
	}
	for _, err := range losers {
		if c, ok := apperr.AsConflict(err); !ok || c.Code != "insufficient_volume" {
			t.Errorf("a loser got %v, want insufficient_volume", err)
		}
	}
	got := w.mustGet(t, parent.Accession)
	if !got.Volume.IsZero() || got.Status != sample.Consumed {
		t.Errorf("parent %s mL %s, want 0 and consumed", got.Volume, got.Status)
	}
	sum := decimal.Zero
	for _, c := range got.Children {
		sum = sum.Add(c.Volume)
	}
	if len(got.Children) != 10 || !sum.Equal(dec("5")) {
		t.Errorf("%d children holding %s mL; want 10 holding 5 mL", len(got.Children), sum)
	}
	var taken []string
	if err := w.db.Gorm.Raw("SELECT after->>'taken' FROM audit_events WHERE action = 'sample.aliquot' AND entity_id = ?", parent.Accession).
		Scan(&taken).Error; err != nil {
		t.Fatal(err)
	}
	total := decimal.Zero
	for _, s := range taken {
		total = total.Add(dec(s))
	}
	if len(taken) != 10 || !total.Equal(dec("5")) {
		t.Errorf("audit records %d splits taking %s mL, want 10 taking 5", len(taken), total)
	}
}
