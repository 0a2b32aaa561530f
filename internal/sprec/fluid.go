package sprec

import (
	"fmt"
	"strings"
	"time"
)

// Fluid is what was recorded about a fluid sample (blood and its fractions, CSF, stool,
// urine, saliva). Zero values mean unknown; see the package comment.
type Fluid struct {
	// Type is the LIMS specimen type: whole_blood, serum, plasma, buffy_coat, pbmc, csf,
	// stool, urine, saliva.
	Type string
	// PlasmaDoubleSpun says plasma was spun a second time (PL2) rather than once (PL1).
	PlasmaDoubleSpun bool
	// BuffyViable says a buffy coat was kept viable (BUF) or not (BFF); nil is unknown.
	BuffyViable *bool
	// UrineKind says which urine a urine sample is.
	UrineKind UrineKind

	// PrimaryContainer is the LIMS container code of the collection tube (PED, SST, …).
	PrimaryContainer string

	// CollectedAt is when the sample was drawn or collected.
	CollectedAt *time.Time
	// ProcessingStartedAt is when processing (centrifugation, or for a sample that is not
	// spun, aliquoting or freezing) started.
	ProcessingStartedAt *time.Time
	// PreCentrifugationTemp is the temperature between collection and processing.
	PreCentrifugationTemp Temperature

	// Centrifugation is the first spin; nil is unknown.
	Centrifugation *Spin
	// SecondCentrifugation is the second spin; nil is unknown, except that a sample not
	// spun at all cannot have had a second spin.
	SecondCentrifugation *Spin
	// CentrifugationEndedAt is when the last centrifugation ended.
	CentrifugationEndedAt *time.Time

	// FrozenAt is when the sample (or its aliquots) went into the freezer.
	FrozenAt *time.Time
	// PostCentrifugationTemp is the temperature between the end of centrifugation and
	// freezing.
	PostCentrifugationTemp Temperature

	// LongTermStorage is how the sample is kept.
	LongTermStorage Storage
}

// FluidCode returns the SPREC code of a fluid sample: seven elements joined by hyphens, for
// example "SER-SST-A-B-N-B-A". Missing facts give X in the elements that need them; the
// error is an *InputError, returned only when the facts contradict each other.
func FluidCode(f Fluid) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	typ, _ := fluidType(f) // Validate has refused the error case.
	return strings.Join([]string{
		typ,
		primaryContainer(f.PrimaryContainer),
		preCentrifugation(f),
		firstCentrifugation(f),
		secondCentrifugation(f),
		postCentrifugation(f),
		storageCode(f.LongTermStorage),
	}, "-"), nil
}

// Validate returns an *InputError when the recorded facts contradict each other or cannot be
// true: times out of order, a solid specimen type, an impossible spin, plasma whose type and
// second spin disagree. Missing facts are not errors.
func (f Fluid) Validate() error {
	if _, err := fluidType(f); err != nil {
		return err
	}
	if f.UrineKind < 0 || int(f.UrineKind) >= len(urineText) {
		return inputError("urine_kind", "The kind of urine is not one the LIMS knows.")
	}
	for _, t := range []struct {
		field string
		temp  Temperature
	}{{"pre_centrifugation_temp", f.PreCentrifugationTemp}, {"post_centrifugation_temp", f.PostCentrifugationTemp}} {
		if t.temp < 0 || int(t.temp) >= len(temperatureText) {
			return inputError(t.field, "The temperature is not one the LIMS knows.")
		}
	}
	if err := f.Centrifugation.validate("centrifugation"); err != nil {
		return err
	}
	if err := f.SecondCentrifugation.validate("second_centrifugation"); err != nil {
		return err
	}
	if err := f.LongTermStorage.validate(); err != nil {
		return err
	}
	notSpun := f.Centrifugation != nil && f.Centrifugation.None
	if notSpun && f.SecondCentrifugation != nil && !f.SecondCentrifugation.None {
		return inputError("second_centrifugation", "A second centrifugation is recorded, but the sample is recorded as not centrifuged.")
	}
	if notSpun && f.CentrifugationEndedAt != nil {
		return inputError("centrifugation_ended_at", "A centrifugation end time is recorded, but the sample is recorded as not centrifuged.")
	}
	if norm(f.Type) == "PLASMA" {
		if f.PlasmaDoubleSpun && (notSpun || f.SecondCentrifugation != nil && f.SecondCentrifugation.None) {
			return inputError("second_centrifugation", "The plasma is recorded as double spun, but no second centrifugation is recorded.")
		}
		if !f.PlasmaDoubleSpun && f.SecondCentrifugation != nil && !f.SecondCentrifugation.None {
			return inputError("second_centrifugation", "A second centrifugation is recorded, but the plasma is recorded as single spun.")
		}
	}
	return timesInOrder([]event{
		{"collected_at", "the sample was collected", f.CollectedAt},
		{"processing_started_at", "processing started", f.ProcessingStartedAt},
		{"centrifugation_ended_at", "centrifugation ended", f.CentrifugationEndedAt},
		{"frozen_at", "the sample was frozen", f.FrozenAt},
	})
}

// event is one recorded moment of processing, in the order they must happen.
type event struct {
	field  string
	phrase string
	at     *time.Time
}

// timesInOrder refuses any recorded event earlier than a recorded event that must precede
// it, comparing every pair so that a gap (an unrecorded time between two) hides nothing.
func timesInOrder(events []event) error {
	for j, later := range events {
		for _, earlier := range events[:j] {
			if later.at == nil || earlier.at == nil || !later.at.Before(*earlier.at) {
				continue
			}
			return inputError(later.field, fmt.Sprintf("The times are out of order: %s at %s, before %s at %s.",
				later.phrase, stamp(*later.at), earlier.phrase, stamp(*earlier.at)))
		}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// fluidType is the type element; a solid specimen type is an error.
func fluidType(f Fluid) (string, error) {
	switch strings.ToLower(strings.TrimSpace(f.Type)) {
	case "":
		return unknown3, nil
	case "whole_blood":
		return "BLD", nil
	case "serum":
		return "SER", nil
	case "plasma":
		if f.PlasmaDoubleSpun {
			return "PL2", nil
		}
		return "PL1", nil
	case "buffy_coat":
		switch {
		case f.BuffyViable == nil:
			return unknown3, nil
		case *f.BuffyViable:
			return "BUF", nil
		default:
			return "BFF", nil
		}
	case "pbmc":
		return "CEL", nil
	case "csf":
		return "CSF", nil
	case "stool":
		return "STL", nil
	case "urine":
		switch f.UrineKind {
		case UrineSpot:
			return "URN", nil
		case UrineFirstMorning:
			return "URM", nil
		case Urine24h:
			return "U24", nil
		default:
			return unknown3, nil
		}
	case "saliva":
		return "SAL", nil
	case "tissue":
		return "", inputError("type", "Tissue is a solid sample: its SPREC code is computed from the tissue facts, not the fluid ones.")
	default:
		return other3, nil
	}
}

// listedContainers are the primary containers the standard codes; they map to themselves.
var listedContainers = set("SST", "CAT", "PED", "SED", "EDG", "HEP", "LHG", "SCI", "CPT", "PAX", "PXD", "ORG", "PPS", "PET")

// primaryContainer is the primary container element. STL and CRY fall to ZZZ on purpose:
// see the package comment.
func primaryContainer(code string) string { return threeLetter(code, listedContainers) }

// Pre-centrifugation delay bands at room temperature and at 2–10 °C.
var (
	preBandsRoom = []band[time.Duration]{
		{0, 2 * time.Hour, "A"}, {2 * time.Hour, 4 * time.Hour, "C"}, {4 * time.Hour, 8 * time.Hour, "E"},
		{8 * time.Hour, 12 * time.Hour, "G"}, {12 * time.Hour, 24 * time.Hour, "I"},
		{24 * time.Hour, 48 * time.Hour, "K"}, {48 * time.Hour, 0, "M"},
	}
	preBandsCold = []band[time.Duration]{
		{0, 2 * time.Hour, "B"}, {2 * time.Hour, 4 * time.Hour, "D"}, {4 * time.Hour, 8 * time.Hour, "F"},
		{8 * time.Hour, 12 * time.Hour, "H"}, {12 * time.Hour, 24 * time.Hour, "J"},
		{24 * time.Hour, 48 * time.Hour, "L"}, {48 * time.Hour, 0, "N"},
	}
)

// preCentrifugation is the delay from collection to processing and its temperature. Its N
// is "2–10 °C for more than 48 h", not "not applicable".
func preCentrifugation(f Fluid) string {
	if f.CollectedAt == nil || f.ProcessingStartedAt == nil || f.PreCentrifugationTemp == TempUnknown {
		return unknown1
	}
	delay := f.ProcessingStartedAt.Sub(*f.CollectedAt)
	switch f.PreCentrifugationTemp {
	case TempRoom:
		return inBand(preBandsRoom, delay)
	case TempCold:
		return inBand(preBandsCold, delay)
	case TempBody:
		if delay < 2*time.Hour {
			return "O"
		}
	}
	return other1
}

func firstCentrifugation(f Fluid) string {
	if f.Centrifugation == nil {
		return unknown1
	}
	return spinCode(f.Centrifugation, true)
}

func secondCentrifugation(f Fluid) string {
	switch {
	case f.SecondCentrifugation != nil:
		return spinCode(f.SecondCentrifugation, false)
	case f.Centrifugation != nil && f.Centrifugation.None:
		return na1 // not spun at all, so not spun twice
	default:
		return unknown1
	}
}

// Post-centrifugation delay bands at 2–10 °C and at room temperature.
var (
	postBandsCold = []band[time.Duration]{
		{0, time.Hour, "A"}, {time.Hour, 2 * time.Hour, "C"}, {2 * time.Hour, 8 * time.Hour, "E"},
		{8 * time.Hour, 24 * time.Hour, "G"}, {24 * time.Hour, 0, "I"},
	}
	postBandsRoom = []band[time.Duration]{
		{0, time.Hour, "B"}, {time.Hour, 2 * time.Hour, "D"}, {2 * time.Hour, 8 * time.Hour, "F"},
		{8 * time.Hour, 24 * time.Hour, "H"}, {24 * time.Hour, 0, "J"},
	}
)

// postCentrifugation is the delay from the end of the last spin to freezing. A recorded end
// time proves a spin happened even when its details are unknown, so only a recorded "not
// centrifuged" gives N.
func postCentrifugation(f Fluid) string {
	if f.Centrifugation != nil && f.Centrifugation.None {
		return na1
	}
	if f.CentrifugationEndedAt == nil || f.FrozenAt == nil || f.PostCentrifugationTemp == TempUnknown {
		return unknown1
	}
	delay := f.FrozenAt.Sub(*f.CentrifugationEndedAt)
	switch f.PostCentrifugationTemp {
	case TempCold:
		return inBand(postBandsCold, delay)
	case TempRoom:
		return inBand(postBandsRoom, delay)
	}
	return other1
}
