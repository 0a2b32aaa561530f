package sprec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"biobank/internal/sprec"
)

// t0 is the collection time of every test sample.
var t0 = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// at returns the moment d after collection.
func at(d time.Duration) *time.Time { return ptr(t0.Add(d)) }

// spin returns a fully recorded centrifugation.
func spin(temp sprec.Temperature, g, minutes int, brake bool) *sprec.Spin {
	return &sprec.Spin{Temp: temp, G: &g, Minutes: &minutes, Brake: &brake}
}

// noSpin is a recorded absence of centrifugation.
func noSpin() *sprec.Spin { return &sprec.Spin{None: true} }

// workedSerum is the first worked example of STANDARDS.md §1, every fact recorded: serum in
// an SST, clotted 1 h at room temperature, 10 min at 2000 g at room temperature with brake,
// frozen 30 min later at room temperature, in a 0.5 mL polypropylene tube at −80 °C.
func workedSerum() sprec.Fluid {
	return sprec.Fluid{
		Type:                   "serum",
		PrimaryContainer:       "SST",
		CollectedAt:            at(0),
		ProcessingStartedAt:    at(time.Hour),
		PreCentrifugationTemp:  sprec.TempRoom,
		Centrifugation:         spin(sprec.TempRoom, 2000, 10, true),
		SecondCentrifugation:   noSpin(),
		CentrifugationEndedAt:  at(time.Hour + 10*time.Minute),
		FrozenAt:               at(time.Hour + 40*time.Minute),
		PostCentrifugationTemp: sprec.TempRoom,
		LongTermStorage:        sprec.Storage{Container: sprec.ContainerPolypropyleneTube, Temperature: sprec.StoreMinus80},
	}
}

const workedSerumCode = "SER-SST-A-B-N-B-A"

// workedFFPE is the second worked example: formalin-fixed paraffin-embedded tissue from a
// surgical excision, warm ischaemia unknown, 15 min cold ischaemia, 12 h in neutral
// buffered formalin, block kept at room temperature.
func workedFFPE() sprec.Solid {
	return sprec.Solid{
		Type:            "tissue",
		Collection:      "SRG",
		ColdIschaemia:   sprec.Known(15 * time.Minute),
		FixationType:    "NBF",
		FixationTime:    sprec.Known(12 * time.Hour),
		LongTermStorage: sprec.Storage{Container: sprec.ContainerParaffinBlock, Temperature: sprec.StoreRoomOrCold},
	}
}

const workedFFPECode = "TIS-SRG-X-C-NBF-E-P"

// Element positions in a code.
const (
	elType = iota
	elContainer
	elPre
	elSpin
	elSecondSpin
	elPost
	elStorage
)

// Positions in a solid code.
const (
	elCollection = 1
	elWarm       = 2
	elCold       = 3
	elFixType    = 4
	elFixTime    = 5
)

// mustFluid computes a fluid code and fails the test on an error.
func mustFluid(tb testing.TB, f sprec.Fluid) string {
	tb.Helper()
	code, err := sprec.FluidCode(f)
	if err != nil {
		tb.Fatalf("FluidCode: unexpected error %v", err)
	}
	return code
}

// mustSolid computes a solid code and fails the test on an error.
func mustSolid(tb testing.TB, s sprec.Solid) string {
	tb.Helper()
	code, err := sprec.SolidCode(s)
	if err != nil {
		tb.Fatalf("SolidCode: unexpected error %v", err)
	}
	return code
}

// element returns element i of a seven-element code, failing on any other shape.
func element(tb testing.TB, code string, i int) string {
	tb.Helper()
	parts := strings.Split(code, "-")
	if len(parts) != 7 {
		tb.Fatalf("code %q has %d elements, want 7", code, len(parts))
	}
	return parts[i]
}

// wantInputError checks that err is an *InputError for field and that code is empty.
func wantInputError(tb testing.TB, code string, err error, field string) {
	tb.Helper()
	var ie *sprec.InputError
	if !errors.As(err, &ie) {
		tb.Fatalf("got code %q, error %v; want an *InputError for %s", code, err, field)
	}
	if ie.Field != field {
		tb.Errorf("error field = %q, want %q (message %q)", ie.Field, field, ie.Message)
	}
	if ie.Message == "" || strings.Contains(ie.Message, "%!") {
		tb.Errorf("error message %q is not a sentence for a person", ie.Message)
	}
	if code != "" {
		tb.Errorf("code = %q alongside an error, want empty", code)
	}
}
