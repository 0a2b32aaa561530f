// Package checkcode makes and checks codes that people type or scan: pseudonyms, accession
// IDs, shipment codes (STANDARDS.md §5). A code is data symbols followed by two check symbols
// over a 32-symbol alphabet that leaves out the letters most often confused with digits.
//
// Two codes live here. This file is the application's own, "biobank-v1", used for
// accession IDs and for the pseudonyms of studies created before the schemes (Scheme);
// mainzelliste.go is the PID code of Mainzelliste (Faldum and Pommerening, 2005), which new
// studies use. They share the alphabet and the field but not the parity equations.
//
// The 32 symbols are the elements 0..31 of the finite field GF(32). For a code c_0 … c_{n-1}
// the check symbols are chosen so that both parity checks hold:
//
//	s1 = Σ c_i           = 0
//	s2 = Σ c_i · α^(i+1) = 0
//
// where α is a primitive element. For n ≤ 31 the weights α^1 … α^n are distinct and non-zero,
// so any two columns (1, α^(i+1)) of the parity-check matrix are independent and the code has
// minimum distance 3. Hence every error in one or two symbols is detected — every single
// substitution, every transposition of two different symbols (adjacent or not), every "twin"
// error — and a single substitution can be located: an error e at position j gives s1 = e and
// s2 = e·α^(j+1), so α^(j+1) = s2/s1.
//
// This is a construction of the same family as Faldum and Pommerening's (a distance-3 code
// over GF(32)), but not their parity equations: their PIDs are checked by mainzelliste.go.
package checkcode

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Alphabet lists the 32 symbols in the order of their field values 0..31: the digits and the
// upper-case letters without B, I, O and S, which are too easily read as 8, 1, 0 and 5.
const Alphabet = "0123456789ACDEFGHJKLMNPQRTUVWXYZ"

// CheckLen is the number of check symbols at the end of every code.
const CheckLen = 2

// MinLen and MaxLen bound the length of a code, check symbols included. Above 31 symbols two
// positions would share a weight (α^31 = α^0) and a transposition could go undetected.
const (
	MinLen = 1 + CheckLen
	MaxLen = order
)

// ErrUnsupportedLength is returned (wrapped) when a caller asks for a code length outside
// MinLen..MaxLen. It is a programming mistake, not something a person typed.
var ErrUnsupportedLength = errors.New("checkcode: unsupported code length")

// symbolOf maps an ASCII byte to its symbol value, or -1 when it is not in the Alphabet.
var symbolOf = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for v := 0; v < len(Alphabet); v++ {
		t[Alphabet[v]] = int8(v)
	}
	return t
}()

// Compute returns the two check symbols for data, a string of 1..MaxLen-CheckLen symbols of
// the Alphabet. data is taken as it is: use Normalize first for what a person typed. A
// character outside the Alphabet gives a *FormatError.
func Compute(data string) (string, error) {
	syms, err := symbols(data, len(data))
	if err != nil {
		return "", err
	}
	if len(syms) < MinLen-CheckLen || len(syms) > MaxLen-CheckLen {
		return "", fmt.Errorf("%w: %d data symbols (want %d to %d)",
			ErrUnsupportedLength, len(syms), MinLen-CheckLen, MaxLen-CheckLen)
	}
	p, q := checkSymbols(syms)
	return string([]byte{Alphabet[p], Alphabet[q]}), nil
}

// Append returns data followed by its two check symbols; see Compute.
func Append(data string) (string, error) {
	check, err := Compute(data)
	if err != nil {
		return "", err
	}
	return data + check, nil
}

// Valid reports whether code is a complete, correct code: MinLen..MaxLen symbols of the
// Alphabet, exactly as written (no normalisation), whose parity checks hold.
func Valid(code string) bool {
	if len(code) < MinLen || len(code) > MaxLen {
		return false
	}
	syms, err := symbols(code, len(code))
	if err != nil {
		return false
	}
	s1, s2 := syndromes(syms)
	return s1 == 0 && s2 == 0
}

// Check reads a code a person typed or scanned, expecting length symbols (check symbols
// included). It normalises s (see Normalize) and returns the normalised code if it is
// correct. Otherwise it returns a *FormatError for a wrong length or a character outside the
// Alphabet, or a *CheckError carrying the likely corrections — which Check never applies
// itself: a person must confirm one.
func Check(s string, length int) (string, error) {
	if length < MinLen || length > MaxLen {
		return "", fmt.Errorf("%w: %d (want %d to %d)", ErrUnsupportedLength, length, MinLen, MaxLen)
	}
	code := Normalize(s)
	syms, err := symbols(code, length)
	if err != nil {
		return "", err
	}
	s1, s2 := syndromes(syms)
	if s1 == 0 && s2 == 0 {
		return code, nil
	}
	return "", &CheckError{Input: code, Suggestions: suggestions(syms, s1, s2)}
}

// Normalize turns what a person typed or a scanner sent into the form codes are written in:
// upper case, without whitespace (around or inside) and without hyphens or dashes used to
// group the symbols, and with the look-alike letters read as the digits they resemble
// (O → 0, I → 1, B → 8, S → 5, in either case). Other characters are kept, so that Check can
// name them. Normalize is idempotent.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || isDash(r) {
			continue
		}
		switch r = unicode.ToUpper(r); r {
		case 'O':
			r = '0'
		case 'I':
			r = '1'
		case 'B':
			r = '8'
		case 'S':
			r = '5'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isDash reports whether r is a hyphen or dash that people (or word processors that replace
// "-") put between groups of symbols.
func isDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '\uFE63', '\uFF0D':
		return true
	}
	return false
}

// symbols converts s to symbol values, requiring exactly length of them. The first character
// outside the Alphabet is reported before a wrong length, because it says more precisely what
// went wrong.
func symbols(s string, length int) ([]byte, error) {
	syms := make([]byte, 0, len(s))
	pos := 0
	for _, r := range s {
		pos++
		if r >= 0x80 || symbolOf[r] < 0 {
			return nil, &FormatError{Input: s, Length: length, Pos: pos, Char: r}
		}
		syms = append(syms, byte(symbolOf[r]))
	}
	if len(syms) != length {
		return nil, &FormatError{Input: s, Length: length}
	}
	return syms, nil
}

// syndromes returns s1 = Σ c_i and s2 = Σ c_i·α^(i+1); both are 0 exactly for a code word.
func syndromes(syms []byte) (s1, s2 byte) {
	for i, c := range syms {
		s1 ^= c
		s2 ^= mul(c, alphaPow(i+1))
	}
	return s1, s2
}

// checkSymbols returns the check symbols p (position n-2) and q (position n-1) for the data
// symbols, n = len(data)+2. With A = Σ data_i and B = Σ data_i·α^(i+1) the parity checks read
//
//	p + q = A
//	p·α^(n-1) + q·α^n = B
//
// (minus is plus in characteristic 2). Substituting p = A + q gives
// q·α^(n-1)·(1 + α) = B + A·α^(n-1), and 1 + α ≠ 0, so q and then p are unique.
func checkSymbols(data []byte) (p, q byte) {
	a, b := syndromes(data)
	n := len(data) + CheckLen
	w := alphaPow(n - 1)
	const onePlusAlpha = 0b11 // 1 + x
	q = div(b^mul(a, w), mul(w, onePlusAlpha))
	p = a ^ q
	return p, q
}

// suggestions lists the codes one plausible slip away from syms that are correct: the single
// substitution the syndromes point at, and every swap of two adjacent different symbols that
// makes the checks hold. The list is sorted and has no duplicates; it may be empty.
func suggestions(syms []byte, s1, s2 byte) []string {
	found := map[string]bool{}
	if s1 != 0 && s2 != 0 {
		// A single error e at position j gives s1 = e and s2 = e·α^(j+1).
		j := ((logOf[s2]-logOf[s1]-1)%order + order) % order
		if j < len(syms) {
			fixed := append([]byte(nil), syms...)
			fixed[j] ^= s1
			found[word(fixed)] = true
		}
	}
	swapped := append([]byte(nil), syms...)
	for j := 0; j+1 < len(swapped); j++ {
		if swapped[j] == swapped[j+1] {
			continue
		}
		swapped[j], swapped[j+1] = swapped[j+1], swapped[j]
		if t1, t2 := syndromes(swapped); t1 == 0 && t2 == 0 {
			found[word(swapped)] = true
		}
		swapped[j], swapped[j+1] = swapped[j+1], swapped[j]
	}
	out := make([]string, 0, len(found))
	for c := range found {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// word writes symbol values as a string of the Alphabet.
func word(syms []byte) string {
	b := make([]byte, len(syms))
	for i, c := range syms {
		b[i] = Alphabet[c]
	}
	return string(b)
}
