package checkcode_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"biobank/internal/checkcode"
)

// The known-valid PIDs of STANDARDS.md §5: a Mainzelliste with its default settings
// issues them first.
var knownPIDs = []string{"0003Y0WZ", "0007W0W9", "000CU0WP"}

func TestPID_KnownVectorsValidate(t *testing.T) {
	for _, pid := range knownPIDs {
		if !checkcode.ValidPID(pid) {
			t.Errorf("%s is a Mainzelliste PID but does not validate", pid)
		}
		if got, err := checkcode.AppendPID(pid[:6]); err != nil || got != pid {
			t.Errorf("AppendPID(%s) = %s, %v; want %s", pid[:6], got, err, pid)
		}
		if got, err := checkcode.CheckPID(" " + pid[:4] + "-" + pid[4:] + " "); err != nil || got != pid {
			t.Errorf("CheckPID of %s with spaces and a dash = %q, %v", pid, got, err)
		}
	}
}

// The two schemes are different codes: they accept each other's valid codes only at the
// chance rate of 1 in 1,024.
func TestPID_DiffersFromBiobankV1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100_000
	both := 0
	for range n {
		pid, err := checkcode.GeneratePID(rng2reader{rng})
		if err != nil {
			t.Fatal(err)
		}
		if !checkcode.ValidPID(pid) {
			t.Fatalf("GeneratePID gave %s, which does not validate", pid)
		}
		if checkcode.Valid(pid) {
			both++
		}
	}
	// Expected n/1024 ≈ 98; far from n.
	if both > 200 {
		t.Errorf("%d of %d PIDs are also valid biobank-v1 codes: the schemes are not independent", both, n)
	}
	for _, pid := range knownPIDs {
		if _, err := checkcode.Check(pid, 8); err == nil {
			t.Logf("%s happens to be a valid biobank-v1 code too", pid)
		}
	}
}

// Every single substitution and every swap of neighbours of many random PIDs is detected;
// a suggestion, when one is offered, is the only one and is the original; almost every
// such error gets one. A swap across one symbol is detected and never gets a wrong
// suggestion.
func TestPID_ErrorsDetectedAndCorrectedOnlyWhenCertain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var errorsMade, suggested int
	check := func(original, typo string, kind string, mustSuggest bool) {
		t.Helper()
		_, err := checkcode.CheckPID(typo)
		var ce *checkcode.CheckError
		if !errors.As(err, &ce) {
			t.Fatalf("%s %s → %s: not detected (%v)", kind, original, typo, err)
		}
		switch len(ce.Suggestions) {
		case 0:
		case 1:
			if ce.Suggestions[0] != original {
				t.Fatalf("%s %s → %s: suggested %s, a wrong code", kind, original, typo, ce.Suggestions[0])
			}
			if mustSuggest {
				suggested++
			}
		default:
			t.Fatalf("%s %s → %s: %d suggestions %v", kind, original, typo, len(ce.Suggestions), ce.Suggestions)
		}
		if mustSuggest {
			errorsMade++
		}
	}
	for range 2000 {
		pid, err := checkcode.GeneratePID(rng2reader{rng})
		if err != nil {
			t.Fatal(err)
		}
		for pos := 0; pos < checkcode.PIDLen; pos++ {
			for _, sym := range checkcode.Alphabet {
				if byte(sym) == pid[pos] {
					continue
				}
				check(pid, pid[:pos]+string(sym)+pid[pos+1:], "substitution", true)
			}
		}
		for gap := 1; gap <= 2; gap++ {
			for i := 0; i+gap < checkcode.PIDLen; i++ {
				if pid[i] == pid[i+gap] {
					continue
				}
				b := []byte(pid)
				b[i], b[i+gap] = b[i+gap], b[i]
				check(pid, string(b), map[int]string{1: "adjacent transposition", 2: "jump transposition"}[gap], gap == 1)
			}
		}
	}
	// A correction is withheld only when another correction explains the error as well
	// (a substitution at position 6 that looks like a swap of positions 1 and 3, say).
	if rate := float64(suggested) / float64(errorsMade); rate < 0.9 {
		t.Errorf("only %d of %d single errors got their correction suggested (%.1f%%)", suggested, errorsMade, 100*rate)
	} else {
		t.Logf("%d of %d single substitutions and adjacent transpositions got their correction (%.2f%%)", suggested, errorsMade, 100*rate)
	}
}

func TestPID_FormatErrors(t *testing.T) {
	for _, in := range []string{"", "0003Y0W", "0003Y0WZZ", "0003Y0W!"} {
		_, err := checkcode.CheckPID(in)
		var fe *checkcode.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("CheckPID(%q) = %v, want a format error", in, err)
		}
	}
	// Look-alikes are read as the digits they resemble, as for every code.
	if got, err := checkcode.CheckPID("ooo3yowz"); err != nil || got != "0003Y0WZ" {
		t.Errorf("CheckPID(ooo3yowz) = %q, %v", got, err)
	}
}

// rng2reader reads random bytes from a math/rand generator (tests only: reproducible).
type rng2reader struct{ r *rand.Rand }

func (r rng2reader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}
