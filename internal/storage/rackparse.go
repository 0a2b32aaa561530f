package storage

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RackOptions is what the person importing says beside the file.
type RackOptions struct {
	// Box is the barcode of the box being imported into, for files that do not name their
	// rack; when the file does name one, the two must agree.
	Box string
	// FileName is the uploaded file's name: "<rack barcode>.csv" names the rack of a file
	// that does not, when no box is chosen.
	FileName string
	// NoReadIsEmpty says the scanner writes NO READ for an empty well (FluidX does); by
	// default NO READ is a well that could not be read.
	NoReadIsEmpty bool
	// ColumnOrder says numbered wells count down the columns (A1, B1, …, H1, A2, …); by
	// default they count along the rows (A1, A2, …, A12, B1, …).
	ColumnOrder bool
}

// ParseRackFile reads what a 2D rack scanner wrote about one rack, whatever its layout:
//
//   - CSV-like text with comma, semicolon, semicolon and tab, or tab between fields (guessed
//     from the data lines), LF, CRLF or lone CR line ends, a byte-order mark, trailing
//     empty fields;
//   - key/value metadata before the data ("Rack ID,…", "Tube Count,…", "Date & time of
//     Trace = …", "Rack Base Name: …"; the rack barcode is taken from it), or a lone rack
//     barcode line;
//   - a header row mapped by its column names (TubeCode, Tube ID, 2D Barcode, Well,
//     Position, LocationRow + LocationColumn, RackID, Rack ID, Status, in any order) —
//     only a row that really is a header is skipped;
//   - without a header: rack, position, tube; or position, tube; or position and tube with
//     the rack in another constant column;
//   - positions as A1 or A01, or numbered 1…N (ColumnOrder);
//   - no tube or an unreadable well as the vendors write it (NO READ, No Read, NOREAD,
//     NO TUBE, No Tube, EMPTY, No TrakMate, No Code, NOSCAN, empty), NO READ by
//     NoReadIsEmpty;
//   - a Micronic IO Monitor scan result in JSON (rack ID, tubes with position, ID and
//     status).
//
// The rack is the one the file names, else the chosen box, else the file's name. A file
// with more than one rack, a position or tube twice, or lines that do not fit its layout
// is refused naming every offending line; when every line fails the same way, with one
// diagnosis instead.
func ParseRackFile(data []byte, opt RackOptions) (RackFile, error) {
	if len(data) > MaxRackFile {
		return RackFile{}, fileError("the file is larger than 256 KiB; a rack scanner file is a few KiB")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return RackFile{}, fileError("this is not a text (CSV) file")
	}
	var r rackReader
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		if err := r.readJSON(t, opt); err != nil {
			return RackFile{}, err
		}
	} else if err := r.readText(string(data), opt); err != nil {
		return RackFile{}, err
	}
	return r.finish(opt)
}

func fileError(msg string) *FileError {
	return &FileError{Problems: []LineError{{Message: msg}}}
}

// rackReader collects the wells of one file, and what names its rack.
type rackReader struct {
	f         RackFile
	racks     map[string]int // rack barcode → first line naming it
	rackFrom  string         // "a column", "its metadata"
	problems  []LineError
	kinds     map[string]int // problem kind → lines with it, to tell one diagnosis
	dataLines int
	seenPos   map[string]int
	seenTube  map[string]int
}

func (r *rackReader) nameRack(rack string, line int, from string) {
	if r.racks == nil {
		r.racks = map[string]int{}
	}
	if _, ok := r.racks[rack]; !ok {
		r.racks[rack] = line
	}
	if r.rackFrom == "" {
		r.rackFrom = from
	}
}

// lineProblem records an offending line; kind groups identical failures.
func (r *rackReader) lineProblem(line int, kind, msg string) {
	r.problems = append(r.problems, LineError{line, msg})
	if r.kinds == nil {
		r.kinds = map[string]int{}
	}
	r.kinds[kind]++
}

// well adds a well after the checks every layout shares.
func (r *rackReader) well(line int, pos Position, index int, tube string, status string, opt RackOptions) {
	if r.seenPos == nil {
		r.seenPos, r.seenTube = map[string]int{}, map[string]int{}
	}
	w := Well{Line: line, Position: pos, Index: index}
	// A status column, where there is one, says first whether the well is empty or
	// unreadable; otherwise the tube field's own token does.
	empty, noRead := statusToken(tokenOf(status), opt)
	if !empty && !noRead {
		empty, noRead = tubeToken(tube, opt)
	}
	switch {
	case empty:
	case noRead:
		w.NoRead = true
	default:
		w.Tube = strings.TrimSpace(tube)
		if first, dup := r.seenTube[w.Tube]; dup {
			r.lineProblem(line, "duplicate tube", fmt.Sprintf("tube %s is also on line %d", w.Tube, first))
		} else {
			r.seenTube[w.Tube] = line
		}
	}
	key := w.Label()
	if first, dup := r.seenPos[key]; dup {
		r.lineProblem(line, "duplicate position", fmt.Sprintf("position %s is also on line %d", key, first))
	} else {
		r.seenPos[key] = line
	}
	r.f.Wells = append(r.f.Wells, w)
}

// tokenOf is a vendor token with case, spaces, dashes and underscores taken out.
func tokenOf(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "\t", "", "-", "", "_", "").Replace(strings.TrimSpace(s)))
}

// tubeToken tells an empty well and an unreadable one from a tube barcode.
func tubeToken(tube string, opt RackOptions) (empty, noRead bool) {
	switch tokenOf(tube) {
	case "", "NOTUBE", "EMPTY", "NOTRAKMATE", "NONE":
		return true, false
	case "NOREAD":
		return opt.NoReadIsEmpty, !opt.NoReadIsEmpty
	case "NOSCAN", "NOCODE", "FORCEDSTOP", "UNREADABLE", "ERROR", "NOTDECODED", "READERROR":
		return false, true
	}
	return false, false
}

// statusToken reads a status column (Micronic, VisionMate): empty, unreadable or a tube.
func statusToken(status string, opt RackOptions) (empty, noRead bool) {
	switch status {
	case "NOTUBE", "EMPTY", "NOTRAKMATE", "TUBENOTPRESENT", "NOTPRESENT":
		return true, false
	case "NOREAD":
		return opt.NoReadIsEmpty, !opt.NoReadIsEmpty
	case "NOCODE", "ERROR", "UNREADABLE", "NOTDECODED", "READERROR", "FAILED", "FAIL":
		return false, true
	}
	return false, false
}

// finish names the rack and says what is wrong, if anything.
func (r *rackReader) finish(opt RackOptions) (RackFile, error) {
	r.f.ColumnOrder = opt.ColumnOrder
	box := strings.TrimSpace(opt.Box)
	switch {
	case len(r.racks) > 1:
		for rack, line := range r.racks {
			r.problems = append(r.problems, LineError{line, fmt.Sprintf("rack barcode %s: a file must hold one rack", rack)})
		}
	case len(r.racks) == 1:
		for rack := range r.racks {
			r.f.Rack = rack
		}
		if box != "" && !strings.EqualFold(box, r.f.Rack) {
			r.problems = append(r.problems, LineError{Message: fmt.Sprintf(
				"the file is the scan of rack %s (%s), not of box %s: choose that box, or scan the right rack", r.f.Rack, r.rackFrom, box)})
		}
	case box != "":
		r.f.Rack = box
	case fileRack(opt.FileName) != "":
		r.f.Rack, r.f.RackFromFileName = fileRack(opt.FileName), true
		r.f.Layout += "; rack from the file name"
	default:
		if len(r.f.Wells) > 0 {
			r.problems = append(r.problems, LineError{Message: r.f.Layout + " and no rack barcode: choose the box to import into"})
		}
	}
	if len(r.f.Wells) == 0 && len(r.problems) == 0 {
		r.problems = append(r.problems, LineError{Message: "the file holds no wells"})
	}
	if len(r.problems) == 0 {
		return r.f, nil
	}
	// Every line failing the same way is one mistake about the whole file, not hundreds.
	if r.dataLines >= 3 && len(r.kinds) == 1 {
		for kind, n := range r.kinds {
			if n == r.dataLines {
				return RackFile{}, fileError(fmt.Sprintf("%s: every one of its %d lines %s", r.f.Layout, n, kind))
			}
		}
	}
	sortProblems(r.problems)
	return RackFile{}, &FileError{Problems: r.problems}
}

// fileRack is the rack barcode a file's name gives ("FR12345678.csv"), if it looks like one.
func fileRack(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	if !barcodeLike.MatchString(base) {
		return ""
	}
	return base
}

var barcodeLike = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$`)

// A text line, with the fields it splits into.
type textLine struct {
	n      int
	raw    string
	fields []string
	// width is the number of fields before trailing empty ones were dropped; bad says
	// the line is not valid CSV (a stray quote).
	width int
	bad   bool
}

// metadataLine is "key = value", "key: value" or "key<sep>value" before the data.
var metadataLine = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9 &/_().#-]*?)\s*(?:=|:|,|;|\t)\s*(.*?)\s*$`)

// rackKeys are the metadata keys and column names that give the rack barcode.
var rackKeys = map[string]bool{"RACKID": true, "RACKBASENAME": true, "RACKBARCODE": true, "RACK": true, "RACKCODE": true,
	"RACKIDENTIFIER": true, "PLATEBARCODE": true, "PLATEID": true, "RACKNAME": true}

// column names of a header row, by what they hold.
var headerNames = map[string]string{
	"TUBECODE": "tube", "TUBEID": "tube", "TUBEBARCODE": "tube", "TUBE": "tube", "2DBARCODE": "tube", "BARCODE": "tube",
	"CODE": "tube", "MICRONIXBARCODE": "tube", "SAMPLEBARCODE": "tube", "TUBE2DBARCODE": "tube",
	"WELL": "position", "POSITION": "position", "POS": "position", "LOCATION": "position", "WELLPOSITION": "position",
	"TUBEPOSITION": "position", "COORDINATE": "position", "SLOT": "position",
	"LOCATIONROW": "row", "ROW": "row", "LOCATIONCOLUMN": "column", "COLUMN": "column", "COL": "column",
	"STATUS": "status", "TUBESTATUS": "status", "READSTATUS": "status",
}

func headerKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return -1
	}, s)
}

// readText reads the CSV-like layouts.
func (r *rackReader) readText(text string, opt RackOptions) error {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var lines []textLine
	for i, raw := range strings.Split(text, "\n") {
		if strings.TrimSpace(raw) != "" {
			lines = append(lines, textLine{n: i + 1, raw: raw})
		}
	}
	if len(lines) == 0 {
		return fileError("the file holds no wells: it is empty")
	}
	sep, sepName := guessSeparator(lines)
	for i := range lines {
		lines[i].fields, lines[i].width, lines[i].bad = splitFields(lines[i].raw, sep)
	}
	// Metadata and header lines come first; the data starts at the first line with a
	// position (a row letter and column, or a number) in one of its fields.
	// With a header row, the data starts under it (its rows may give the row and column
	// apart, so hold no position field).
	start := len(lines)
	for i, l := range lines {
		if positionField(l.fields) >= 0 {
			start = i
			break
		}
		if readHeader(l.fields) != nil {
			start = i + 1
			break
		}
	}
	if start == len(lines) && start > 0 && readHeader(lines[start-1].fields) != nil {
		return fileError("the file holds no wells: a header row and nothing under it")
	}
	var header map[string]int
	var lone []textLine
	var data []textLine
	for _, l := range lines[:start] {
		if h := readHeader(l.fields); h != nil {
			header = h
			continue
		}
		if m := metadataLine.FindStringSubmatch(l.raw); m != nil && (len(l.fields) <= 2 || !strings.ContainsRune(l.raw, sep)) {
			if rackKeys[headerKey(m[1])] && m[2] != "" {
				r.nameRack(strings.TrimSpace(m[2]), l.n, "its "+strings.TrimSpace(m[1])+" line")
			}
			continue
		}
		if len(l.fields) == 1 && barcodeLike.MatchString(l.fields[0]) {
			lone = append(lone, l) // a lone barcode above the data: the rack (Traxcer)
			continue
		}
		// Neither header nor metadata: a well whose position cannot be read, which must be
		// named, not skipped as if it were a header.
		data = append(data, l)
	}
	if len(lone) == 1 && len(r.racks) == 0 {
		r.nameRack(lone[0].fields[0], lone[0].n, "its first line")
	}
	if start == len(lines) {
		if header != nil && len(data) == 0 {
			return fileError("the file holds no wells: a header row and nothing under it")
		}
		return unrecognised(lines, sepName)
	}
	data = append(data, lines[start:]...)
	r.dataLines = len(data)
	cols, layout, err := columnsOf(header, data, sepName)
	if err != nil {
		return err
	}
	r.f.Layout = layout + ", " + sepName + " separated"
	for _, l := range data {
		r.readDataLine(l, cols, opt)
	}
	return nil
}

// columns says which field holds what; -1 for none.
type columns struct {
	rack, position, row, column, tube, status int
	count                                     int // fields a data line has (0: any)
}

func (c columns) get(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

func (r *rackReader) readDataLine(l textLine, c columns, opt RackOptions) {
	switch {
	case l.bad:
		r.lineProblem(l.n, "is not a CSV line", "not a CSV line (a stray quote?)")
		return
	case c.count > 0 && (len(l.fields) > c.count || l.width < c.count):
		r.lineProblem(l.n, fmt.Sprintf("has %d fields where the layout has %d", l.width, c.count),
			fmt.Sprintf("%d fields; this file's lines have %d", l.width, c.count))
		return
	}
	var pos Position
	index := 0
	if c.position >= 0 {
		text := c.get(l.fields, c.position)
		p, n, ok := parseWell(text)
		if !ok {
			r.lineProblem(l.n, "has no readable position", fmt.Sprintf("%q is not a position", text))
			return
		}
		pos, index = p, n
	} else {
		rowText, colText := c.get(l.fields, c.row), c.get(l.fields, c.column)
		p, ok := rowColumn(rowText, colText)
		if !ok {
			r.lineProblem(l.n, "has no readable row and column", fmt.Sprintf("row %q, column %q is not a position", rowText, colText))
			return
		}
		pos = p
	}
	if c.rack >= 0 {
		rack := c.get(l.fields, c.rack)
		if rack == "" {
			r.lineProblem(l.n, "has no rack barcode", "no rack barcode")
			return
		}
		r.nameRack(rack, l.n, "its rack column")
	}
	r.well(l.n, pos, index, c.get(l.fields, c.tube), c.get(l.fields, c.status), opt)
}

// guessSeparator picks the field separator the data lines use: semicolon (also before a
// tab), tab, or comma, whichever most lines hold.
func guessSeparator(lines []textLine) (rune, string) {
	count := func(sep string) int {
		n := 0
		for _, l := range lines {
			if strings.Contains(l.raw, sep) {
				n++
			}
		}
		return n
	}
	semi, tab, comma := count(";"), count("\t"), count(",")
	switch {
	case semi > 0 && semi >= comma && semi*2 >= len(lines):
		if tab >= semi {
			return ';', "semicolon and tab"
		}
		return ';', "semicolon"
	case tab > 0 && tab >= comma && tab*2 >= len(lines):
		return '\t', "tab"
	case comma > 0:
		return ',', "comma"
	}
	return 0, "one field per line"
}

// splitFields splits a line at sep (CSV quoting allowed), trims each field and drops
// trailing empty ones; it returns the fields, how many there were before, and whether the
// line is not valid CSV.
func splitFields(line string, sep rune) ([]string, int, bool) {
	var fields []string
	bad := false
	if sep == 0 {
		fields = []string{line}
	} else {
		cr := csv.NewReader(strings.NewReader(line))
		// Leading space before a quote is skipped, except with tabs between fields, which
		// TrimLeadingSpace would swallow.
		cr.Comma, cr.FieldsPerRecord, cr.TrimLeadingSpace = sep, -1, sep != '\t'

		rec, err := cr.Read()
		if err != nil {
			rec, bad = strings.Split(line, string(sep)), true
		}
		fields = rec
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	width := len(fields)
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return fields, width, bad
}

// wellLabel is a well as scanners name it: a row letter and a column of one or two digits,
// perhaps with a leading zero (A1, A01, c010) — not a barcode such as T0001.
var wellLabel = regexp.MustCompile(`^[A-Za-z]0?[0-9]{1,2}$`)

// parseWell reads A1, A01 or a well number 1…999.
func parseWell(s string) (Position, int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return Position{}, n, n >= 1 && n <= 999
	}
	if !wellLabel.MatchString(s) {
		return Position{}, 0, false
	}
	p, err := ParsePosition("position", s)
	return p, 0, err == nil
}

// rowColumn reads a row (letter or number) and a column number.
func rowColumn(row, col string) (Position, bool) {
	c, err := strconv.Atoi(strings.TrimSpace(col))
	if err != nil || c < 1 || c > 99 {
		return Position{}, false
	}
	row = strings.ToUpper(strings.TrimSpace(row))
	if n, err := strconv.Atoi(row); err == nil {
		return Position{Row: n, Col: c}, n >= 1 && n <= 26
	}
	if len(row) == 1 && row[0] >= 'A' && row[0] <= 'Z' {
		return Position{Row: int(row[0]-'A') + 1, Col: c}, true
	}
	return Position{}, false
}

// positionField is the first field of a line that is a position (A1, A01), or -1.
// Numbers alone do not count here: a header or metadata line may hold one ("Tube Count,96").
func positionField(fields []string) int {
	for i, f := range fields {
		if _, n, ok := parseWell(f); ok && n == 0 {
			return i
		}
	}
	if len(fields) >= 2 {
		if n, err := strconv.Atoi(fields[0]); err == nil && n >= 1 && n <= 999 && !rackKeys[headerKey(fields[0])] {
			return 0
		}
	}
	return -1
}

// readHeader maps a header row's column names, or returns nil when the line is not one
// (fewer than two known names).
func readHeader(fields []string) map[string]int {
	h := map[string]int{}
	known := 0
	for i, f := range fields {
		k := headerKey(f)
		if rackKeys[k] {
			h["rack"] = i
			known++
			continue
		}
		if what, ok := headerNames[k]; ok {
			if _, dup := h[what]; !dup {
				h[what] = i
			}
			known++
		}
	}
	if known < 2 {
		return nil
	}
	return h
}

// columnsOf says where each thing is: from the header, or from the data lines' shape.
func columnsOf(header map[string]int, data []textLine, sepName string) (columns, string, error) {
	c := columns{rack: -1, position: -1, row: -1, column: -1, tube: -1, status: -1}
	if header != nil {
		for what, i := range header {
			switch what {
			case "rack":
				c.rack = i
			case "position":
				c.position = i
			case "row":
				c.row = i
			case "column":
				c.column = i
			case "tube":
				c.tube = i
			case "status":
				c.status = i
			}
		}
		hasPos := c.position >= 0 || c.row >= 0 && c.column >= 0
		if !hasPos || c.tube < 0 {
			return c, "", fileError(fmt.Sprintf("the header names no %s: a rack file needs the well (Well, Position, or LocationRow and LocationColumn) and the tube (TubeCode, Tube ID, 2D Barcode)",
				map[bool]string{true: "tube column", false: "position column"}[hasPos]))
		}
		return c, "a header row", nil
	}
	// No header: the shape of the data.
	counts := map[int]int{}
	for _, l := range data {
		counts[l.width]++
	}
	// The layout's width is the first line's, unless most lines have another.
	n := data[0].width
	for k, v := range counts {
		if v > counts[n] {
			n = k
		}
	}
	posCol := -1
	for i := 0; i < n; i++ {
		ok := 0
		for _, l := range data {
			if i < len(l.fields) {
				if _, _, good := parseWell(l.fields[i]); good {
					ok++
				}
			}
		}
		if ok*5 >= len(data)*4 {
			posCol = i
			break
		}
	}
	if posCol < 0 {
		// Too few readable positions to tell the layout from the data: take the common
		// layouts as they are, so that each line's position is named if it is wrong.
		switch n {
		case 2:
			posCol = 0
		case 3:
			posCol = 1
		default:
			return c, "", unrecognisedData(data, n, sepName)
		}
	}
	c.position, c.count = posCol, n
	switch n {
	case 1:
		return c, "", fileError("the lines hold positions but no tubes")
	case 2:
		c.tube = 1 - posCol
		return c, "2 columns (position, tube)", nil
	case 3:
		if posCol == 1 {
			c.rack, c.tube = 0, 2
			return c, "3 columns (rack, position, tube)", nil
		}
		// The rack is the column that is the same on every line.
		for i := 0; i < 3; i++ {
			if i != posCol && constantColumn(data, i) {
				c.rack = i
				break
			}
		}
		if c.rack < 0 {
			return c, "", fileError(fmt.Sprintf("3 columns without a header, and no column holds the one rack barcode (lines such as %q)", strings.TrimSpace(data[0].raw)))
		}
		c.tube = 3 - posCol - c.rack
		return c, fmt.Sprintf("3 columns (position in column %d, rack in column %d, tube in column %d)", posCol+1, c.rack+1, c.tube+1), nil
	}
	return c, "", fileError(fmt.Sprintf("%d columns and no header row to say which holds the tube (lines such as %q): export the file with its header row",
		n, strings.TrimSpace(data[0].raw)))
}

func constantColumn(data []textLine, i int) bool {
	first := ""
	for _, l := range data {
		if i >= len(l.fields) || l.fields[i] == "" {
			return false
		}
		if first == "" {
			first = l.fields[i]
		} else if l.fields[i] != first {
			return false
		}
	}
	return true
}

func unrecognised(lines []textLine, sepName string) error {
	return fileError(fmt.Sprintf("no line names a well: %d lines (%s separated) such as %q; a rack file gives each well's position (A1, A01 or a number) and its tube",
		len(lines), sepName, excerptLine(lines[0].raw)))
}

func unrecognisedData(data []textLine, n int, sepName string) error {
	return fileError(fmt.Sprintf("no column holds well positions: lines of %d fields (%s separated) such as %q; a rack file gives each well's position (A1, A01 or a number) and its tube",
		n, sepName, excerptLine(data[0].raw)))
}

func excerptLine(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// readJSON reads a Micronic IO Monitor scan result: an object with the rack's ID and a
// list of tubes, each with its position (or row and column), tube ID and status. Key names
// are matched loosely (rackId, RackID, rack_id; tubes, Tubes; position, Position, well;
// tubeId, TubeID, barcode; status). Anything else is refused in one sentence.
func (r *rackReader) readJSON(data []byte, opt RackOptions) error {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fileError("the file starts like JSON but is not valid JSON")
	}
	r.f.Layout = "a Micronic JSON scan result"
	var tubes []map[string]any
	var find func(v any, depth int)
	find = func(v any, depth int) {
		if depth > 6 || tubes != nil {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if rackKeys[headerKey(k)] {
					if s, ok := x.(string); ok && s != "" {
						r.nameRack(s, 0, "its "+k+" field")
					}
				}
			}
			for _, x := range t {
				find(x, depth+1)
			}
		case []any:
			var objs []map[string]any
			for _, x := range t {
				if m, ok := x.(map[string]any); ok && tubeObject(m) {
					objs = append(objs, m)
				}
			}
			if len(objs) > 0 && len(objs)*2 >= len(t) {
				tubes = objs
				return
			}
			for _, x := range t {
				find(x, depth+1)
			}
		}
	}
	find(doc, 0)
	if tubes == nil {
		return fileError("a JSON file, but not a rack scan result: no list of tubes with positions was found in it")
	}
	r.dataLines = len(tubes)
	for i, m := range tubes {
		line := i + 1 // the tube's place in the list stands for a line
		fields := map[string]string{}
		for k, v := range m {
			what := headerNames[headerKey(k)]
			if rackKeys[headerKey(k)] {
				what = "rack"
			}
			if what != "" {
				fields[what] = fmt.Sprint(v)
				if v == nil {
					fields[what] = ""
				}
			}
		}
		var pos Position
		index := 0
		if p, ok := fields["position"]; ok {
			pp, n, good := parseWell(p)
			if !good {
				r.lineProblem(line, "has no readable position", fmt.Sprintf("tube %d: %q is not a position", line, p))
				continue
			}
			pos, index = pp, n
		} else {
			pp, good := rowColumn(fields["row"], fields["column"])
			if !good {
				r.lineProblem(line, "has no readable row and column", fmt.Sprintf("tube %d: row %q, column %q is not a position", line, fields["row"], fields["column"]))
				continue
			}
			pos = pp
		}
		if rack := fields["rack"]; rack != "" {
			r.nameRack(rack, line, "its tubes' rack field")
		}
		r.well(line, pos, index, fields["tube"], fields["status"], opt)
	}
	return nil
}

// tubeObject reports whether m looks like one tube of a scan: a position (or row and
// column) and a tube ID or status.
func tubeObject(m map[string]any) bool {
	has := map[string]bool{}
	for k := range m {
		has[headerNames[headerKey(k)]] = true
	}
	return (has["position"] || has["row"] && has["column"]) && (has["tube"] || has["status"])
}
