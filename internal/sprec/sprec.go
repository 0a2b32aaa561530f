package sprec

import (
	"strings"
	"time"
)

// Version is the SPREC version these codes follow; store it beside every code.
const Version = "2.0"

// Unknown and other codes, per element width.
const (
	unknown1 = "X"
	other1   = "Z"
	na1      = "N"
	unknown3 = "XXX"
	other3   = "ZZZ"
)

// InputError is a recorded fact that contradicts another or cannot be true. Field names the
// input it belongs beside (snake_case, as a form or JSON body names it); Message is a
// sentence to show a person as it is.
type InputError struct {
	Field   string
	Message string
}

// Error returns the message.
func (e *InputError) Error() string { return e.Message }

func inputError(field, message string) error {
	return &InputError{Field: field, Message: message}
}

// Duration is a recorded length of time. Its zero value is unknown; NotApplicable says the
// step did not happen (for example no warm ischaemia for a biopsy). Setting both is a
// contradiction and an error.
type Duration struct {
	NotApplicable bool
	Value         *time.Duration
}

// Known returns a Duration of d.
func Known(d time.Duration) Duration { return Duration{Value: &d} }

// NotApplicable is the Duration of a step that did not happen.
var NotApplicable = Duration{NotApplicable: true}

// band is one interval [from, to) of a coded quantity; to == 0 means no upper bound.
type band[T int | time.Duration] struct {
	from, to T
	code     string
}

// inBand returns the code of the band v falls in, or "" when none holds it.
func inBand[T int | time.Duration](bands []band[T], v T) string {
	for _, b := range bands {
		if v >= b.from && (b.to == 0 || v < b.to) {
			return b.code
		}
	}
	return ""
}

// norm trims and upper-cases a code a person or a database gave.
func norm(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// threeLetter maps a recorded code to itself when the standard lists it, XXX when empty and
// ZZZ otherwise.
func threeLetter(s string, listed map[string]bool) string {
	s = norm(s)
	switch {
	case s == "":
		return unknown3
	case listed[s]:
		return s
	default:
		return other3
	}
}

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}
