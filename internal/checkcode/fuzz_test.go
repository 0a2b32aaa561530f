package checkcode_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"biobank/internal/checkcode"
)

// FuzzCheck feeds arbitrary input to the code parser. Whatever arrives, Check must not panic,
// must accept only correct codes of the requested length written in the Alphabet, must
// explain every refusal with one of its typed errors, and must offer only correct codes as
// suggestions; Normalize must be idempotent.
func FuzzCheck(f *testing.F) {
	seeds := []struct {
		s      string
		length int
	}{
		{"10000098", 8},
		{"k3x7-q2m9", 8},
		{" 1OOOOO98\r\n", 8},
		{"10000099", 8},
		{"01000098", 8},
		{"QW2J359Q", 8},
		{"0000-0001-LK", 10},
		{"00000001KL", 10},
		{"", 8},
		{"K3X7Q2M!", 8},
		{"ÄÖÜ\xff\xfe", 8},
		{"\u01c5\u0131\u017f", 3},
		{strings.Repeat("0", 31), 31},
		{strings.Repeat("0", 32), 32},
		{"000", 3},
		{"00", 2},
		{"10000098", -1},
	}
	for _, s := range seeds {
		f.Add(s.s, s.length)
	}
	f.Fuzz(func(t *testing.T, s string, length int) {
		norm := checkcode.Normalize(s)
		if again := checkcode.Normalize(norm); again != norm {
			t.Fatalf("Normalize not idempotent: %q → %q → %q", s, norm, again)
		}
		if !utf8.ValidString(norm) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, norm)
		}

		code, err := checkcode.Check(s, length)
		if err == nil {
			if code != norm {
				t.Fatalf("Check(%q) = %q, want the normalised input %q", s, code, norm)
			}
			if len(code) != length || !checkcode.Valid(code) {
				t.Fatalf("Check(%q, %d) accepted %q, which is not a correct code of that length", s, length, code)
			}
			for _, r := range code {
				if !strings.ContainsRune(checkcode.Alphabet, r) {
					t.Fatalf("Check(%q) accepted %q containing %q", s, code, r)
				}
			}
			return
		}
		if code != "" {
			t.Fatalf("Check(%q) returned %q with error %v", s, code, err)
		}
		var fe *checkcode.FormatError
		var ce *checkcode.CheckError
		switch {
		case errors.Is(err, checkcode.ErrUnsupportedLength):
			if length >= checkcode.MinLen && length <= checkcode.MaxLen {
				t.Fatalf("Check(_, %d) says the length is unsupported", length)
			}
		case errors.As(err, &fe):
			if fe.Input != norm || fe.Length != length {
				t.Fatalf("FormatError %+v does not describe %q, length %d", fe, norm, length)
			}
			if fe.Pos > 0 && []rune(norm)[fe.Pos-1] != fe.Char {
				t.Fatalf("FormatError names %q at %d, but %q has %q there", fe.Char, fe.Pos, norm, []rune(norm)[fe.Pos-1])
			}
		case errors.As(err, &ce):
			if checkcode.Valid(norm) || len(norm) != length {
				t.Fatalf("CheckError for %q, which is a correct code of length %d", norm, length)
			}
			for _, sug := range ce.Suggestions {
				if len(sug) != length || !checkcode.Valid(sug) {
					t.Fatalf("Check(%q) suggests %q, not a correct code of length %d", s, sug, length)
				}
			}
		default:
			t.Fatalf("Check(%q, %d) returned an untyped error %v", s, length, err)
		}
		if err.Error() == "" {
			t.Fatalf("Check(%q) returned an empty message", s)
		}
	})
}
