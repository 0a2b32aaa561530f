package participant

import (
	"crypto/rand"
	"errors"
	"regexp"
	"strings"

	"biobank/internal/apperr"
	"biobank/internal/checkcode"
	"biobank/internal/study"
)

// PseudonymLength is the length of a built-in pseudonym: 6 random symbols and 2 check
// symbols (STANDARDS.md §5).
const PseudonymLength = 8

// storedPseudonym is the shape every stored pseudonym has (a database CHECK says the same).
var storedPseudonym = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{3,39}$`)

// NewPseudonym draws a fresh pseudonym from a cryptographically secure source.
func NewPseudonym() (string, error) {
	return checkcode.Generate(rand.Reader, PseudonymLength-2)
}

// ParsePseudonym reads a scanned or typed pseudonym in the built-in format: normalised
// (case, spaces, the look-alikes O/I/B/S), then its check symbols verified. A wrong check
// gives a ValidationError with code "wrong_check" whose message suggests the likely
// correction; it is never applied silently.
func ParsePseudonym(field, raw string) (string, error) {
	p, err := checkcode.Check(raw, PseudonymLength)
	if err == nil {
		return p, nil
	}
	var ce *checkcode.CheckError
	if errors.As(err, &ce) {
		return "", apperr.InvalidCode(field, "wrong_check", ce.Error())
	}
	var fe *checkcode.FormatError
	if errors.As(err, &fe) {
		return "", apperr.InvalidCode(field, "malformed_pseudonym", fe.Error())
	}
	return "", apperr.InvalidCode(field, "malformed_pseudonym", "This is not a pseudonym.")
}

// acceptPseudonym checks a pseudonym entered at enrolment: the built-in format, or an
// externally issued one that matches the study's pattern (and, if the study says so, the
// built-in check symbols too). It returns the pseudonym as stored and whether it is
// external.
func acceptPseudonym(st study.Study, raw string) (string, bool, error) {
	trimmed := strings.ToUpper(strings.TrimSpace(raw))
	if st.AcceptsExternal(trimmed) {
		if !storedPseudonym.MatchString(trimmed) {
			return "", false, apperr.InvalidCode("pseudonym", "malformed_pseudonym",
				"An external pseudonym has 4 to 40 letters, digits, dots, dashes or underscores.")
		}
		if st.PseudonymCheck && !checkcode.Valid(trimmed) {
			return "", false, apperr.InvalidCode("pseudonym", "wrong_check",
				"This pseudonym's check character is wrong: it was probably mistyped. Check it against the trusted third party's letter.")
		}
		return trimmed, true, nil
	}
	p, err := ParsePseudonym("pseudonym", raw)
	return p, false, err
}

// normaliseLookup turns a scanned or typed pseudonym into the stored form for a lookup:
// built-in pseudonyms are checked (so a misread scan is caught); anything else is looked
// up as typed, upper-cased.
func normaliseLookup(raw string) (string, error) {
	n := checkcode.Normalize(raw)
	if len(n) == PseudonymLength && isAlphabet(n) {
		return ParsePseudonym("pseudonym", raw)
	}
	t := strings.ToUpper(strings.TrimSpace(raw))
	if !storedPseudonym.MatchString(t) {
		return "", apperr.InvalidCode("pseudonym", "malformed_pseudonym", "This is not a pseudonym: a pseudonym has 8 characters, such as K3X7Q2M9.")
	}
	return t, nil
}

func isAlphabet(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune(checkcode.Alphabet, r) {
			return false
		}
	}
	return true
}
