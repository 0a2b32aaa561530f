package sprec

import (
	"fmt"
	"strings"
	"time"
)

// Solid is what was recorded about a solid (tissue) sample. Zero values mean unknown; see
// the package comment.
type Solid struct {
	// Type is the LIMS specimen type: tissue.
	Type string
	// Collection is the SPREC collection code: BPS, SRG, BSL, SSL, BTM, STM, BCM, SCM, VAC,
	// ASN, PUN, SWB.
	Collection string
	// WarmIschaemia is the time from interrupting the blood supply to removal.
	WarmIschaemia Duration
	// ColdIschaemia is the time from removal to fixation or stabilisation.
	ColdIschaemia Duration
	// FixationType is the SPREC fixation code: SNP, NBF, FOR, OCT, PXT, RNL, ALL, HST.
	FixationType string
	// FixationTime is how long the tissue was in the fixative. Snap freezing (SNP) has no
	// fixation time: the element is then N, and a recorded time is an error.
	FixationTime Duration
	// LongTermStorage is how the sample is kept.
	LongTermStorage Storage
}

// SolidCode returns the SPREC code of a solid sample: seven elements joined by hyphens, for
// example "TIS-SRG-X-C-NBF-E-P". Missing facts give X (XXX) in the elements that need them;
// the error is an *InputError, returned only when the facts contradict each other.
func SolidCode(s Solid) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	typ, _ := solidType(s.Type) // Validate has refused the error case.
	return strings.Join([]string{
		typ,
		threeLetter(s.Collection, listedCollections),
		ischaemia(s.WarmIschaemia),
		ischaemia(s.ColdIschaemia),
		threeLetter(s.FixationType, listedFixations),
		fixationTime(s),
		storageCode(s.LongTermStorage),
	}, "-"), nil
}

// Validate returns an *InputError when the recorded facts contradict each other or cannot be
// true: a fluid specimen type, a negative time, a time both recorded and not applicable, a
// fixation time for snap-frozen tissue.
// Missing facts are not errors.
func (s Solid) Validate() error {
	if _, err := solidType(s.Type); err != nil {
		return err
	}
	for _, d := range []struct {
		field, name string
		d           Duration
	}{
		{"warm_ischaemia", "warm ischaemia", s.WarmIschaemia},
		{"cold_ischaemia", "cold ischaemia", s.ColdIschaemia},
		{"fixation_time", "fixation time", s.FixationTime},
	} {
		if d.d.Value == nil {
			continue
		}
		if d.d.NotApplicable {
			return inputError(d.field, fmt.Sprintf("The %s is recorded both as not applicable and as %s.", d.name, *d.d.Value))
		}
		if d.field == "fixation_time" && norm(s.FixationType) == "SNP" {
			return inputError(d.field, fmt.Sprintf("Snap-frozen tissue has no fixation time, yet %s is recorded.", *d.d.Value))
		}
		if *d.d.Value < 0 {
			return inputError(d.field, fmt.Sprintf("The %s cannot be negative (%s).", d.name, *d.d.Value))
		}
	}
	return s.LongTermStorage.validate()
}

// solidType is the type element; a fluid specimen type is an error.
func solidType(t string) (string, error) {
	switch t = strings.ToLower(strings.TrimSpace(t)); t {
	case "":
		return unknown3, nil
	case "tissue":
		return "TIS", nil
	case "whole_blood", "serum", "plasma", "buffy_coat", "pbmc", "csf", "stool", "urine", "saliva":
		return "", inputError("type", fmt.Sprintf("%s is a fluid sample: its SPREC code is computed from the fluid facts, not the tissue ones.", t))
	default:
		return other3, nil
	}
}

var (
	listedCollections = set("BPS", "SRG", "BSL", "SSL", "BTM", "STM", "BCM", "SCM", "VAC", "ASN", "PUN", "SWB")
	listedFixations   = set("SNP", "NBF", "FOR", "OCT", "PXT", "RNL", "ALL", "HST")
)

// ischaemiaBands are the warm and cold ischaemia bands; F is open-ended, so there is no Z.
var ischaemiaBands = []band[time.Duration]{
	{0, 2 * time.Minute, "A"}, {2 * time.Minute, 10 * time.Minute, "B"},
	{10 * time.Minute, 20 * time.Minute, "C"}, {20 * time.Minute, 30 * time.Minute, "D"},
	{30 * time.Minute, 60 * time.Minute, "E"}, {60 * time.Minute, 0, "F"},
}

func ischaemia(d Duration) string {
	switch {
	case d.NotApplicable:
		return na1
	case d.Value == nil:
		return unknown1
	}
	return inBand(ischaemiaBands, *d.Value)
}

// fixationBands are the fixation time bands; 72 h and more has no code and gives Z.
var fixationBands = []band[time.Duration]{
	{0, 15 * time.Minute, "A"}, {15 * time.Minute, time.Hour, "B"}, {time.Hour, 4 * time.Hour, "C"},
	{4 * time.Hour, 8 * time.Hour, "D"}, {8 * time.Hour, 24 * time.Hour, "E"},
	{24 * time.Hour, 48 * time.Hour, "F"}, {48 * time.Hour, 72 * time.Hour, "G"},
}

func fixationTime(s Solid) string {
	switch {
	case norm(s.FixationType) == "SNP", s.FixationTime.NotApplicable:
		return na1
	case s.FixationTime.Value == nil:
		return unknown1
	}
	if code := inBand(fixationBands, *s.FixationTime.Value); code != "" {
		return code
	}
	return other1
}
