package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"biobank/internal/storage"
)

func pos(s string) storage.Position {
	p, err := storage.ParsePosition("position", s)
	if err != nil {
		panic(err)
	}
	return p
}

func well(line int, position, tube string) storage.Well {
	return storage.Well{Line: line, Position: pos(position), Tube: tube}
}

func noRead(line int, position string) storage.Well {
	return storage.Well{Line: line, Position: pos(position), NoRead: true}
}

func TestParseRackFile_ReadsScannerFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want storage.RackFile
	}{
		{"headerless comma", "RK001,A1,T0001\nRK001,A2,T0002\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(1, "A1", "T0001"), well(2, "A2", "T0002")}}},
		{"header line", "Rack Barcode,Position,Tube Barcode\nRK001,A01,T0001\nRK001,B12,T0002\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(2, "A1", "T0001"), well(3, "B12", "T0002")}}},
		{"semicolon, CRLF", "RackID;TubePosition;TubeID\r\nRK001;A01;T0001\r\nRK001;H12;T0002\r\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(2, "A1", "T0001"), well(3, "H12", "T0002")}}},
		{"tab", "RK001\tA1\tT0001\nRK001\tA2\tNO READ\nRK001\tA3\t\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(1, "A1", "T0001"), noRead(2, "A2"), well(3, "A3", "")}}},
		{"A1 and A01 alike, lower case", "RK001,a01,T0001\nRK001,A2,T0002\nRK001,c010,T0003\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(1, "A1", "T0001"), well(2, "A2", "T0002"), well(3, "C10", "T0003")}}},
		{"empty and unreadable wells", "RK001,A1,NO READ\nRK001,A2,NOSCAN\nRK001,A3,\nRK001,A4,no read\nRK001,A5,No Tube\nRK001,A6,T0006\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{noRead(1, "A1"), noRead(2, "A2"), well(3, "A3", ""), noRead(4, "A4"),
				well(5, "A5", ""), well(6, "A6", "T0006")}}},
		{"spaces, quotes, blank lines and a byte order mark", "\xef\xbb\xbf RK001 , A1 , \"T0001\"\n\n   \nRK001, \"A2\", T0002\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(1, "A1", "T0001"), well(4, "A2", "T0002")}}},
		{"no final newline", "RK001,A1,T0001",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(1, "A1", "T0001")}}},
		{"empty wells do not clash", "RK001,A1,\nRK001,A2,\nRK001,A3,NO READ\nRK001,A4,NO READ\n",
			storage.RackFile{Rack: "RK001", Wells: []storage.Well{well(1, "A1", ""), well(2, "A2", ""), noRead(3, "A3"), noRead(4, "A4")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storage.ParseRackFile([]byte(tc.in), storage.RackOptions{})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got.Layout == "" {
				t.Error("no layout said")
			}
			got.Layout = ""
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseRackFile_RefusesNamingTheLines(t *testing.T) {
	type problem struct {
		line int
		text string
	}
	big := bytes.Repeat([]byte("RK001,A1,T0001\n"), storage.MaxRackFile/15+1)
	for _, tc := range []struct {
		name string
		in   []byte
		want []problem
	}{
		{"two rack barcodes", []byte("RK001,A1,T0001\nRK001,A2,T0002\nRK002,A3,T0003\n"),
			[]problem{{1, "rack barcode RK001"}, {3, "rack barcode RK002"}}},
		{"a position twice", []byte("RK001,A1,T0001\nRK001,A2,T0002\nRK001,A01,T0003\n"),
			[]problem{{3, "position A1 is also on line 1"}}},
		{"an empty well twice", []byte("RK001,A1,\nRK001,A1,NO READ\n"),
			[]problem{{2, "position A1 is also on line 1"}}},
		{"a tube twice", []byte("RK001,A1,T0001\nRK001,A2,T0002\nRK001,A3,T0001\n"),
			[]problem{{3, "tube T0001 is also on line 1"}}},
		{"too few fields", []byte("RK001,A1,T0001\nRK001,A2\n"), []problem{{2, "2 fields"}}},
		{"too many fields", []byte("RK001,A1,T0001\nRK001,A2,T0002,extra\n"), []problem{{2, "4 fields"}}},
		{"a bad position after the first line", []byte("RK001,A1,T0001\nRK001,A0,T0002\nRK001,AA1,T0003\n"),
			[]problem{{2, `"A0" is not a position`}, {3, `"AA1" is not a position`}}},
		{"no rack barcode", []byte("RK001,A1,T0001\n,A2,T0002\n"), []problem{{2, "no rack barcode"}}},
		{"a broken quote", []byte("RK001,A1,T0001\nRK001,A2,\"T0002\n"), []problem{{2, "not a CSV line"}}},
		{"a bare quote in the first field", []byte("R\"K001,A1,T0001\nRK001,A2,T0002\n"), []problem{{1, "not a CSV line"}}},
		{"several problems, in line order", []byte("RK001,A1,T0001\nRK001,A1,T0002\nRK001,A3\nRK001,A4,T0001\n"),
			[]problem{{2, "position A1 is also on line 1"}, {3, "2 fields"}, {4, "tube T0001 is also on line 1"}}},
		{"binary", []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0xff, 0xd8}, []problem{{0, "not a text"}}},
		{"a NUL byte", []byte("RK001,A1,T0001\nRK001,A2,T00\x0002\n"), []problem{{0, "not a text"}}},
		{"UTF-16", []byte("\xff\xfeR\x00K\x00,\x00A\x001\x00"), []problem{{0, "not a text"}}},
		{"empty", []byte{}, []problem{{0, "no wells"}}},
		{"only blank lines", []byte("\n\r\n  \n"), []problem{{0, "no wells"}}},
		{"only a header", []byte("Rack,Position,Tube\n"), []problem{{0, "no wells"}}},
		{"larger than 256 KiB", big, []problem{{0, "larger than 256 KiB"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := storage.ParseRackFile(tc.in, storage.RackOptions{})
			var fe *storage.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FileError", err)
			}
			if len(fe.Problems) != len(tc.want) {
				t.Fatalf("problems %+v, want %+v", fe.Problems, tc.want)
			}
			for i, w := range tc.want {
				if p := fe.Problems[i]; p.Line != w.line || !strings.Contains(p.Message, w.text) {
					t.Errorf("problem %d is %+v, want line %d saying %q", i, p, w.line, w.text)
				}
			}
			msg := err.Error()
			for _, w := range tc.want {
				if w.line > 0 && !strings.Contains(msg, fmt.Sprintf("line %d: ", w.line)) {
					t.Errorf("the message %q does not name line %d", msg, w.line)
				}
			}
		})
	}
}

func TestParseRackFile_AcceptsAFullBoxUpToTheLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("Rack,Position,Tube\n")
	for r := 'A'; r <= 'H'; r++ {
		for c := 1; c <= 12; c++ {
			fmt.Fprintf(&b, "RK001,%c%02d,T%c%02d\n", r, c, r, c)
		}
	}
	f, err := storage.ParseRackFile([]byte(b.String()), storage.RackOptions{})
	if err != nil || len(f.Wells) != 96 || f.Wells[95].Position != pos("H12") || f.Wells[95].Line != 97 {
		t.Fatalf("96 wells: %d %v", len(f.Wells), err)
	}
	exact := append([]byte("RK001,A1,T0001\n"), bytes.Repeat([]byte(" "), storage.MaxRackFile-15)...)
	if _, err := storage.ParseRackFile(exact, storage.RackOptions{}); err != nil {
		t.Fatalf("a file of exactly 256 KiB: %v", err)
	}
}

func TestFileError_NamesAtMostTenProblems(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 15; i++ {
		fmt.Fprintf(&b, "RK001,A1,T%04d\n", i)
	}
	_, err := storage.ParseRackFile([]byte(b.String()), storage.RackOptions{})
	var fe *storage.FileError
	if !errors.As(err, &fe) || len(fe.Problems) != 14 {
		t.Fatalf("got %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "line 11:") || strings.Contains(msg, "line 12:") || !strings.Contains(msg, "and 4 more") {
		t.Fatalf("message %q", msg)
	}
}

func FuzzParseRackFile(f *testing.F) {
	for _, seed := range []string{
		"RK001,A1,T0001\nRK001,A2,T0002\n",
		"Rack,Position,Tube\nRK001,A01,T0001\n",
		"RK001;A1;T0001\r\nRK001;B2;NO READ\r\n",
		"RK001\tA1\tT0001\nRK001\tA2\t\n",
		"RK001,A1,T0001\nRK002,A1,T0001\n",
		"R\"K,A1,T\n",
		"\"RK001\",\"A1\",\"T\"\"1\"\n",
		"RK001,A1,NOSCAN\nRK001,a01,\n",
		"\xef\xbb\xbfRK001,Z30,T\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := storage.ParseRackFile(data, storage.RackOptions{})
		if err != nil {
			var fe *storage.FileError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 {
				t.Fatalf("refused without naming a problem: %v", err)
			}
			return
		}
		if rf.Rack == "" || len(rf.Wells) == 0 {
			t.Fatalf("accepted without a rack or wells: %+v", rf)
		}
		positions := map[string]bool{}
		tubes := map[string]bool{}
		last := 0
		for _, w := range rf.Wells {
			if w.Line <= last {
				t.Fatalf("wells out of line order: %+v", rf.Wells)
			}
			last = w.Line
			if positions[w.Label()] {
				t.Fatalf("position %s twice", w.Label())
			}
			positions[w.Label()] = true
			if (w.Index < 1 || w.Index > 999) && (w.Position.Row < 1 || w.Position.Row > 26 || w.Position.Col < 1) {
				t.Fatalf("position %+v", w.Position)
			}
			if w.Tube != strings.TrimSpace(w.Tube) || (w.NoRead && w.Tube != "") {
				t.Fatalf("well %+v", w)
			}
			if w.Tube != "" {
				if tubes[w.Tube] {
					t.Fatalf("tube %s twice", w.Tube)
				}
				tubes[w.Tube] = true
			}
		}
		if rf.Rack != strings.TrimSpace(rf.Rack) {
			t.Fatalf("rack %q", rf.Rack)
		}
		// One rack: when the wells' lines name racks (a rack column, not metadata above the
		// data), every one names the file's rack barcode.
		text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		lines := strings.Split(text, "\n")
		if !strings.ContainsAny(rf.Rack, "\r\n\"") && len(rf.Wells) > 0 && rf.Wells[0].Line <= len(lines) &&
			strings.Contains(lines[rf.Wells[0].Line-1], rf.Rack) {
			for _, w := range rf.Wells {
				if w.Line > len(lines) || !strings.Contains(lines[w.Line-1], rf.Rack) {
					t.Fatalf("line %d holds a well of another rack than %q", w.Line, rf.Rack)
				}
			}
		}
	})
}
