package sprec_test

import (
	"testing"
	"time"

	"biobank/internal/sprec"
)

const second = time.Second

// withPreDelay is the worked serum with processing starting d after collection at temp.
func withPreDelay(d time.Duration, temp sprec.Temperature) sprec.Fluid {
	f := workedSerum()
	f.ProcessingStartedAt = at(d)
	f.CentrifugationEndedAt = at(d + 10*time.Minute)
	f.FrozenAt = at(d + 40*time.Minute)
	f.PreCentrifugationTemp = temp
	return f
}

func TestFluidCode_PreCentrifugationBoundaries(t *testing.T) {
	const h = time.Hour
	room, cold, body := sprec.TempRoom, sprec.TempCold, sprec.TempBody
	cases := []struct {
		temp  sprec.Temperature
		delay time.Duration
		want  string
	}{
		{room, 0, "A"}, {room, 2*h - second, "A"}, {room, 2 * h, "C"},
		{room, 4*h - second, "C"}, {room, 4 * h, "E"},
		{room, 8*h - second, "E"}, {room, 8 * h, "G"},
		{room, 12*h - second, "G"}, {room, 12 * h, "I"},
		{room, 24*h - second, "I"}, {room, 24 * h, "K"},
		{room, 48*h - second, "K"}, {room, 48 * h, "M"}, {room, 30 * 24 * h, "M"},

		{cold, 0, "B"}, {cold, 2*h - second, "B"}, {cold, 2 * h, "D"},
		{cold, 4*h - second, "D"}, {cold, 4 * h, "F"},
		{cold, 8*h - second, "F"}, {cold, 8 * h, "H"},
		{cold, 12*h - second, "H"}, {cold, 12 * h, "J"},
		{cold, 24*h - second, "J"}, {cold, 24 * h, "L"},
		{cold, 48*h - second, "L"}, {cold, 48 * h, "N"}, {cold, 30 * 24 * h, "N"},

		{body, 0, "O"}, {body, 2*h - second, "O"}, {body, 2 * h, "Z"}, {body, 48 * h, "Z"},
		{sprec.TempOther, 30 * time.Minute, "Z"},
		{sprec.TempUnknown, 30 * time.Minute, "X"},
	}
	for _, c := range cases {
		t.Run(c.temp.String()+"/"+c.delay.String(), func(t *testing.T) {
			code := mustFluid(t, withPreDelay(c.delay, c.temp))
			if got := element(t, code, elPre); got != c.want {
				t.Errorf("pre-centrifugation after %v at %q = %s, want %s (code %s)", c.delay, c.temp, got, c.want, code)
			}
		})
	}
}

// TestFluidCode_CentrifugationBoundaries checks every g-force, duration, temperature and
// brake boundary, for the first centrifugation and for the second (which has no M).
func TestFluidCode_CentrifugationBoundaries(t *testing.T) {
	room, cold := sprec.TempRoom, sprec.TempCold
	cases := []struct {
		name        string
		spin        *sprec.Spin
		first, then string
	}{
		{"RT 2999 g no brake", spin(room, 2999, 10, false), "A", "A"},
		{"RT 2999 g brake", spin(room, 2999, 10, true), "B", "B"},
		{"2-10 2999 g no brake", spin(cold, 2999, 10, false), "C", "C"},
		{"2-10 2999 g brake", spin(cold, 2999, 10, true), "D", "D"},
		{"RT 1 g brake", spin(room, 1, 10, true), "B", "B"},
		{"RT 3000 g brake", spin(room, 3000, 10, true), "E", "E"},
		{"2-10 3000 g brake", spin(cold, 3000, 10, true), "F", "F"},
		{"RT 3000 g no brake has no code", spin(room, 3000, 10, false), "Z", "Z"},
		{"2-10 9999 g no brake has no code", spin(cold, 9999, 10, false), "Z", "Z"},
		{"RT 5999 g brake", spin(room, 5999, 10, true), "E", "E"},
		{"2-10 5999 g brake", spin(cold, 5999, 10, true), "F", "F"},
		{"RT 6000 g brake", spin(room, 6000, 10, true), "G", "G"},
		{"2-10 6000 g brake", spin(cold, 6000, 10, true), "H", "H"},
		{"RT 9999 g brake", spin(room, 9999, 10, true), "G", "G"},
		{"2-10 9999 g brake", spin(cold, 9999, 10, true), "H", "H"},
		{"RT 10000 g brake", spin(room, 10000, 10, true), "I", "I"},
		{"2-10 10000 g brake", spin(cold, 10000, 10, true), "J", "J"},
		{"RT 20000 g brake", spin(room, 20000, 15, true), "I", "I"},

		{"9 min is outside 10-15 min", spin(room, 2000, 9, true), "Z", "Z"},
		{"10 min", spin(room, 2000, 10, true), "B", "B"},
		{"15 min is inside 10-15 min", spin(cold, 2500, 15, true), "D", "D"},
		{"16 min is outside 10-15 min", spin(room, 2000, 16, true), "Z", "Z"},
		{"RT 3500 g 20 min", spin(room, 3500, 20, true), "Z", "Z"},

		{"M: RT 999 g 30 min no brake, first only", spin(room, 999, 30, false), "M", "Z"},
		{"RT 1000 g 30 min no brake is not M", spin(room, 1000, 30, false), "Z", "Z"},
		{"RT 999 g 30 min with brake is not M", spin(room, 999, 30, true), "Z", "Z"},
		{"2-10 999 g 30 min no brake is not M", spin(cold, 999, 30, false), "Z", "Z"},
		{"RT 999 g 29 min no brake is not M", spin(room, 999, 29, false), "Z", "Z"},
		{"RT 999 g 31 min no brake is not M", spin(room, 999, 31, false), "Z", "Z"},
		{"RT 999 g 10 min no brake is A, not M", spin(room, 999, 10, false), "A", "A"},

		{"35-38 has no code", spin(sprec.TempBody, 2000, 10, true), "Z", "Z"},
		{"other temperature has no code", spin(sprec.TempOther, 2000, 10, true), "Z", "Z"},

		{"temperature unknown", &sprec.Spin{G: ptr(2000), Minutes: ptr(10), Brake: ptr(true)}, "X", "X"},
		{"g unknown", &sprec.Spin{Temp: room, Minutes: ptr(10), Brake: ptr(true)}, "X", "X"},
		{"minutes unknown", &sprec.Spin{Temp: room, G: ptr(2000), Brake: ptr(true)}, "X", "X"},
		{"brake unknown below 3000 g", &sprec.Spin{Temp: room, G: ptr(2000), Minutes: ptr(10)}, "X", "X"},
		{"brake unknown above 3000 g", &sprec.Spin{Temp: room, G: ptr(4000), Minutes: ptr(10)}, "X", "X"},
		{"unknown even when another fact is already other", &sprec.Spin{Temp: sprec.TempBody, Minutes: ptr(10), Brake: ptr(true)}, "X", "X"},
		{"spin unknown", nil, "X", "X"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := workedSerum()
			f.Centrifugation = c.spin
			if got := element(t, mustFluid(t, f), elSpin); got != c.first {
				t.Errorf("as first centrifugation = %s, want %s", got, c.first)
			}
			f = workedSerum()
			f.SecondCentrifugation = c.spin
			if got := element(t, mustFluid(t, f), elSecondSpin); got != c.then {
				t.Errorf("as second centrifugation = %s, want %s", got, c.then)
			}
		})
	}
}

func TestFluidCode_SecondCentrifugationNotApplicableOnlyWhenKnown(t *testing.T) {
	cases := []struct {
		name          string
		first, second *sprec.Spin
		want          string
	}{
		{"spun once, second recorded as none", spin(sprec.TempRoom, 2000, 10, true), noSpin(), "N"},
		{"spun once, second not recorded", spin(sprec.TempRoom, 2000, 10, true), nil, "X"},
		{"not spun, second not recorded", noSpin(), nil, "N"},
		{"not spun, second recorded as none", noSpin(), noSpin(), "N"},
		{"first unknown, second not recorded", nil, nil, "X"},
		{"first unknown, second recorded as none", nil, noSpin(), "N"},
		{"first unknown, second recorded", nil, spin(sprec.TempCold, 12000, 10, true), "J"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := workedSerum()
			f.Centrifugation, f.SecondCentrifugation = c.first, c.second
			if c.first != nil && c.first.None {
				f.CentrifugationEndedAt = nil
			}
			if got := element(t, mustFluid(t, f), elSecondSpin); got != c.want {
				t.Errorf("second centrifugation = %s, want %s", got, c.want)
			}
		})
	}
}

func TestFluidCode_PostCentrifugationBoundaries(t *testing.T) {
	const h = time.Hour
	room, cold := sprec.TempRoom, sprec.TempCold
	cases := []struct {
		temp  sprec.Temperature
		delay time.Duration
		want  string
	}{
		{cold, 0, "A"}, {cold, h - second, "A"}, {cold, h, "C"},
		{cold, 2*h - second, "C"}, {cold, 2 * h, "E"},
		{cold, 8*h - second, "E"}, {cold, 8 * h, "G"},
		{cold, 24*h - second, "G"}, {cold, 24 * h, "I"}, {cold, 100 * h, "I"},

		{room, 0, "B"}, {room, h - second, "B"}, {room, h, "D"},
		{room, 2*h - second, "D"}, {room, 2 * h, "F"},
		{room, 8*h - second, "F"}, {room, 8 * h, "H"},
		{room, 24*h - second, "H"}, {room, 24 * h, "J"}, {room, 100 * h, "J"},

		{sprec.TempBody, 30 * time.Minute, "Z"},
		{sprec.TempOther, 30 * time.Minute, "Z"},
		{sprec.TempUnknown, 30 * time.Minute, "X"},
	}
	for _, c := range cases {
		t.Run(c.temp.String()+"/"+c.delay.String(), func(t *testing.T) {
			f := workedSerum()
			f.FrozenAt = ptr(f.CentrifugationEndedAt.Add(c.delay))
			f.PostCentrifugationTemp = c.temp
			code := mustFluid(t, f)
			if got := element(t, code, elPost); got != c.want {
				t.Errorf("post-centrifugation after %v at %q = %s, want %s (code %s)", c.delay, c.temp, got, c.want, code)
			}
		})
	}
}

func TestFluidCode_PostCentrifugationFromEndTimeEvenWhenSpinDetailsUnknown(t *testing.T) {
	f := workedSerum()
	f.Centrifugation = nil // how it was spun is unknown, but the end time shows it was
	if got := mustFluid(t, f); got != "SER-SST-A-X-N-B-A" {
		t.Errorf("FluidCode = %s, want SER-SST-A-X-N-B-A", got)
	}
	f.CentrifugationEndedAt = nil // now not even that
	if got := mustFluid(t, f); got != "SER-SST-A-X-N-X-A" {
		t.Errorf("FluidCode = %s, want SER-SST-A-X-N-X-A", got)
	}
}

func TestFluidCode_TypeFromSpecimenTypeAndOptions(t *testing.T) {
	cases := []struct {
		name string
		f    sprec.Fluid
		want string
	}{
		{"whole blood", sprec.Fluid{Type: "whole_blood"}, "BLD"},
		{"serum", sprec.Fluid{Type: "serum"}, "SER"},
		{"plasma single spun", sprec.Fluid{Type: "plasma"}, "PL1"},
		{"plasma double spun", sprec.Fluid{Type: "plasma", PlasmaDoubleSpun: true}, "PL2"},
		{"buffy coat viable", sprec.Fluid{Type: "buffy_coat", BuffyViable: ptr(true)}, "BUF"},
		{"buffy coat non-viable", sprec.Fluid{Type: "buffy_coat", BuffyViable: ptr(false)}, "BFF"},
		{"buffy coat viability unknown", sprec.Fluid{Type: "buffy_coat"}, "XXX"},
		{"pbmc", sprec.Fluid{Type: "pbmc"}, "CEL"},
		{"csf", sprec.Fluid{Type: "csf"}, "CSF"},
		{"stool", sprec.Fluid{Type: "stool"}, "STL"},
		{"spot urine", sprec.Fluid{Type: "urine", UrineKind: sprec.UrineSpot}, "URN"},
		{"first morning urine", sprec.Fluid{Type: "urine", UrineKind: sprec.UrineFirstMorning}, "URM"},
		{"24 h urine", sprec.Fluid{Type: "urine", UrineKind: sprec.Urine24h}, "U24"},
		{"urine of unknown kind", sprec.Fluid{Type: "urine"}, "XXX"},
		{"saliva", sprec.Fluid{Type: "saliva"}, "SAL"},
		{"type unknown", sprec.Fluid{}, "XXX"},
		{"DNA has no fluid code", sprec.Fluid{Type: "dna"}, "ZZZ"},
		{"case and spaces ignored", sprec.Fluid{Type: " Whole_Blood "}, "BLD"},
		{"urine kind on serum not used", sprec.Fluid{Type: "serum", UrineKind: sprec.Urine24h}, "SER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := element(t, mustFluid(t, c.f), elType); got != c.want {
				t.Errorf("type = %s, want %s", got, c.want)
			}
		})
	}
}

func TestFluidCode_PrimaryContainerFromLIMSContainer(t *testing.T) {
	cases := []struct{ container, want string }{
		{"SST", "SST"}, {"CAT", "CAT"}, {"PED", "PED"}, {"SED", "SED"}, {"EDG", "EDG"},
		{"HEP", "HEP"}, {"LHG", "LHG"}, {"SCI", "SCI"}, {"CPT", "CPT"}, {"PAX", "PAX"},
		{"PXD", "PXD"}, {"ORG", "ORG"}, {"PPS", "PPS"}, {"PET", "PET"},
		{"ZZZ", "ZZZ"},
		{"STL", "ZZZ"}, // a stool tube is not known to be sterile polypropylene
		{"CRY", "ZZZ"}, // nor is a cryovial
		{"ABC", "ZZZ"}, // a container added to the LIMS later, without an SPREC code
		{"", "XXX"},
		{"  ", "XXX"},
		{" sst ", "SST"},
	}
	for _, c := range cases {
		t.Run(c.container, func(t *testing.T) {
			if got := element(t, mustFluid(t, sprec.Fluid{PrimaryContainer: c.container}), elContainer); got != c.want {
				t.Errorf("primary container %q = %s, want %s", c.container, got, c.want)
			}
		})
	}
}

// TestFluidCode_MissingFactGivesXInItsElementOnly removes one fact at a time from the
// fully recorded worked example: exactly the element that needs it becomes X (XXX), and
// every other element keeps its value.
func TestFluidCode_MissingFactGivesXInItsElementOnly(t *testing.T) {
	cases := []struct {
		name   string
		forget func(*sprec.Fluid)
		el     int
	}{
		{"type", func(f *sprec.Fluid) { f.Type = "" }, elType},
		{"primary container", func(f *sprec.Fluid) { f.PrimaryContainer = "" }, elContainer},
		{"collection time", func(f *sprec.Fluid) { f.CollectedAt = nil }, elPre},
		{"processing start", func(f *sprec.Fluid) { f.ProcessingStartedAt = nil }, elPre},
		{"pre-centrifugation temperature", func(f *sprec.Fluid) { f.PreCentrifugationTemp = sprec.TempUnknown }, elPre},
		{"centrifugation", func(f *sprec.Fluid) { f.Centrifugation = nil }, elSpin},
		{"centrifugation g", func(f *sprec.Fluid) { f.Centrifugation.G = nil }, elSpin},
		{"centrifugation minutes", func(f *sprec.Fluid) { f.Centrifugation.Minutes = nil }, elSpin},
		{"centrifugation brake", func(f *sprec.Fluid) { f.Centrifugation.Brake = nil }, elSpin},
		{"centrifugation temperature", func(f *sprec.Fluid) { f.Centrifugation.Temp = sprec.TempUnknown }, elSpin},
		{"second centrifugation", func(f *sprec.Fluid) { f.SecondCentrifugation = nil }, elSecondSpin},
		{"centrifugation end", func(f *sprec.Fluid) { f.CentrifugationEndedAt = nil }, elPost},
		{"freezing time", func(f *sprec.Fluid) { f.FrozenAt = nil }, elPost},
		{"post-centrifugation temperature", func(f *sprec.Fluid) { f.PostCentrifugationTemp = sprec.TempUnknown }, elPost},
		{"storage container", func(f *sprec.Fluid) { f.LongTermStorage.Container = sprec.ContainerUnknown }, elStorage},
		{"storage temperature", func(f *sprec.Fluid) { f.LongTermStorage.Temperature = sprec.StoreUnknown }, elStorage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := workedSerum()
			c.forget(&f)
			code := mustFluid(t, f)
			for i := range 7 {
				got, full := element(t, code, i), element(t, workedSerumCode, i)
				switch {
				case i == c.el && got != "X" && got != "XXX":
					t.Errorf("element %d = %s, want X (code %s)", i, got, code)
				case i != c.el && got != full:
					t.Errorf("element %d = %s, want %s unchanged (code %s)", i, got, full, code)
				}
			}
		})
	}
}

func TestFluidCode_NothingRecordedIsAllUnknown(t *testing.T) {
	if got := mustFluid(t, sprec.Fluid{}); got != "XXX-XXX-X-X-X-X-X" {
		t.Errorf("FluidCode(Fluid{}) = %s, want XXX-XXX-X-X-X-X-X", got)
	}
}

func TestFluidCode_EqualTimesAreInOrder(t *testing.T) {
	f := workedSerum()
	f.ProcessingStartedAt = at(0)
	f.CentrifugationEndedAt = at(0)
	f.FrozenAt = at(0)
	if got := mustFluid(t, f); got != "SER-SST-A-B-N-B-A" {
		t.Errorf("FluidCode = %s, want SER-SST-A-B-N-B-A", got)
	}
}

func TestFluidCode_RefusesContradictoryFacts(t *testing.T) {
	cases := []struct {
		name   string
		change func(*sprec.Fluid)
		field  string
	}{
		{"processing before collection", func(f *sprec.Fluid) { f.ProcessingStartedAt = at(-second) }, "processing_started_at"},
		{"centrifugation ended before processing started", func(f *sprec.Fluid) { f.CentrifugationEndedAt = at(time.Hour - second) }, "centrifugation_ended_at"},
		{"frozen before centrifugation ended", func(f *sprec.Fluid) { f.FrozenAt = ptr(f.CentrifugationEndedAt.Add(-second)) }, "frozen_at"},
		{"frozen before collected, nothing recorded between", func(f *sprec.Fluid) {
			f.ProcessingStartedAt, f.CentrifugationEndedAt, f.FrozenAt = nil, nil, at(-time.Hour)
		}, "frozen_at"},
		{"centrifugation ended before collection, processing not recorded", func(f *sprec.Fluid) {
			f.ProcessingStartedAt, f.CentrifugationEndedAt = nil, at(-time.Minute)
		}, "centrifugation_ended_at"},
		{"frozen before processing started, centrifugation end not recorded", func(f *sprec.Fluid) {
			f.CentrifugationEndedAt, f.FrozenAt = nil, at(time.Hour-second)
		}, "frozen_at"},
		{"zero g", func(f *sprec.Fluid) { f.Centrifugation.G = ptr(0) }, "centrifugation"},
		{"negative g", func(f *sprec.Fluid) { f.Centrifugation.G = ptr(-2000) }, "centrifugation"},
		{"zero minutes", func(f *sprec.Fluid) { f.Centrifugation.Minutes = ptr(0) }, "centrifugation"},
		{"negative minutes", func(f *sprec.Fluid) { f.Centrifugation.Minutes = ptr(-10) }, "centrifugation"},
		{"negative g in second spin", func(f *sprec.Fluid) { f.SecondCentrifugation = spin(sprec.TempRoom, -1, 10, true) }, "second_centrifugation"},
		{"negative minutes in second spin", func(f *sprec.Fluid) { f.SecondCentrifugation = spin(sprec.TempRoom, 2000, -1, true) }, "second_centrifugation"},
		{"no spin, yet a g-force", func(f *sprec.Fluid) { f.Centrifugation = &sprec.Spin{None: true, G: ptr(2000)} }, "centrifugation"},
		{"no spin, yet a brake", func(f *sprec.Fluid) { f.Centrifugation = &sprec.Spin{None: true, Brake: ptr(false)} }, "centrifugation"},
		{"no second spin, yet a temperature", func(f *sprec.Fluid) { f.SecondCentrifugation = &sprec.Spin{None: true, Temp: sprec.TempCold} }, "second_centrifugation"},
		{"not spun, yet spun a second time", func(f *sprec.Fluid) {
			f.Centrifugation, f.CentrifugationEndedAt = noSpin(), nil
			f.SecondCentrifugation = spin(sprec.TempRoom, 2000, 10, true)
		}, "second_centrifugation"},
		{"not spun, yet a centrifugation end time", func(f *sprec.Fluid) { f.Centrifugation = noSpin() }, "centrifugation_ended_at"},
		{"double-spun plasma without a second spin", func(f *sprec.Fluid) { f.Type, f.PlasmaDoubleSpun = "plasma", true }, "second_centrifugation"},
		{"double-spun plasma not spun at all", func(f *sprec.Fluid) {
			f.Type, f.PlasmaDoubleSpun = "plasma", true
			f.Centrifugation, f.SecondCentrifugation, f.CentrifugationEndedAt = noSpin(), nil, nil
		}, "second_centrifugation"},
		{"single-spun plasma spun twice", func(f *sprec.Fluid) {
			f.Type, f.SecondCentrifugation = "plasma", spin(sprec.TempCold, 2500, 10, true)
		}, "second_centrifugation"},
		{"tissue is not a fluid", func(f *sprec.Fluid) { f.Type = "tissue" }, "type"},
		{"pre-centrifugation temperature out of range", func(f *sprec.Fluid) { f.PreCentrifugationTemp = 99 }, "pre_centrifugation_temp"},
		{"post-centrifugation temperature out of range", func(f *sprec.Fluid) { f.PostCentrifugationTemp = -1 }, "post_centrifugation_temp"},
		{"spin temperature out of range", func(f *sprec.Fluid) { f.Centrifugation.Temp = 42 }, "centrifugation"},
		{"urine kind out of range", func(f *sprec.Fluid) { f.UrineKind = 7 }, "urine_kind"},
		{"storage container out of range", func(f *sprec.Fluid) { f.LongTermStorage.Container = 50 }, "storage_container"},
		{"storage temperature out of range", func(f *sprec.Fluid) { f.LongTermStorage.Temperature = -3 }, "storage_temperature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := workedSerum()
			c.change(&f)
			code, err := sprec.FluidCode(f)
			wantInputError(t, code, err, c.field)
			if verr := f.Validate(); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate() = %v, want the same error as FluidCode (%v)", verr, err)
			}
		})
	}
}

func TestFluidCode_DoubleSpunPlasmaWithSecondSpinIsPL2(t *testing.T) {
	f := workedSerum()
	f.Type, f.PrimaryContainer, f.PlasmaDoubleSpun = "plasma", "PED", true
	f.SecondCentrifugation = spin(sprec.TempRoom, 2500, 15, true)
	if got := mustFluid(t, f); got != "PL2-PED-A-B-B-B-A" {
		t.Errorf("FluidCode = %s, want PL2-PED-A-B-B-B-A", got)
	}
}
