package sample_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"biobank/internal/sample"
	"biobank/internal/sprec"
)

// workedSerum is the processing of STANDARDS.md's worked serum example for a tube collected
// at collected: clotted 1 h at room temperature, 10 min at 2000 g at room temperature with
// brake, frozen 30 min later at room temperature, 0.5 mL polypropylene tube at −80 °C.
func workedSerum(collected time.Time) sample.Processing {
	started := collected.Add(time.Hour)
	ended := started.Add(10 * time.Minute)
	frozen := ended.Add(30 * time.Minute)
	g, m, brake := 2000, 10, true
	return sample.Processing{StartedAt: &started, PreCentrifugationTemp: sprec.TempRoom,
		Centrifugation:       &sample.Spin{Temp: sprec.TempRoom, G: &g, Minutes: &m, Brake: &brake},
		SecondCentrifugation: &sample.Spin{None: true}, CentrifugationEndedAt: &ended, FrozenAt: &frozen,
		PostCentrifugationTemp: sprec.TempRoom, StorageContainer: sprec.ContainerPolypropyleneTube,
		StorageTemperature: sprec.StoreMinus80}
}

// TestRecordProcessing checks the pre-analytical record and the SPREC code computed from it.
func TestRecordProcessing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runScenarios(t, w,
		scenario{"WorkedSerumExample", recordProcessingWorkedSerumExample},
		scenario{"MissingFactsGiveX", recordProcessingMissingFactsGiveX},
		scenario{"TimesOutOfOrderRefused", recordProcessingTimesOutOfOrderRefused},
		scenario{"RefusedBeforeReceiptAndToOtherSites", recordProcessingRefusedBeforeReceiptAndToOtherSites},
		scenario{"Aliquot_InheritsProcessingAndPrimaryContainer", aliquotInheritsProcessingAndPrimaryContainer},
	)
}

func recordProcessingWorkedSerumExample(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "serum", "SST", "5")
	got, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, workedSerum(smp.CollectedAt))
	if err != nil {
		t.Fatal(err)
	}
	stored := w.mustGet(t, smp.Accession)
	for _, s := range []sample.Sample{got, stored} {
		if s.SPREC != "SER-SST-A-B-N-B-A" || s.SPRECVersion != "2.0" {
			t.Errorf("SPREC %q version %q, want SER-SST-A-B-N-B-A version 2.0", s.SPREC, s.SPRECVersion)
		}
	}
	if stored.Status != sample.Received {
		t.Errorf("processing changed the status to %s", stored.Status)
	}
	if n := w.auditCount(t, "sample.process", smp.Accession); n != 1 {
		t.Errorf("%d sample.process events", n)
	}
}

func recordProcessingMissingFactsGiveX(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "serum", "SST", "5")
	if smp.SPREC != "SER-SST-X-X-X-X-X" || smp.SPRECVersion != "2.0" {
		t.Errorf("at collection: SPREC %q version %q, want SER-SST-X-X-X-X-X", smp.SPREC, smp.SPRECVersion)
	}
	full := workedSerum(smp.CollectedAt)
	cases := []struct {
		name   string
		forget func(*sample.Processing)
		want   string
	}{
		{"start time", func(p *sample.Processing) { p.StartedAt = nil }, "SER-SST-X-B-N-B-A"},
		{"pre-centrifugation temperature", func(p *sample.Processing) { p.PreCentrifugationTemp = sprec.TempUnknown }, "SER-SST-X-B-N-B-A"},
		{"spin speed", func(p *sample.Processing) { p.Centrifugation.G = nil }, "SER-SST-A-X-N-B-A"},
		{"second spin", func(p *sample.Processing) { p.SecondCentrifugation = nil }, "SER-SST-A-B-X-B-A"},
		{"freezing time", func(p *sample.Processing) { p.FrozenAt = nil }, "SER-SST-A-B-N-X-A"},
		{"storage temperature", func(p *sample.Processing) { p.StorageTemperature = sprec.StoreUnknown }, "SER-SST-A-B-N-B-X"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := full
			spin := *full.Centrifugation
			p.Centrifugation = &spin
			c.forget(&p)
			p.Reason = "test: the same record with one fact left out" // a correction after the first
			got, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, p)
			if err != nil {
				t.Fatal(err)
			}
			if got.SPREC != c.want {
				t.Errorf("SPREC %q, want %q", got.SPREC, c.want)
			}
		})
	}
}

func recordProcessingTimesOutOfOrderRefused(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustReceived(t, "serum", "SST", "5")
	at := func(d time.Duration) *time.Time { x := smp.CollectedAt.Add(d); return &x }
	cases := []struct {
		name  string
		edit  func(*sample.Processing)
		field string
	}{
		{"frozen before collected", func(p *sample.Processing) { p.FrozenAt = at(-time.Minute) }, "frozen_at"},
		{"processing before collection", func(p *sample.Processing) { p.StartedAt = at(-10 * time.Minute) }, "started_at"},
		{"frozen before the spin ended", func(p *sample.Processing) { p.FrozenAt = at(65 * time.Minute) }, "frozen_at"},
		{"spin ended before processing started", func(p *sample.Processing) { p.CentrifugationEndedAt = at(50 * time.Minute) }, "centrifugation_ended_at"},
		{"frozen in the future", func(p *sample.Processing) { p.FrozenAt = at(48 * time.Hour) }, "frozen_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := workedSerum(smp.CollectedAt)
			c.edit(&p)
			before := w.tally(t)
			_, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, p)
			wantValidation(t, err, c.field)
			w.unchanged(t, before)
			if got := w.mustGet(t, smp.Accession); got.SPREC != "SER-SST-X-X-X-X-X" || string(got.Processing) != "{}" {
				t.Errorf("refused processing stored %s %s", got.SPREC, got.Processing)
			}
		})
	}
}

func recordProcessingRefusedBeforeReceiptAndToOtherSites(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("serum", "SST", "5")))[0]
	before := w.tally(t)
	_, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, workedSerum(smp.CollectedAt))
	if c := wantConflict(t, err, "wrong_status"); !strings.Contains(c.Message, "collected") || !strings.Contains(c.Message, "receive") {
		t.Errorf("message %q should say it is collected and must be received", c.Message)
	}
	w.unchanged(t, before)
	if _, err := w.samples.Receive(ctx, w.tech, smp.Accession); err != nil {
		t.Fatal(err)
	}
	before = w.tally(t)
	_, err = w.samples.RecordProcessing(ctx, w.tech2, smp.Accession, workedSerum(smp.CollectedAt))
	wantForbidden(t, err)
	w.unchanged(t, before)
}

func aliquotInheritsProcessingAndPrimaryContainer(t *testing.T, w world) {
	ctx := context.Background()
	blood := w.mustReceived(t, "whole_blood", "PED", "9")
	// A plasma aliquot before processing is recorded knows only its type and primary tube.
	early := w.mustAliquot(t, blood.Accession, sample.Split{Count: 1, Volume: dec("0.5"), SpecimenType: "plasma"})
	if early[0].SPREC != "PL1-PED-X-X-X-X-X" {
		t.Errorf("aliquot before processing: SPREC %q", early[0].SPREC)
	}
	p := workedSerum(blood.CollectedAt)
	if _, err := w.samples.RecordProcessing(ctx, w.tech, blood.Accession, p); err != nil {
		t.Fatal(err)
	}
	kids := w.mustAliquot(t, blood.Accession, sample.Split{Count: 3, Volume: dec("0.5"), SpecimenType: "plasma"})
	for _, k := range kids {
		if k.SPREC != "PL1-PED-A-B-N-B-A" || k.SPRECVersion != "2.0" || k.Container != "CRY" {
			t.Errorf("aliquot %s: SPREC %q version %q container %s", k.Accession, k.SPREC, k.SPRECVersion, k.Container)
		}
		if got := w.mustGet(t, k.Accession); got.SPREC != k.SPREC {
			t.Errorf("stored SPREC %q", got.SPREC)
		}
	}
	// A grandchild, and reprocessing an aliquot, still name the primary tube, not the cryovial.
	grand := w.mustAliquot(t, kids[0].Accession, sample.Split{Count: 2, Volume: dec("0.2")})
	if grand[0].SPREC != "PL1-PED-A-B-N-B-A" || grand[0].SpecimenType != "plasma" {
		t.Errorf("grandchild %s SPREC %q", grand[0].SpecimenType, grand[0].SPREC)
	}
	p.StorageTemperature = sprec.StoreMinus20
	p.Reason = "stored at −20 °C, not −80 °C" // the aliquot's inherited record is corrected
	again, err := w.samples.RecordProcessing(ctx, w.tech, kids[1].Accession, p)
	if err != nil {
		t.Fatal(err)
	}
	if again.SPREC != "PL1-PED-A-B-N-B-B" {
		t.Errorf("reprocessed aliquot SPREC %q, want PL1-PED-A-B-N-B-B", again.SPREC)
	}
	// Serum aliquots of the worked example keep SST.
	serum := w.mustReceived(t, "serum", "SST", "5")
	if _, err := w.samples.RecordProcessing(ctx, w.tech, serum.Accession, workedSerum(serum.CollectedAt)); err != nil {
		t.Fatal(err)
	}
	sk := w.mustAliquot(t, serum.Accession, sample.Split{Count: 2, Volume: dec("500"), Unit: "µL"})
	if sk[0].SPREC != "SER-SST-A-B-N-B-A" || !sk[0].Volume.Equal(dec("0.5")) || sk[0].Unit != "mL" {
		t.Errorf("serum aliquot %s %s SPREC %q", sk[0].Volume, sk[0].Unit, sk[0].SPREC)
	}
}

func TestRecordProcessing_LaterRecordReachesInheritingAliquots(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	parent := w.mustReceived(t, "serum", "SST", "5")
	kids := w.mustAliquot(t, parent.Accession, sample.Split{Count: 3, Volume: dec("0.5")})
	if kids[0].SPREC != "SER-SST-X-X-X-X-X" {
		t.Fatalf("an aliquot made before processing was recorded has SPREC %q", kids[0].SPREC)
	}
	// One aliquot gets a record of its own; it must keep it.
	own := workedSerum(parent.CollectedAt)
	own.PreCentrifugationTemp = sprec.TempCold
	if _, err := w.samples.RecordProcessing(ctx, w.tech, kids[2].Accession, own); err != nil {
		t.Fatal(err)
	}
	ownCode := w.mustGet(t, kids[2].Accession).SPREC

	if _, err := w.samples.RecordProcessing(ctx, w.tech, parent.Accession, workedSerum(parent.CollectedAt)); err != nil {
		t.Fatal(err)
	}
	for _, k := range kids[:2] {
		got := w.mustGet(t, k.Accession)
		if got.SPREC != "SER-SST-A-B-N-B-A" {
			t.Errorf("inheriting aliquot %s has SPREC %q, want the parent's SER-SST-A-B-N-B-A", k.Accession, got.SPREC)
		}
		if n := w.auditCount(t, "sample.process", k.Accession); n != 1 {
			t.Errorf("aliquot %s has %d sample.process events, want 1", k.Accession, n)
		}
	}
	if got := w.mustGet(t, kids[2].Accession).SPREC; got != ownCode || got == "SER-SST-A-B-N-B-A" {
		t.Errorf("the aliquot with its own record now has SPREC %q, want its own %q", got, ownCode)
	}
}

// TestRecordProcessing_RefusesAnEmptyRecordAndAnUnexplainedCorrection: a request with no
// facts would erase what is recorded, and replacing recorded facts is a correction that
// needs a reason; both are refused and write nothing. With a reason, the correction is
// made and the reason is in the audit event.
func TestRecordProcessing_RefusesAnEmptyRecordAndAnUnexplainedCorrection(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	smp := w.mustReceived(t, "serum", "SST", "5")
	before := w.tally(t)
	_, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, sample.Processing{})
	wantValidation(t, err, "processing")
	_, err = w.samples.RecordProcessing(ctx, w.tech, smp.Accession, sample.Processing{PrimaryContainer: "SST", Reason: "why not"})
	wantValidation(t, err, "processing")
	w.unchanged(t, before)

	if _, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, workedSerum(smp.CollectedAt)); err != nil {
		t.Fatal(err)
	}
	recorded := w.mustGet(t, smp.Accession)
	before = w.tally(t)
	_, err = w.samples.RecordProcessing(ctx, w.tech, smp.Accession, sample.Processing{})
	wantValidation(t, err, "processing")
	changed := workedSerum(smp.CollectedAt)
	changed.PreCentrifugationTemp = sprec.TempCold
	_, err = w.samples.RecordProcessing(ctx, w.tech, smp.Accession, changed)
	if v := wantValidation(t, err, "reason"); v.Code != "reason_required" {
		t.Errorf("code %q, want reason_required", v.Code)
	}
	w.unchanged(t, before)
	if got := w.mustGet(t, smp.Accession); got.SPREC != recorded.SPREC || string(got.Processing) != string(recorded.Processing) {
		t.Errorf("refused corrections changed the record: %s %s", got.SPREC, got.Processing)
	}

	changed.Reason = "kept on ice, not at room temperature"
	got, err := w.samples.RecordProcessing(ctx, w.tech, smp.Accession, changed)
	if err != nil {
		t.Fatal(err)
	}
	if got.SPREC == recorded.SPREC || strings.Contains(string(got.Processing), "reason") {
		t.Errorf("correction: SPREC %q (was %q), record %s", got.SPREC, recorded.SPREC, got.Processing)
	}
	var reason string
	if err := w.db.Gorm.Raw("SELECT reason FROM audit_events WHERE action = 'sample.process' AND entity_id = ? ORDER BY seq DESC LIMIT 1",
		smp.Accession).Scan(&reason).Error; err != nil || reason != changed.Reason {
		t.Errorf("audit reason %q (%v), want %q", reason, err, changed.Reason)
	}
}
