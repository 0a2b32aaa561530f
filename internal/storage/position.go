package storage

import (
	"fmt"
	"strconv"
	"strings"

	"biobank/internal/apperr"
)

// Position is a cell of a box grid: row 1 is A, column 1 is 1.
type Position struct {
	Row int
	Col int
}

// String names the position as printed on boxes: A1, B12, …
func (p Position) String() string {
	return string(rune('A'+p.Row-1)) + strconv.Itoa(p.Col)
}

// ParsePosition reads a position such as A1, a01 or J10 (a zero-padded column, as rack
// scanners write, is accepted). It does not know the box: see Box.Contains.
func ParsePosition(field, s string) (Position, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if len(t) < 2 || t[0] < 'A' || t[0] > 'Z' {
		return Position{}, apperr.Invalid(field, fmt.Sprintf("%q is not a position: give a row letter and a column number, such as A1.", s))
	}
	col, err := strconv.Atoi(t[1:])
	if err != nil || col < 1 || col > 99 || strings.HasPrefix(t[1:], "+") || strings.HasPrefix(t[1:], "-") {
		return Position{}, apperr.Invalid(field, fmt.Sprintf("%q is not a position: give a row letter and a column number, such as A1.", s))
	}
	return Position{Row: int(t[0]-'A') + 1, Col: col}, nil
}
