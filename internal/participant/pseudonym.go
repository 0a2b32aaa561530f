package participant

import (
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gorm.io/gorm"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/study"
)

// PseudonymLength is the length of a checked pseudonym: 6 data symbols and 2 check symbols,
// under the study's scheme (STANDARDS.md §5).
const PseudonymLength = checkcode.PIDLen

// storedPseudonym is the shape every stored pseudonym has (a database CHECK says the same).
var storedPseudonym = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{3,39}$`)

// NewPseudonym draws a fresh pseudonym of the scheme from a cryptographically secure
// source (a study without a check gets Mainzelliste PIDs).
func NewPseudonym(scheme checkcode.Scheme) (string, error) {
	return scheme.Generate(rand.Reader)
}

// ParsePseudonym reads a scanned or typed pseudonym under a scheme with a check: normalised
// (case, spaces, dashes, the look-alikes O/I/B/S), then its check symbols verified by that
// scheme's arithmetic. A wrong check gives a ValidationError with code "wrong_check" whose
// message suggests the correction the scheme is sure of, if any; it is never applied.
func ParsePseudonym(field string, scheme checkcode.Scheme, raw string) (string, error) {
	p, err := scheme.Check(raw)
	if err == nil {
		return p, nil
	}
	return "", pseudonymError(field, err)
}

func pseudonymError(field string, err error) error {
	var ce *checkcode.CheckError
	if errors.As(err, &ce) {
		return apperr.InvalidCode(field, "wrong_check", ce.Error())
	}
	var fe *checkcode.FormatError
	if errors.As(err, &fe) {
		return apperr.InvalidCode(field, "malformed_pseudonym", fe.Error())
	}
	return apperr.InvalidCode(field, "malformed_pseudonym", "This is not a pseudonym.")
}

// acceptPseudonym checks a pseudonym entered at enrolment under the study's scheme and
// returns it as stored, and whether it was issued outside this application:
//   - mainzelliste: a valid Mainzelliste PID (a trusted third party's, or one this
//     application generated and printed), which must also match the study's pattern when
//     it has one (a range of PIDs, say);
//   - biobank-v1: as before the schemes, a pseudonym of the built-in format, or one that
//     matches the study's pattern and passes the built-in check;
//   - none: one that matches the study's pattern, as written; or a PID this application
//     generated for the study.
func acceptPseudonym(st study.Study, raw string) (string, bool, error) {
	trimmed := strings.ToUpper(strings.TrimSpace(raw))
	switch st.PseudonymScheme {
	case checkcode.SchemeMainzelliste:
		p, err := ParsePseudonym("pseudonym", checkcode.SchemeMainzelliste, raw)
		if err == nil && st.PseudonymPattern != "" && !st.AcceptsExternal(p) {
			return "", false, apperr.InvalidCode("pseudonym", "malformed_pseudonym", fmt.Sprintf(
				"%s is a valid PID but not of this study's range (%s).", p, st.PseudonymPattern))
		}
		return p, false, err
	case checkcode.SchemeNone:
		if st.AcceptsExternal(trimmed) {
			if !storedPseudonym.MatchString(trimmed) {
				return "", false, externalShape()
			}
			return trimmed, true, nil
		}
		if p, err := checkcode.CheckPID(raw); err == nil {
			return p, false, nil
		}
		return "", false, apperr.InvalidCode("pseudonym", "malformed_pseudonym", fmt.Sprintf(
			"%q does not have the form of this study's pseudonyms (%s).", trimmed, st.PseudonymPattern))
	}
	if st.AcceptsExternal(trimmed) {
		if !storedPseudonym.MatchString(trimmed) {
			return "", false, externalShape()
		}
		if !checkcode.Valid(trimmed) {
			return "", false, apperr.InvalidCode("pseudonym", "wrong_check",
				"This pseudonym's check character is wrong: it was probably mistyped. Check it against the trusted third party's letter.")
		}
		return trimmed, true, nil
	}
	p, err := ParsePseudonym("pseudonym", checkcode.SchemeBiobankV1, raw)
	return p, false, err
}

func externalShape() error {
	return apperr.InvalidCode("pseudonym", "malformed_pseudonym",
		"An external pseudonym has 4 to 40 letters, digits, dots, dashes or underscores.")
}

// normaliseLookup turns a scanned or typed pseudonym that was not found as typed into the
// stored form. Eight symbols of the code alphabet are tried under every scheme with a
// check that a study uses: valid under one, it is that pseudonym; valid under none, it is a
// wrong_check error suggesting the corrections each scheme is sure of that name a
// participant the actor can see (a lookup does not know the study, so a suggestion must be
// a pseudonym that exists). Anything else is looked up as typed, upper-cased.
func normaliseLookup(q *gorm.DB, actor auth.Actor, raw string) (string, error) {
	n := checkcode.Normalize(raw)
	if len(n) == PseudonymLength && isAlphabet(n) {
		schemes, err := study.PseudonymSchemes(q)
		if err != nil {
			return "", err
		}
		if len(schemes) > 0 {
			var candidates []string
			for _, sc := range schemes {
				if sc.Valid(n) {
					return n, nil
				}
				var ce *checkcode.CheckError
				if _, err := sc.Check(n); errors.As(err, &ce) {
					candidates = append(candidates, ce.Suggestions...)
				}
			}
			var existing []string
			if len(candidates) > 0 {
				err := actor.ScopeToSite(q.Table("participants"), "site_id").Where("pseudonym IN ?", candidates).
					Order("pseudonym").Pluck("pseudonym", &existing).Error
				if err != nil {
					return "", err
				}
			}
			return "", pseudonymError("pseudonym", &checkcode.CheckError{Input: n, Suggestions: existing})
		}
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
