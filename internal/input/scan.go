package input

import (
	"strings"
	"unicode"
)

// Scanned makes what a barcode scanner (or a person) sent ready to look up, in one place
// for every scan field: surrounding white space and control characters are removed (a
// trailing CR, LF or tab, a GS1 group separator), and an AIM symbology identifier in front
// (]d2 for GS1 Data Matrix, ]C1 for GS1-128, ]Q1 for QR, … — a "]", a symbology letter and a
// modifier) is dropped, as are the control characters some scanners put inside. Case and
// the other characters are kept: each kind of code is then read its own way (an accession
// ID case-insensitively and with its check characters, a tube barcode as printed).
func Scanned(raw string) string {
	s := strings.TrimFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	for len(s) >= 3 && s[0] == ']' && isAIMSymbology(s[1]) && isAIMModifier(s[2]) {
		s = strings.TrimFunc(s[3:], func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// isAIMSymbology is a symbology code character of ISO/IEC 15424 (A–Z, a–z).
func isAIMSymbology(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// isAIMModifier is a modifier character (0–9, A–Z).
func isAIMModifier(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' }
