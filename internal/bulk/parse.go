// Package bulk imports legacy collections from a CSV file: a dry run validates every row
// and reports each problem with its line, writing nothing; the real run is one
// all-or-nothing job (staged into a temporary table, validated in SQL, inserted set-based
// in chunks, every created sample audited) that shows its progress and can be cancelled.
package bulk

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"biobank/internal/input"
	"biobank/internal/storage"
)

// Columns of an import file, in any order; the first nine are required.
var Columns = []string{"pseudonym", "study", "visit", "specimen_type", "container", "volume", "unit", "collected_at", "tube_barcode",
	"parent", "box", "position", "sprec"}

const requiredColumns = 9

// MaxRows bounds one file.
const MaxRows = 1_000_000

// RowError is one problem of an import file, at a line (1 is the header).
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// row is one parsed line.
type row struct {
	line                                       int
	pseudonym, study, visit, specimen, contain string
	volume                                     decimal.Decimal
	unit                                       string
	collected                                  time.Time
	tube, parent, box                          string
	posRow, posCol                             int
	sprec                                      string
}

var (
	tubePattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{4,40}$`)
	sprecPattern = regexp.MustCompile(`^[A-Z0-9]{3}(-[A-Z0-9]{1,3}){6}$`)
)

// parse reads an import file: its encoding, its header and every row's own format. Rows
// with a format error are left out of the result (and listed); what the rows refer to is
// checked in SQL afterwards.
func parse(data []byte) ([]row, []RowError, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalid(data)], []byte("\n"))
		return nil, []RowError{{Line: line, Field: "file", Message: "The file is not UTF-8 text (line " + fmt.Sprint(line) +
			"): save it from the spreadsheet as \"CSV UTF-8\"."}}, nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, []RowError{{Line: 1, Field: "file", Message: "The file is empty."}}, nil
	}
	if err != nil {
		return nil, []RowError{{Line: 1, Field: "file", Message: "The first line is not a CSV header."}}, nil
	}
	idx := map[string]int{}
	var errs []RowError
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		known := false
		for _, c := range Columns {
			known = known || c == h
		}
		if !known {
			errs = append(errs, RowError{Line: 1, Field: h, Message: fmt.Sprintf("Unknown column %q: the columns are %s.", h, strings.Join(Columns, ", "))})
			continue
		}
		if _, dup := idx[h]; dup {
			errs = append(errs, RowError{Line: 1, Field: h, Message: fmt.Sprintf("The column %q appears twice.", h)})
		}
		idx[h] = i
	}
	for _, c := range Columns[:requiredColumns] {
		if _, ok := idx[c]; !ok {
			errs = append(errs, RowError{Line: 1, Field: c, Message: fmt.Sprintf("The header lacks the column %q.", c)})
		}
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	r.FieldsPerRecord = len(header)
	var rows []row
	seenTube := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			errs = append(errs, RowError{Line: line, Field: "file", Message: "This line is not a CSV row with the header's " + fmt.Sprint(len(header)) + " fields."})
			continue
		}
		if len(rows)+len(errs) >= MaxRows {
			return nil, nil, fmt.Errorf("bulk: more than %d rows", MaxRows)
		}
		get := func(c string) string {
			if i, ok := idx[c]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rw, rowErrs := parseRow(line, get)
		if len(rowErrs) == 0 {
			if first, dup := seenTube[rw.tube]; dup {
				rowErrs = append(rowErrs, RowError{Line: line, Field: "tube_barcode", Message: fmt.Sprintf("The tube barcode %s is on line %d already.", rw.tube, first)})
			} else {
				seenTube[rw.tube] = line
			}
		}
		if len(rowErrs) > 0 {
			errs = append(errs, rowErrs...)
			continue
		}
		rows = append(rows, rw)
	}
	if len(rows)+len(errs) == 0 {
		errs = append(errs, RowError{Line: 2, Field: "file", Message: "The file has a header but no rows."})
	}
	return rows, errs, nil
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// parseRow checks one row's own format.
func parseRow(line int, get func(string) string) (row, []RowError) {
	rw := row{line: line, pseudonym: strings.ToUpper(get("pseudonym")), study: strings.ToUpper(get("study")), visit: strings.ToUpper(get("visit")),
		specimen: strings.ToLower(get("specimen_type")), contain: strings.ToUpper(get("container")), unit: get("unit"),
		tube: input.Scanned(get("tube_barcode")), parent: input.Scanned(get("parent")), box: input.Scanned(get("box")), sprec: strings.ToUpper(get("sprec"))}
	var errs []RowError
	bad := func(field, msg string) { errs = append(errs, RowError{Line: line, Field: field, Message: msg}) }
	for _, c := range Columns[:requiredColumns] {
		if get(c) == "" {
			bad(c, fmt.Sprintf("The %s is missing.", strings.ReplaceAll(c, "_", " ")))
		}
	}
	if len(errs) > 0 {
		return rw, errs
	}
	v, err := decimal.NewFromString(strings.ReplaceAll(get("volume"), ",", "."))
	if err != nil || !v.IsPositive() || len(get("volume")) > 20 {
		bad("volume", fmt.Sprintf("The volume %q is not a number above 0.", get("volume")))
	}
	rw.volume = v
	if rw.collected, err = parseTime(get("collected_at")); err != nil {
		bad("collected_at", fmt.Sprintf("The collection time %q is not a date and time such as 2019-03-14 09:30 (UTC) or 2019-03-14T09:30:00+01:00.", get("collected_at")))
	} else if rw.collected.After(time.Now().Add(time.Hour)) {
		bad("collected_at", "The collection time is in the future.")
	}
	if !tubePattern.MatchString(rw.tube) {
		bad("tube_barcode", fmt.Sprintf("The tube barcode %q has 4 to 40 letters, digits, dots, dashes or underscores.", rw.tube))
	}
	if (rw.box == "") != (get("position") == "") {
		bad("position", "Give the box and the position together, or neither.")
	} else if rw.box != "" {
		p, err := storage.ParsePosition("position", get("position"))
		if err != nil {
			bad("position", fmt.Sprintf("The position %q is a row letter and a column number, such as A1.", get("position")))
		}
		rw.posRow, rw.posCol = p.Row, p.Col
	}
	if rw.sprec != "" && !sprecPattern.MatchString(rw.sprec) {
		bad("sprec", fmt.Sprintf("The SPREC code %q is not of the form SER-SST-A-B-N-B-A.", rw.sprec))
	}
	return rw, errs
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}
