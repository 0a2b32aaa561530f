package storage_test

import (
	"testing"

	"biobank/internal/apperr"
	"biobank/internal/storage"
)

func TestParsePosition_ReadsRowLetterAndColumn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want storage.Position
	}{
		{"A1", storage.Position{Row: 1, Col: 1}},
		{"a01", storage.Position{Row: 1, Col: 1}},
		{" b7 ", storage.Position{Row: 2, Col: 7}},
		{"J10", storage.Position{Row: 10, Col: 10}},
		{"H012", storage.Position{Row: 8, Col: 12}},
		{"Z30", storage.Position{Row: 26, Col: 30}},
		{"A99", storage.Position{Row: 1, Col: 99}}, // no box has it: Box.Contains says so
	} {
		got, err := storage.ParsePosition("position", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePosition(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePosition_RefusesWhatIsNotAPosition(t *testing.T) {
	for _, in := range []string{"", " ", "A", "1", "1A", "A0", "A00", "A-1", "A+1", "AA1", "A100", "A1B", "A 1", "Ä1", "@1", "[1", "A1.5", "A١"} {
		_, err := storage.ParsePosition("where", in)
		v, ok := apperr.AsValidation(err)
		if !ok || v.Field != "where" {
			t.Errorf("ParsePosition(%q): %v, want a validation error on the field", in, err)
		}
	}
}

func TestPositionString_NamesAsPrintedOnBoxes(t *testing.T) {
	for _, tc := range []struct {
		p    storage.Position
		want string
	}{{storage.Position{Row: 1, Col: 1}, "A1"}, {storage.Position{Row: 2, Col: 12}, "B12"}, {storage.Position{Row: 10, Col: 10}, "J10"},
		{storage.Position{Row: 26, Col: 30}, "Z30"}} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
		back, err := storage.ParsePosition("p", tc.want)
		if err != nil || back != tc.p {
			t.Errorf("ParsePosition(%q) = %+v, %v: not the round trip of %+v", tc.want, back, err, tc.p)
		}
	}
}

func TestBoxContains_OnlyTheGrid(t *testing.T) {
	b := storage.Box{Rows: 8, Cols: 12}
	for _, tc := range []struct {
		p    storage.Position
		want bool
	}{
		{storage.Position{Row: 1, Col: 1}, true},
		{storage.Position{Row: 8, Col: 12}, true},
		{storage.Position{Row: 8, Col: 1}, true},
		{storage.Position{Row: 1, Col: 12}, true},
		{storage.Position{Row: 9, Col: 1}, false},
		{storage.Position{Row: 1, Col: 13}, false},
		{storage.Position{Row: 0, Col: 1}, false},
		{storage.Position{Row: 1, Col: 0}, false},
		{storage.Position{Row: -1, Col: -1}, false},
	} {
		if got := b.Contains(tc.p); got != tc.want {
			t.Errorf("8×12 box contains %+v: %v, want %v", tc.p, got, tc.want)
		}
	}
}
