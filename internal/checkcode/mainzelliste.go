package checkcode

import (
	"fmt"
	"io"
	"sort"
)

// The PIDs of Mainzelliste, the pseudonymisation service many German trusted third parties
// run (STANDARDS.md §5; Faldum and Pommerening, 2005): 8 symbols of the same Alphabet, six
// data symbols c_0 … c_5 and two check symbols
//
//	c_6 = Σ_{i=0..5} α^(i+1) · c_i
//	c_7 = Σ_{i=0..5} α^(2(i+1)) · c_i
//
// in the same field GF(32) (x^5 + x^2 + 1, α = x). This is a different code from the one
// of the rest of this package (biobank-v1, whose two checks are Σ c_i = 0 and
// Σ c_i·α^(i+1) = 0 over the whole word): the two accept each other's codes only by chance,
// 1 time in 1,024. Implemented from the mathematics.
//
// The syndromes S1 = c_6 + Σ α^(i+1)·c_i and S2 = c_7 + Σ α^(2(i+1))·c_i locate one error.
// A substitution e at data position j gives S1 = α^(j+1)·e and S2 = α^(2(j+1))·e, ratio
// S2/S1 = α^(j+1); at c_6 it gives S2 = 0, at c_7 S1 = 0. A swap of data positions i and
// i+1 with difference d gives S1 = d·α^(i+1)·(1+α), S2 = d·α^(2(i+1))·(1+α)², ratio
// α^(i+1)·(1+α) = α^(i+19) (1+α = α^18 in this field). A swap of positions i and i+2 gives
// ratio α^(i+1)·(1+α)² = α^(i+6) — for i = 0 the same ratio as a substitution at position
// 5, so a jump transposition can look like a substitution. Suggestions are therefore
// offered only when exactly one correction of these kinds explains the syndromes.

// PIDLen is the length of a Mainzelliste PID.
const PIDLen = 8

// pidDataLen is the number of data symbols of a PID.
const pidDataLen = PIDLen - CheckLen

// pidSyndromes returns S1 and S2 of an 8-symbol word; both are 0 exactly for a valid PID.
func pidSyndromes(w []byte) (s1, s2 byte) {
	s1, s2 = w[6], w[7]
	for i := 0; i < pidDataLen; i++ {
		s1 ^= mul(alphaPow(i+1), w[i])
		s2 ^= mul(alphaPow(2*(i+1)), w[i])
	}
	return s1, s2
}

// ValidPID reports whether code is a valid Mainzelliste PID exactly as written (no
// normalisation).
func ValidPID(code string) bool {
	if len(code) != PIDLen {
		return false
	}
	w, err := symbols(code, PIDLen)
	if err != nil {
		return false
	}
	s1, s2 := pidSyndromes(w)
	return s1 == 0 && s2 == 0
}

// AppendPID returns six data symbols followed by their Mainzelliste check symbols.
func AppendPID(data string) (string, error) {
	w, err := symbols(data, pidDataLen)
	if err != nil {
		return "", err
	}
	w = append(w, 0, 0)
	w[6], w[7] = pidSyndromes(w)
	return word(w), nil
}

// GeneratePID returns a new random PID with valid Mainzelliste check symbols; random must
// be a cryptographically secure source (crypto/rand.Reader).
func GeneratePID(random io.Reader) (string, error) {
	buf := make([]byte, pidDataLen)
	if _, err := io.ReadFull(random, buf); err != nil {
		return "", fmt.Errorf("checkcode: read random bytes: %w", err)
	}
	w := make([]byte, PIDLen)
	for i, b := range buf {
		w[i] = b & 31 // uniform: 32 divides 256
	}
	w[6], w[7] = pidSyndromes(w)
	return word(w), nil
}

// CheckPID reads a PID a person typed or scanned: normalised (see Normalize), then checked.
// It returns the normalised PID when it is valid; otherwise a *FormatError, or a
// *CheckError whose only suggestion is the one correction — a single substitution, a swap
// of neighbours or a swap across one symbol — that explains the error, when exactly one
// does. It never applies a correction itself.
func CheckPID(s string) (string, error) {
	code := Normalize(s)
	w, err := symbols(code, PIDLen)
	if err != nil {
		return "", err
	}
	s1, s2 := pidSyndromes(w)
	if s1 == 0 && s2 == 0 {
		return code, nil
	}
	return "", &CheckError{Input: code, Suggestions: pidCorrections(w, s1, s2)}
}

// pidCorrections lists the correction of w when exactly one single substitution, adjacent
// transposition or jump transposition (positions i and i+2) turns it into a valid PID;
// none when there are several (the error cannot be told) or none.
func pidCorrections(w []byte, s1, s2 byte) []string {
	found := map[string]bool{}
	try := func(c []byte) {
		if a, b := pidSyndromes(c); a == 0 && b == 0 {
			found[word(c)] = true
		}
	}
	// Substitutions, located by the syndromes.
	switch {
	case s1 != 0 && s2 == 0:
		c := clone(w)
		c[6] ^= s1
		try(c)
	case s1 == 0 && s2 != 0:
		c := clone(w)
		c[7] ^= s2
		try(c)
	default:
		if k := logOf[div(s2, s1)]; k >= 1 && k <= pidDataLen {
			c := clone(w)
			c[k-1] ^= div(s1, alphaPow(k))
			try(c)
		}
	}
	// Transpositions of neighbours and across one symbol, checked and kept only if valid
	// (those that involve a check symbol do not follow the ratios above, so all are tried).
	for gap := 1; gap <= 2; gap++ {
		for i := 0; i+gap < PIDLen; i++ {
			if w[i] == w[i+gap] {
				continue
			}
			c := clone(w)
			c[i], c[i+gap] = c[i+gap], c[i]
			try(c)
		}
	}
	if len(found) != 1 {
		return nil
	}
	out := make([]string, 0, 1)
	for c := range found {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func clone(w []byte) []byte { return append([]byte(nil), w...) }
