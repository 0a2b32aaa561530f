package checkcode

import (
	"fmt"
	"strings"
)

// FormatError means the input cannot be a code at all: a character outside the Alphabet, or
// the wrong number of symbols. Its message is a sentence to show a person as it is.
type FormatError struct {
	// Input is the input after Normalize.
	Input string
	// Length is the number of symbols a code must have.
	Length int
	// Pos is the 1-based position in Input of the first character outside the Alphabet, and
	// Char that character; Pos is 0 when every character is allowed but there are too few or
	// too many of them.
	Pos  int
	Char rune
}

// Error says in a sentence what is wrong with the input and, where it can, why.
func (e *FormatError) Error() string {
	switch n := len([]rune(e.Input)); {
	case e.Pos > 0:
		return fmt.Sprintf("%q has %q at position %d, which cannot be part of a code: "+
			"codes use only the digits 0 to 9 and the letters A to Z except B, I, O and S.",
			e.Input, string(e.Char), e.Pos)
	case n == 0:
		return "No code was entered."
	case n < e.Length:
		return fmt.Sprintf("%q has %d characters but should have %d: a character may be missing.",
			e.Input, n, e.Length)
	default:
		return fmt.Sprintf("%q has %d characters but should have %d: a character may have been "+
			"typed twice, or this is a different kind of code.", e.Input, n, e.Length)
	}
}

// CheckError means the input has the form of a code but its check symbols do not match: some
// symbol was mistyped or misread. Suggestions holds the likely intended codes — the single
// substitution the check symbols point at and any swap of two neighbouring symbols that makes
// the code correct — sorted, possibly empty. They are only suggestions: a person must choose.
type CheckError struct {
	// Input is the input after Normalize.
	Input       string
	Suggestions []string
}

// Error says the code does not pass its check and offers the suggestions, if any.
func (e *CheckError) Error() string {
	msg := fmt.Sprintf("%q has a wrong check character: it was probably mistyped or misread.", e.Input)
	switch n := len(e.Suggestions); n {
	case 0:
		return msg + " Please compare it with the label or document again."
	case 1:
		return msg + " Did you mean " + e.Suggestions[0] + "?"
	default:
		return msg + " Did you mean " + strings.Join(e.Suggestions[:n-1], ", ") +
			" or " + e.Suggestions[n-1] + "?"
	}
}
