package sprec_test

import (
	"testing"
	"time"

	"biobank/internal/sprec"
)

func TestSolidCode_IschaemiaBoundaries(t *testing.T) {
	const m = time.Minute
	cases := []struct {
		d    sprec.Duration
		want string
	}{
		{sprec.Known(0), "A"}, {sprec.Known(2*m - second), "A"}, {sprec.Known(2 * m), "B"},
		{sprec.Known(10*m - second), "B"}, {sprec.Known(10 * m), "C"},
		{sprec.Known(20*m - second), "C"}, {sprec.Known(20 * m), "D"},
		{sprec.Known(30*m - second), "D"}, {sprec.Known(30 * m), "E"},
		{sprec.Known(60*m - second), "E"}, {sprec.Known(60 * m), "F"}, {sprec.Known(24 * time.Hour), "F"},
		{sprec.NotApplicable, "N"},
		{sprec.Duration{}, "X"},
	}
	for _, c := range cases {
		name := "unknown"
		switch {
		case c.d.NotApplicable:
			name = "not applicable"
		case c.d.Value != nil:
			name = c.d.Value.String()
		}
		t.Run(name, func(t *testing.T) {
			s := workedFFPE()
			s.WarmIschaemia = c.d
			code := mustSolid(t, s)
			if got := element(t, code, elWarm); got != c.want {
				t.Errorf("warm ischaemia = %s, want %s (code %s)", got, c.want, code)
			}
			s = workedFFPE()
			s.ColdIschaemia = c.d
			code = mustSolid(t, s)
			if got := element(t, code, elCold); got != c.want {
				t.Errorf("cold ischaemia = %s, want %s (code %s)", got, c.want, code)
			}
		})
	}
}

func TestSolidCode_FixationTimeBoundaries(t *testing.T) {
	const h, m = time.Hour, time.Minute
	cases := []struct {
		d    sprec.Duration
		want string
	}{
		{sprec.Known(0), "A"}, {sprec.Known(15*m - second), "A"}, {sprec.Known(15 * m), "B"},
		{sprec.Known(h - second), "B"}, {sprec.Known(h), "C"},
		{sprec.Known(4*h - second), "C"}, {sprec.Known(4 * h), "D"},
		{sprec.Known(8*h - second), "D"}, {sprec.Known(8 * h), "E"},
		{sprec.Known(24*h - second), "E"}, {sprec.Known(24 * h), "F"},
		{sprec.Known(48*h - second), "F"}, {sprec.Known(48 * h), "G"},
		{sprec.Known(72*h - second), "G"}, {sprec.Known(72 * h), "Z"}, {sprec.Known(30 * 24 * h), "Z"},
		{sprec.NotApplicable, "N"},
		{sprec.Duration{}, "X"},
	}
	for _, c := range cases {
		name := "unknown"
		switch {
		case c.d.NotApplicable:
			name = "not applicable"
		case c.d.Value != nil:
			name = c.d.Value.String()
		}
		t.Run(name, func(t *testing.T) {
			s := workedFFPE()
			s.FixationTime = c.d
			code := mustSolid(t, s)
			if got := element(t, code, elFixTime); got != c.want {
				t.Errorf("fixation time = %s, want %s (code %s)", got, c.want, code)
			}
		})
	}
}

func TestSolidCode_SnapFrozenHasNoFixationTime(t *testing.T) {
	s := workedFFPE()
	s.FixationType, s.FixationTime = "SNP", sprec.Duration{}
	s.LongTermStorage = sprec.Storage{Container: sprec.ContainerCryotube, Temperature: sprec.StoreMinus80}
	if got := mustSolid(t, s); got != "TIS-SRG-X-C-SNP-N-D" {
		t.Errorf("SolidCode = %s, want TIS-SRG-X-C-SNP-N-D", got)
	}
}

func TestSolidCode_CollectionAndFixationCodes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"BPS", "BPS"}, {"SRG", "SRG"}, {"BSL", "BSL"}, {"SSL", "SSL"}, {"BTM", "BTM"}, {"STM", "STM"},
		{"BCM", "BCM"}, {"SCM", "SCM"}, {"VAC", "VAC"}, {"ASN", "ASN"}, {"PUN", "PUN"}, {"SWB", "SWB"},
		{"ZZZ", "ZZZ"}, {"LCM", "ZZZ"}, {"", "XXX"}, {" srg ", "SRG"},
	} {
		s := workedFFPE()
		s.Collection = c.in
		if got := element(t, mustSolid(t, s), elCollection); got != c.want {
			t.Errorf("collection %q = %s, want %s", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"SNP", "SNP"}, {"NBF", "NBF"}, {"FOR", "FOR"}, {"OCT", "OCT"}, {"PXT", "PXT"},
		{"RNL", "RNL"}, {"ALL", "ALL"}, {"HST", "HST"},
		{"ZZZ", "ZZZ"}, {"GLU", "ZZZ"}, {"", "XXX"}, {"nbf", "NBF"},
	} {
		s := workedFFPE()
		s.FixationType = c.in
		if c.want == "SNP" {
			s.FixationTime = sprec.Duration{}
		}
		if got := element(t, mustSolid(t, s), elFixType); got != c.want {
			t.Errorf("fixation type %q = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestSolidCode_Type(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tissue", "TIS"}, {" Tissue ", "TIS"}, {"", "XXX"}, {"hair", "ZZZ"}, {"dna", "ZZZ"},
	} {
		s := workedFFPE()
		s.Type = c.in
		if got := element(t, mustSolid(t, s), elType); got != c.want {
			t.Errorf("type %q = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestSolidCode_MissingFactGivesXInItsElementOnly removes one fact at a time from a fully
// recorded tissue sample.
func TestSolidCode_MissingFactGivesXInItsElementOnly(t *testing.T) {
	full := workedFFPE()
	full.WarmIschaemia = sprec.Known(5 * time.Minute)
	const fullCode = "TIS-SRG-B-C-NBF-E-P"
	if got := mustSolid(t, full); got != fullCode {
		t.Fatalf("SolidCode = %s, want %s", got, fullCode)
	}
	cases := []struct {
		name   string
		forget func(*sprec.Solid)
		el     int
	}{
		{"type", func(s *sprec.Solid) { s.Type = "" }, elType},
		{"collection", func(s *sprec.Solid) { s.Collection = "" }, elCollection},
		{"warm ischaemia", func(s *sprec.Solid) { s.WarmIschaemia = sprec.Duration{} }, elWarm},
		{"cold ischaemia", func(s *sprec.Solid) { s.ColdIschaemia = sprec.Duration{} }, elCold},
		{"fixation type", func(s *sprec.Solid) { s.FixationType = "" }, elFixType},
		{"fixation time", func(s *sprec.Solid) { s.FixationTime = sprec.Duration{} }, elFixTime},
		{"storage container", func(s *sprec.Solid) { s.LongTermStorage.Container = sprec.ContainerUnknown }, elStorage},
		{"storage temperature", func(s *sprec.Solid) { s.LongTermStorage.Temperature = sprec.StoreUnknown }, elStorage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := full
			c.forget(&s)
			code := mustSolid(t, s)
			for i := range 7 {
				got, want := element(t, code, i), element(t, fullCode, i)
				switch {
				case i == c.el && got != "X" && got != "XXX":
					t.Errorf("element %d = %s, want X (code %s)", i, got, code)
				case i != c.el && got != want:
					t.Errorf("element %d = %s, want %s unchanged (code %s)", i, got, want, code)
				}
			}
		})
	}
	if got := mustSolid(t, sprec.Solid{}); got != "XXX-XXX-X-X-XXX-X-X" {
		t.Errorf("SolidCode(Solid{}) = %s, want XXX-XXX-X-X-XXX-X-X", got)
	}
}

func TestSolidCode_RefusesContradictoryFacts(t *testing.T) {
	bothNAAndKnown := sprec.Known(time.Minute)
	bothNAAndKnown.NotApplicable = true
	cases := []struct {
		name   string
		change func(*sprec.Solid)
		field  string
	}{
		{"negative warm ischaemia", func(s *sprec.Solid) { s.WarmIschaemia = sprec.Known(-second) }, "warm_ischaemia"},
		{"negative cold ischaemia", func(s *sprec.Solid) { s.ColdIschaemia = sprec.Known(-time.Minute) }, "cold_ischaemia"},
		{"negative fixation time", func(s *sprec.Solid) { s.FixationTime = sprec.Known(-time.Hour) }, "fixation_time"},
		{"warm ischaemia both not applicable and recorded", func(s *sprec.Solid) { s.WarmIschaemia = bothNAAndKnown }, "warm_ischaemia"},
		{"fixation time for snap-frozen tissue", func(s *sprec.Solid) { s.FixationType = "snp" }, "fixation_time"},
		{"serum is not a solid", func(s *sprec.Solid) { s.Type = "serum" }, "type"},
		{"storage container out of range", func(s *sprec.Solid) { s.LongTermStorage.Container = 99 }, "storage_container"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := workedFFPE()
			c.change(&s)
			code, err := sprec.SolidCode(s)
			wantInputError(t, code, err, c.field)
			if verr := s.Validate(); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate() = %v, want the same error as SolidCode (%v)", verr, err)
			}
		})
	}
}
