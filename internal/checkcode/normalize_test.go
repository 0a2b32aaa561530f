package checkcode_test

import (
	"testing"

	"biobank/internal/checkcode"
)

func TestNormalize_ReadsWhatPeopleTypeAsCodeSymbols(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"already normal", "K3X7Q2M9", "K3X7Q2M9"},
		{"lower case is upper-cased", "k3x7q2m9", "K3X7Q2M9"},
		{"letter O is zero", "oO0", "000"},
		{"letter I is one", "iI1", "111"},
		{"letter S is five", "sS5", "555"},
		{"letter B is eight", "bB8", "888"},
		{"letter L stays L, a symbol of its own", "l1L", "L1L"},
		{"surrounding whitespace is dropped", " \tK3X7Q2M9\r\n", "K3X7Q2M9"},
		{"inner spaces are dropped", "K3X7 Q2M9", "K3X7Q2M9"},
		{"no-break space is dropped", "K3X7\u00a0Q2M9", "K3X7Q2M9"},
		{"hyphens are dropped", "K3X-7Q2-M9", "K3X7Q2M9"},
		{"typographic dashes are dropped", "K3X7\u2013Q2M9\u2010", "K3X7Q2M9"},
		{"other punctuation is kept for Check to name", "K3X7_Q2M9.", "K3X7_Q2M9."},
		{"non-ASCII letters are upper-cased and kept", "k3x7q2mä", "K3X7Q2MÄ"},
		{"invalid UTF-8 becomes the replacement character", "K3\xff", "K3\uFFFD"},
		{"empty", "", ""},
		{"only separators", " - \t", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkcode.Normalize(tt.input)
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.input, got, tt.want)
			}
			if again := checkcode.Normalize(got); again != got {
				t.Errorf("Normalize is not idempotent: Normalize(%q) = %q", got, again)
			}
		})
	}
}
