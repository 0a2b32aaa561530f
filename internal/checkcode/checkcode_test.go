package checkcode_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"biobank/internal/checkcode"
)

func TestAlphabet_Has32DistinctSymbolsWithoutLookAlikes(t *testing.T) {
	if len(checkcode.Alphabet) != 32 {
		t.Fatalf("len(Alphabet) = %d, want 32", len(checkcode.Alphabet))
	}
	seen := map[rune]bool{}
	for _, r := range checkcode.Alphabet {
		if seen[r] {
			t.Errorf("symbol %q appears twice", r)
		}
		seen[r] = true
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z') {
			t.Errorf("symbol %q is not a digit or upper-case letter", r)
		}
	}
	for _, r := range "BIOS" {
		if seen[r] {
			t.Errorf("look-alike letter %q is in the alphabet", r)
		}
	}
}

// The expected check symbols below were worked out by hand with α^5 = α^2 + 1 (symbol values:
// α^-1 = α^4 + α = 18 = K, 1 + α^-1 = 19 = L, …) and each checked against both parity
// equations; see the comments for the reasoning.
func TestAppend_KnownVectors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		// Zero data: both sums are zero already.
		{"shortest zero code", "0", "000"},
		{"zero pseudonym", "000000", "00000000"},
		{"zero accession ID", "00000000", "0000000000"},
		// A 1 in the last data position (weight α^(n-2)) always gives q = α^-1, p = 1 + α^-1.
		{"single one", "1", "1LK"},
		{"one in the last data position of a pseudonym", "000001", "000001LK"},
		{"one in the last data position of an accession ID", "00000001", "00000001LK"},
		// The code is linear: α times the previous vector gives p = α·19 = 3, q = α·18 = 1.
		{"two in the last data position", "000002", "00000231"},
		// A = 1, B = α: q = (α + α^7)/(α^7 + α^8) = α^28/α^25 = α^3 = 8, p = 1 + 8 = 9.
		{"one in the first data position", "100000", "10000098"},
		// A = 0, B = α + … + α^6 = α^10: q = α^10/α^25 = α^16 = 27 = V, p = q.
		{"all ones", "111111", "111111VV"},
		// Z = 31 = α^15 times the all-ones vector: p = q = α^16·α^15 = 1.
		{"all Z", "ZZZZZZ", "ZZZZZZ11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkcode.Append(tt.data)
			if err != nil {
				t.Fatalf("Append(%q): %v", tt.data, err)
			}
			if got != tt.want {
				t.Errorf("Append(%q) = %q, want %q", tt.data, got, tt.want)
			}
			check, err := checkcode.Compute(tt.data)
			if err != nil || check != tt.want[len(tt.data):] {
				t.Errorf("Compute(%q) = %q, %v; want %q", tt.data, check, err, tt.want[len(tt.data):])
			}
			if !checkcode.Valid(got) {
				t.Errorf("Valid(%q) = false", got)
			}
		})
	}
}

func TestCompute_OnlyTheComputedCheckSymbolsMakeACodeValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for dataLen := 1; dataLen <= checkcode.MaxLen-checkcode.CheckLen; dataLen++ {
		data := randomSymbols(rng, dataLen)
		check, err := checkcode.Compute(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range checkcode.Alphabet {
			for _, q := range checkcode.Alphabet {
				candidate := string(p) + string(q)
				if valid := checkcode.Valid(data + candidate); valid != (candidate == check) {
					t.Fatalf("Valid(%q) = %v, but Compute(%q) = %q", data+candidate, valid, data, check)
				}
			}
		}
	}
}

func TestAppend_RoundTripIsValidForEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for dataLen := 1; dataLen <= checkcode.MaxLen-checkcode.CheckLen; dataLen++ {
		for range 200 {
			data := randomSymbols(rng, dataLen)
			code, err := checkcode.Append(data)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(code, data) || len(code) != dataLen+checkcode.CheckLen {
				t.Fatalf("Append(%q) = %q: want the data followed by two check symbols", data, code)
			}
			if !checkcode.Valid(code) {
				t.Fatalf("Valid(Append(%q)) = false", data)
			}
			if got, err := checkcode.Check(code, len(code)); err != nil || got != code {
				t.Fatalf("Check(%q) = %q, %v", code, got, err)
			}
		}
	}
}

func TestCompute_RefusesDataThatIsNotSymbols(t *testing.T) {
	tests := []struct {
		name, data string
		wantLength bool // ErrUnsupportedLength rather than *FormatError
		wantPos    int
		wantChar   rune
	}{
		{name: "empty", data: "", wantLength: true},
		{name: "too long for distinct weights", data: strings.Repeat("1", 30), wantLength: true},
		{name: "punctuation", data: "K3X7Q!", wantPos: 6, wantChar: '!'},
		{name: "lower case is not normalised", data: "k3x7q2", wantPos: 1, wantChar: 'k'},
		{name: "look-alike letter is not normalised", data: "K3X7O2", wantPos: 5, wantChar: 'O'},
		{name: "non-ASCII", data: "K3X7Q\u00c4", wantPos: 6, wantChar: '\u00c4'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check, err := checkcode.Compute(tt.data)
			if err == nil {
				t.Fatalf("Compute(%q) = %q, want an error", tt.data, check)
			}
			if _, err2 := checkcode.Append(tt.data); err2 == nil {
				t.Errorf("Append(%q) succeeded", tt.data)
			}
			if tt.wantLength {
				if !errors.Is(err, checkcode.ErrUnsupportedLength) {
					t.Errorf("Compute(%q) error = %v, want ErrUnsupportedLength", tt.data, err)
				}
				return
			}
			var fe *checkcode.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Compute(%q) error = %v (%T), want *FormatError", tt.data, err, err)
			}
			if fe.Pos != tt.wantPos || fe.Char != tt.wantChar {
				t.Errorf("FormatError names %q at %d, want %q at %d", fe.Char, fe.Pos, tt.wantChar, tt.wantPos)
			}
		})
	}
}

func TestValid_RefusesAnythingButAnExactCorrectCode(t *testing.T) {
	tests := []struct{ name, code string }{
		{"empty", ""},
		{"only check symbols", "00"},
		{"longer than 31 symbols even if the sums are zero", strings.Repeat("0", 32)},
		{"wrong check symbol", "10000099"},
		{"lower case", "zzzzzz11"},
		{"hyphenated", "ZZZ-ZZZ11"},
		{"surrounding space", " 10000098"},
		{"look-alike letter", "1OOOOO98"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if checkcode.Valid(tt.code) {
				t.Errorf("Valid(%q) = true", tt.code)
			}
		})
	}
}

func TestCheck_AcceptsCorrectCodeAsNormalised(t *testing.T) {
	tests := []struct {
		name, input string
		length      int
		want        string
	}{
		{"exact", "10000098", 8, "10000098"},
		{"lower case", "zzzzzz11", 8, "ZZZZZZ11"},
		{"grouped with hyphens", "ZZZ-ZZZ-11", 8, "ZZZZZZ11"},
		{"grouped with spaces and padded", "  1000 0098 ", 8, "10000098"},
		{"scanner line ending", "\t000001LK\r\n", 8, "000001LK"},
		{"letter O for zero", "1OoOoO98", 8, "10000098"},
		{"letters I and L", "iii111vv", 8, "111111VV"},
		{"accession ID", "0000-0001-lk", 10, "00000001LK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkcode.Check(tt.input, tt.length)
			if err != nil || got != tt.want {
				t.Errorf("Check(%q, %d) = %q, %v; want %q", tt.input, tt.length, got, err, tt.want)
			}
		})
	}
}

func TestCheck_RefusesMalformedInputNamingTheProblem(t *testing.T) {
	tests := []struct {
		name, input string
		length      int
		wantPos     int
		wantChar    rune
		wantMessage string
	}{
		{
			name: "empty", input: "  ", length: 8,
			wantMessage: "No code was entered.",
		},
		{
			name: "one symbol missing", input: "k3x7q2m", length: 8,
			wantMessage: `"K3X7Q2M" has 7 characters but should have 8: a character may be missing.`,
		},
		{
			name: "one symbol too many", input: "K3X7Q2M99", length: 8,
			wantMessage: `"K3X7Q2M99" has 9 characters but should have 8: a character may have been typed twice, or this is a different kind of code.`,
		},
		{
			name: "punctuation", input: "K3X7Q2M!", length: 8, wantPos: 8, wantChar: '!',
			wantMessage: `"K3X7Q2M!" has "!" at position 8, which cannot be part of a code: codes use only the digits 0 to 9 and the letters A to Z except B, I, O and S.`,
		},
		{
			name: "bad character reported before wrong length", input: "K3_X", length: 8, wantPos: 3, wantChar: '_',
		},
		{
			name: "position counts characters, not bytes", input: "ÄÖ", length: 8, wantPos: 1, wantChar: 'Ä',
		},
		{
			name: "position is in the normalised input", input: "K3-X7 Q2M.", length: 8, wantPos: 8, wantChar: '.',
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkcode.Check(tt.input, tt.length)
			var fe *checkcode.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Check(%q) = %q, %v; want a *FormatError", tt.input, got, err)
			}
			if got != "" {
				t.Errorf("Check returned %q alongside an error", got)
			}
			if fe.Pos != tt.wantPos || fe.Char != tt.wantChar || fe.Length != tt.length {
				t.Errorf("FormatError = %+v, want Pos %d Char %q Length %d", fe, tt.wantPos, tt.wantChar, tt.length)
			}
			if tt.wantMessage != "" && err.Error() != tt.wantMessage {
				t.Errorf("message = %q\n          want %q", err.Error(), tt.wantMessage)
			}
		})
	}
}

func TestCheck_WrongCheckSuggestsCorrectionsButNeverAppliesThem(t *testing.T) {
	msg := func(input, tail string) string {
		return `"` + input + `" has a wrong check character: it was probably mistyped or misread. ` + tail
	}
	tests := []struct {
		name, input     string
		wantSuggestions []string
		wantMessage     string
	}{
		{
			name: "last symbol substituted", input: "10000099",
			wantSuggestions: []string{"10000098"},
			wantMessage:     msg("10000099", "Did you mean 10000098?"),
		},
		{
			name: "first symbol substituted", input: "Z0000000",
			wantSuggestions: []string{"00000000"},
		},
		{
			name: "first two symbols swapped", input: "01000098",
			wantSuggestions: []string{"10000098"},
		},
		{
			name: "data symbol swapped with check symbol", input: "000010LK",
			wantSuggestions: []string{"000001LK"},
		},
		{
			name: "lower case input is suggested in normal form", input: "zzzzzz-12",
			wantSuggestions: []string{"ZZZZZZ11"},
			wantMessage:     msg("ZZZZZZ12", "Did you mean ZZZZZZ11?"),
		},
		{
			// Two different swaps each make a correct code; both are offered, sorted.
			name: "two candidate swaps", input: "QW2J359Q",
			wantSuggestions: []string{"Q2WJ359Q", "QW2J395Q"},
			wantMessage:     msg("QW2J359Q", "Did you mean Q2WJ359Q or QW2J395Q?"),
		},
		{
			// No single substitution or swap turns this into a correct code.
			name: "two substitutions give no suggestion", input: "Z00000LL",
			wantSuggestions: []string{},
			wantMessage:     msg("Z00000LL", "Please compare it with the label or document again."),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkcode.Check(tt.input, 8)
			if got != "" {
				t.Errorf("Check(%q) returned %q: a correction must never be applied silently", tt.input, got)
			}
			var ce *checkcode.CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("Check(%q) error = %v (%T), want *CheckError", tt.input, err, err)
			}
			if !slices.Equal(ce.Suggestions, tt.wantSuggestions) {
				t.Errorf("Suggestions = %q, want %q", ce.Suggestions, tt.wantSuggestions)
			}
			for _, s := range ce.Suggestions {
				if !checkcode.Valid(s) {
					t.Errorf("suggestion %q is not a correct code", s)
				}
			}
			if tt.wantMessage != "" && err.Error() != tt.wantMessage {
				t.Errorf("message = %q\n          want %q", err.Error(), tt.wantMessage)
			}
		})
	}
}

func TestCheckError_MessageJoinsSuggestionsInEnglish(t *testing.T) {
	const prefix = `"K3X7Q2M9" has a wrong check character: it was probably mistyped or misread. `
	tests := []struct {
		suggestions []string
		want        string
	}{
		{nil, prefix + "Please compare it with the label or document again."},
		{[]string{"K3X7Q2N9"}, prefix + "Did you mean K3X7Q2N9?"},
		{[]string{"A", "B"}, prefix + "Did you mean A or B?"},
		{[]string{"A", "B", "C"}, prefix + "Did you mean A, B or C?"},
	}
	for _, tt := range tests {
		err := &checkcode.CheckError{Input: "K3X7Q2M9", Suggestions: tt.suggestions}
		if got := err.Error(); got != tt.want {
			t.Errorf("with %v:\n got %q\nwant %q", tt.suggestions, got, tt.want)
		}
	}
}

func TestCheck_RefusesUnsupportedLength(t *testing.T) {
	for _, length := range []int{-1, 0, 1, 2, 32, 100} {
		got, err := checkcode.Check("00000000", length)
		if !errors.Is(err, checkcode.ErrUnsupportedLength) {
			t.Errorf("Check(_, %d) = %q, %v; want ErrUnsupportedLength", length, got, err)
		}
	}
}
