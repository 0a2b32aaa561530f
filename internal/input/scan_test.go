package input_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"biobank/internal/input"
)

func TestScanned(t *testing.T) {
	for in, want := range map[string]string{
		"AC00000001NN":            "AC00000001NN",
		"  AC00000001NN \r\n":     "AC00000001NN",
		"AC00000001NN\t":          "AC00000001NN",
		"AC00000001NN\r":          "AC00000001NN",
		"]d2AC00000001NN":         "AC00000001NN",
		"]C1FX00012345\n":         "FX00012345",
		"]Q1 0003Y0WZ":            "0003Y0WZ",
		"]E0 4006381333931":       "4006381333931",
		"\x1d]d2ac00000001nn\x1d": "ac00000001nn",
		"ac0000\x1d0001nn":        "ac00000001nn",
		"]":                       "]",
		"]d":                      "]d",
		"]x!abc":                  "]x!abc", // not an identifier: kept, so the check refuses it
		"":                        "",
		" \r\n\t":                 "",
	} {
		if got := input.Scanned(in); got != want {
			t.Errorf("Scanned(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzScanned(f *testing.F) {
	for _, s := range []string{"AC00000001NN", "]d2AC00000001NN\r\n", "\x1d]C1\x1d", "]]d2x", " ]Q1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := input.Scanned(s)
		if again := input.Scanned(got); again != got && !strings.HasPrefix(got, "]") {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("Scanned(%q) = %q keeps a control character", s, got)
			}
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("Scanned(%q) = %q keeps surrounding space", s, got)
		}
		if utf8.RuneCountInString(got) > utf8.RuneCountInString(s) {
			t.Fatalf("Scanned(%q) = %q grew", s, got)
		}
	})
}

func TestCSVCell_DefusesFormulasAndKeepsNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1+1": "'+1+1", "@SUM(A1)": "'@SUM(A1)", "-70": "-70", "+4.5": "+4.5",
		"-cmd": "'-cmd", "World Courier": "World Courier", "": "", "\tx": "'\tx",
	} {
		if got := input.CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
