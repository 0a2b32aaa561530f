// Package input normalises and checks what people type, returning apperr validation
// errors that name the field. Every domain service uses it, so the same rules and the same
// messages hold on every form and endpoint.
package input

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"biobank/internal/apperr"
)

// MaxReasonLength bounds the reason given for a change.
const MaxReasonLength = 500

// Reason trims a reason and refuses an empty or over-long one.
func Reason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	if r == "" {
		return "", apperr.InvalidCode("reason", "reason_required", "Give a reason for this change; it is kept in the audit trail.")
	}
	if utf8.RuneCountInString(r) > MaxReasonLength {
		return "", apperr.Invalid("reason", fmt.Sprintf("The reason may have at most %d characters.", MaxReasonLength))
	}
	return r, nil
}

// Text trims s and checks it is present (when required) and at most max characters.
// label is the field's name for people, e.g. "name".
func Text(field, label, s string, max int, required bool) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" && required {
		return "", apperr.Invalid(field, fmt.Sprintf("Enter the %s.", label))
	}
	if utf8.RuneCountInString(t) > max {
		return "", apperr.Invalid(field, fmt.Sprintf("The %s may have at most %d characters.", label, max))
	}
	if strings.ContainsAny(t, "\x00") {
		return "", apperr.Invalid(field, fmt.Sprintf("The %s contains a character that cannot be stored.", label))
	}
	return t, nil
}

// Date parses a YYYY-MM-DD date.
func Date(field, label, s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return time.Time{}, apperr.Invalid(field, fmt.Sprintf("Enter the %s as YYYY-MM-DD.", label))
	}
	d, err := time.Parse("2006-01-02", t)
	if err != nil {
		return time.Time{}, apperr.Invalid(field, fmt.Sprintf("The %s %q is not a date: use YYYY-MM-DD.", label, t))
	}
	return d, nil
}

// NotFuture refuses a date after today (in UTC, with a day's grace for time zones ahead
// of UTC, such as a clinic in Luxembourg just after midnight).
func NotFuture(field, label string, d, now time.Time) error {
	if d.After(now.UTC().AddDate(0, 0, 1)) {
		return apperr.Invalid(field, fmt.Sprintf("The %s cannot be in the future.", label))
	}
	return nil
}

// CSVCell makes text safe in a cell of a CSV file opened by a spreadsheet: a cell that
// begins with =, +, -, @, a tab or a carriage return would be taken for a formula, so it
// gets a leading apostrophe. Numbers (-70, +4) are left as they are.
func CSVCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}
