package checkcode_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"biobank/internal/checkcode"
)

// Property tests: the guarantees of STANDARDS.md §5 checked over many random codes. The
// random source is seeded so that a failure can be reproduced; the seed is in each test.

// codeLengths are the lengths the application uses: pseudonyms (8) and accession IDs (10).
var codeLengths = []int{8, 10}

// randomSymbols returns n symbols of the Alphabet drawn from rng.
func randomSymbols(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = checkcode.Alphabet[rng.IntN(len(checkcode.Alphabet))]
	}
	return string(b)
}

// randomCodes returns count correct codes of the given total length.
func randomCodes(tb testing.TB, rng *rand.Rand, length, count int) []string {
	tb.Helper()
	codes := make([]string, count)
	for i := range codes {
		code, err := checkcode.Append(randomSymbols(rng, length-checkcode.CheckLen))
		if err != nil {
			tb.Fatalf("Append: %v", err)
		}
		codes[i] = code
	}
	return codes
}

// codeCount is how many random codes each property is checked on; -short checks fewer.
func codeCount() int {
	if testing.Short() {
		return 2_000
	}
	return 20_000
}

// mustSuggest checks that Check refuses a corrupted code with a *CheckError whose
// suggestions include the original, and that every suggestion is itself a correct code.
func mustSuggest(tb testing.TB, corrupted, original string) {
	tb.Helper()
	got, err := checkcode.Check(corrupted, len(original))
	var ce *checkcode.CheckError
	if !errors.As(err, &ce) {
		tb.Fatalf("Check(%q) = %q, %v; want a *CheckError (original %q)", corrupted, got, err, original)
	}
	if !slices.Contains(ce.Suggestions, original) {
		tb.Fatalf("Check(%q) suggests %v, want it to include the original %q", corrupted, ce.Suggestions, original)
	}
	for _, s := range ce.Suggestions {
		if !checkcode.Valid(s) || len(s) != len(original) {
			tb.Fatalf("Check(%q) suggests %q, which is not a correct code of length %d", corrupted, s, len(original))
		}
	}
}

func TestProperty_CorrectCodesAlwaysPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	for _, n := range codeLengths {
		for _, code := range randomCodes(t, rng, n, codeCount()) {
			if !checkcode.Valid(code) {
				t.Fatalf("Valid(%q) = false", code)
			}
			if got, err := checkcode.Check(code, n); err != nil || got != code {
				t.Fatalf("Check(%q, %d) = %q, %v", code, n, got, err)
			}
		}
	}
}

func TestProperty_EverySingleSubstitutionIsDetectedAndItsCorrectionSuggested(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2))
	for _, n := range codeLengths {
		for k, code := range randomCodes(t, rng, n, codeCount()) {
			b := []byte(code)
			for pos := range b {
				for _, sym := range []byte(checkcode.Alphabet) {
					if sym == code[pos] {
						continue
					}
					b[pos] = sym
					corrupted := string(b)
					if checkcode.Valid(corrupted) {
						t.Fatalf("substituting %q at position %d of %q gives %q, which passes", sym, pos, code, corrupted)
					}
					// Check is slower than Valid; the suggestion is checked on every tenth
					// code (still every position and symbol of it). A swap changes two
					// positions, so the original can only be among the suggestions through
					// the correction the syndromes locate.
					if k%10 == 0 {
						mustSuggest(t, corrupted, code)
					}
				}
				b[pos] = code[pos]
			}
		}
	}
}

func TestProperty_EveryAdjacentTranspositionIsDetectedAndItsUndoingSuggested(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 3))
	for _, n := range codeLengths {
		for _, code := range randomCodes(t, rng, n, codeCount()) {
			b := []byte(code)
			for pos := 0; pos+1 < len(b); pos++ {
				if b[pos] == b[pos+1] {
					continue // swapping equal symbols changes nothing
				}
				b[pos], b[pos+1] = b[pos+1], b[pos]
				corrupted := string(b)
				b[pos], b[pos+1] = b[pos+1], b[pos]
				if checkcode.Valid(corrupted) {
					t.Fatalf("swapping positions %d and %d of %q gives %q, which passes", pos, pos+1, code, corrupted)
				}
				mustSuggest(t, corrupted, code)
			}
		}
	}
}

func TestProperty_EveryDoubleSubstitutionIsDetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 4))
	for _, n := range codeLengths {
		// Exhaustively for a few codes: every pair of positions, every pair of new symbols.
		for _, code := range randomCodes(t, rng, n, 50) {
			b := []byte(code)
			for i := range b {
				for j := i + 1; j < len(b); j++ {
					for _, x := range []byte(checkcode.Alphabet) {
						for _, y := range []byte(checkcode.Alphabet) {
							if x == code[i] || y == code[j] {
								continue
							}
							b[i], b[j] = x, y
							if checkcode.Valid(string(b)) {
								t.Fatalf("changing positions %d and %d of %q gives %q, which passes", i, j, code, b)
							}
						}
					}
					b[i], b[j] = code[i], code[j]
				}
			}
		}
		// Sampled for many codes.
		for _, code := range randomCodes(t, rng, n, codeCount()) {
			for range 20 {
				b := []byte(code)
				i := rng.IntN(n)
				j := (i + 1 + rng.IntN(n-1)) % n
				b[i] = otherSymbol(rng, b[i])
				b[j] = otherSymbol(rng, b[j])
				if checkcode.Valid(string(b)) {
					t.Fatalf("changing positions %d and %d of %q gives %q, which passes", i, j, code, b)
				}
				if _, err := checkcode.Check(string(b), n); err == nil {
					t.Fatalf("Check accepts %q, two symbols away from %q", b, code)
				}
			}
		}
	}
}

func TestProperty_JumpTranspositionsAndTwinErrorsAreDetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 5))
	for _, n := range codeLengths {
		for _, code := range randomCodes(t, rng, n, codeCount()) {
			for pos := 0; pos+2 < n; pos++ {
				b := []byte(code)
				if b[pos] != b[pos+2] { // abc → cba
					b[pos], b[pos+2] = b[pos+2], b[pos]
					if checkcode.Valid(string(b)) {
						t.Fatalf("jump transposition at %d of %q gives %q, which passes", pos, code, b)
					}
				}
			}
			for pos := 0; pos+1 < n; pos++ {
				if code[pos] != code[pos+1] {
					continue
				}
				b := []byte(code) // aa → bb
				b[pos] = otherSymbol(rng, b[pos])
				b[pos+1] = b[pos]
				if checkcode.Valid(string(b)) {
					t.Fatalf("twin error at %d of %q gives %q, which passes", pos, code, b)
				}
			}
		}
	}
}

// TestProperty_GuaranteesHoldForEveryLength covers every supported length, down to a single
// data symbol and up to 31 symbols, where the weights α^1 … α^31 are still distinct.
func TestProperty_GuaranteesHoldForEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 6))
	for n := checkcode.MinLen; n <= checkcode.MaxLen; n++ {
		for _, code := range randomCodes(t, rng, n, 100) {
			b := []byte(code)
			for pos := range b {
				b[pos] = otherSymbol(rng, code[pos])
				if checkcode.Valid(string(b)) {
					t.Fatalf("length %d: substitution at %d of %q passes", n, pos, code)
				}
				mustSuggest(t, string(b), code)
				b[pos] = code[pos]
				if pos+1 < n && code[pos] != code[pos+1] {
					b[pos], b[pos+1] = code[pos+1], code[pos]
					if checkcode.Valid(string(b)) {
						t.Fatalf("length %d: transposition at %d of %q passes", n, pos, code)
					}
					mustSuggest(t, string(b), code)
					b[pos], b[pos+1] = code[pos], code[pos+1]
				}
			}
		}
	}
}

// otherSymbol returns a random symbol different from sym.
func otherSymbol(rng *rand.Rand, sym byte) byte {
	for {
		if s := checkcode.Alphabet[rng.IntN(len(checkcode.Alphabet))]; s != sym {
			return s
		}
	}
}
