package study

import (
	"regexp"
	"strings"

	"biobank/internal/apperr"
)

var icd10Pattern = regexp.MustCompile(`^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$`)

// ParseICD10 checks a diagnosis code: ICD-10, a letter and two digits with an optional
// subdivision after a dot (K50, K50.1, M06.9). An empty code is no diagnosis. Free text
// is refused: a diagnosis is exported to partners and must be a code.
func ParseICD10(field, raw string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(raw))
	if code == "" || icd10Pattern.MatchString(code) {
		return code, nil
	}
	return "", apperr.Invalid(field, "Give the diagnosis as an ICD-10 code, such as K50 (Crohn's disease), K51, M06 or G35.")
}
