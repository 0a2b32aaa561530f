package sprec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"biobank/internal/sprec"
)

// fuzzSpin builds a *Spin from fuzz input: kind 0 is nil, 1 is None, 2 a spin; brake 0 is
// unknown, 1 false, 2 true; g or minutes of 0 is unknown.
func fuzzSpin(kind uint8, temp int8, g, minutes int, brake uint8) *sprec.Spin {
	switch kind % 4 {
	case 0:
		return nil
	case 1:
		return &sprec.Spin{None: true}
	case 2:
		return &sprec.Spin{None: true, G: &g} // contradictory on purpose
	}
	s := &sprec.Spin{Temp: sprec.Temperature(temp)}
	if g != 0 {
		s.G = &g
	}
	if minutes != 0 {
		s.Minutes = &minutes
	}
	if brake%3 != 0 {
		s.Brake = ptr(brake%3 == 2)
	}
	return s
}

// fuzzTime is t0 plus seconds, or nil when present is false.
func fuzzTime(present bool, seconds int32) *time.Time {
	if !present {
		return nil
	}
	return at(time.Duration(seconds) * time.Second)
}

// FuzzFluidCode feeds arbitrary facts, including impossible ones, to FluidCode. It must never
// panic; with no error it must give seven hyphen-joined elements of 3, 3, 1, 1, 1, 1 and 1
// upper-case letters or digits; with an error it must give no code and an *InputError that
// names a field; Validate must agree with it.
func FuzzFluidCode(f *testing.F) {
	f.Add("serum", "SST", uint8(0xff), int32(0), int32(3600), int32(4200), int32(6000), int8(1), int8(1),
		uint8(3), int8(1), 2000, 10, uint8(2), uint8(1), int8(0), 0, 0, uint8(0),
		int8(1), int8(1), uint8(0), false, uint8(0))
	f.Add("stool", "STL", uint8(0b1011), int32(0), int32(600), int32(0), int32(900), int8(2), int8(0),
		uint8(1), int8(0), 0, 0, uint8(0), uint8(0), int8(0), 0, 0, uint8(0),
		int8(1), int8(1), uint8(0), false, uint8(0))
	f.Add("plasma", "PED", uint8(0xff), int32(0), int32(-1), int32(4200), int32(100), int8(3), int8(4),
		uint8(3), int8(2), 999, 30, uint8(1), uint8(3), int8(2), -5, 10, uint8(2),
		int8(3), int8(4), uint8(2), true, uint8(2))
	f.Add("", "", uint8(0), int32(0), int32(0), int32(0), int32(0), int8(0), int8(0),
		uint8(0), int8(0), 0, 0, uint8(0), uint8(0), int8(0), 0, 0, uint8(0),
		int8(0), int8(0), uint8(0), false, uint8(0))
	f.Add("tissue", "ZZZ", uint8(0), int32(0), int32(0), int32(0), int32(0), int8(9), int8(-1),
		uint8(3), int8(7), -1, -1, uint8(2), uint8(2), int8(0), 0, 0, uint8(0),
		int8(99), int8(-9), uint8(9), false, uint8(0))

	f.Fuzz(func(t *testing.T, typ, container string, present uint8,
		collected, processing, ended, frozen int32, preTemp, postTemp int8,
		kind1 uint8, temp1 int8, g1, min1 int, brake1 uint8,
		kind2 uint8, temp2 int8, g2, min2 int, brake2 uint8,
		storeC, storeT int8, urine uint8, doubleSpun bool, buffy uint8) {
		in := sprec.Fluid{
			Type:                   typ,
			PlasmaDoubleSpun:       doubleSpun,
			UrineKind:              sprec.UrineKind(urine % 5),
			PrimaryContainer:       container,
			CollectedAt:            fuzzTime(present&1 != 0, collected),
			ProcessingStartedAt:    fuzzTime(present&2 != 0, processing),
			PreCentrifugationTemp:  sprec.Temperature(preTemp),
			Centrifugation:         fuzzSpin(kind1, temp1, g1, min1, brake1),
			SecondCentrifugation:   fuzzSpin(kind2, temp2, g2, min2, brake2),
			CentrifugationEndedAt:  fuzzTime(present&4 != 0, ended),
			FrozenAt:               fuzzTime(present&8 != 0, frozen),
			PostCentrifugationTemp: sprec.Temperature(postTemp),
			LongTermStorage:        sprec.Storage{Container: sprec.StorageContainer(storeC), Temperature: sprec.StorageTemperature(storeT)},
		}
		if buffy%3 != 0 {
			in.BuffyViable = ptr(buffy%3 == 2)
		}

		code, err := sprec.FluidCode(in)
		if verr := in.Validate(); (verr == nil) != (err == nil) {
			t.Fatalf("Validate() = %v but FluidCode error = %v", verr, err)
		}
		if err != nil {
			var ie *sprec.InputError
			if !errors.As(err, &ie) || ie.Field == "" || ie.Message == "" {
				t.Fatalf("error %#v is not an *InputError naming a field", err)
			}
			if code != "" {
				t.Fatalf("code %q returned with error %v", code, err)
			}
			return
		}
		parts := strings.Split(code, "-")
		if len(parts) != 7 {
			t.Fatalf("code %q has %d elements, want 7", code, len(parts))
		}
		for i, p := range parts {
			want := 1
			if i < 2 {
				want = 3
			}
			if len(p) != want {
				t.Fatalf("element %d of %q is %q, want %d characters", i, code, p, want)
			}
			for _, r := range p {
				if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
					t.Fatalf("element %d of %q has %q", i, code, r)
				}
			}
		}
		if again := mustFluid(t, in); again != code {
			t.Fatalf("FluidCode is not deterministic: %q then %q", code, again)
		}
	})
}

// FuzzSolidCode does the same for tissue.
func FuzzSolidCode(f *testing.F) {
	f.Add("tissue", "SRG", uint8(0b10), int64(0), int64(15*time.Minute), "NBF", uint8(1), int64(12*time.Hour), int8(5), int8(7))
	f.Add("serum", "", uint8(0xff), int64(-1), int64(0), "SNP", uint8(1), int64(1), int8(0), int8(0))
	f.Fuzz(func(t *testing.T, typ, collection string, mask uint8, warm, cold int64, fixType string, fixMask uint8, fix int64, storeC, storeT int8) {
		dur := func(m uint8, d int64) sprec.Duration {
			var out sprec.Duration
			if m&1 != 0 {
				out = sprec.Known(time.Duration(d))
			}
			out.NotApplicable = m&2 != 0
			return out
		}
		in := sprec.Solid{
			Type: typ, Collection: collection,
			WarmIschaemia: dur(mask, warm), ColdIschaemia: dur(mask>>2, cold),
			FixationType: fixType, FixationTime: dur(fixMask, fix),
			LongTermStorage: sprec.Storage{Container: sprec.StorageContainer(storeC), Temperature: sprec.StorageTemperature(storeT)},
		}
		code, err := sprec.SolidCode(in)
		if err != nil {
			var ie *sprec.InputError
			if !errors.As(err, &ie) || ie.Field == "" || code != "" {
				t.Fatalf("SolidCode = %q, %#v; want no code and an *InputError naming a field", code, err)
			}
			return
		}
		parts := strings.Split(code, "-")
		if len(parts) != 7 {
			t.Fatalf("code %q has %d elements, want 7", code, len(parts))
		}
		for i, want := range []int{3, 3, 1, 1, 3, 1, 1} {
			if len(parts[i]) != want {
				t.Fatalf("element %d of %q is %q, want %d characters", i, code, parts[i], want)
			}
		}
	})
}
