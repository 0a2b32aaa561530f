package storage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"biobank/internal/storage"
)

// wellWant is one well a layout test expects: its position label ("A1", or "#9" for a
// numbered well) and its tube, "" for empty or "?" for unreadable.
type wellWant struct{ pos, tube string }

func describeWell(w storage.Well) wellWant {
	switch {
	case w.NoRead:
		return wellWant{w.Label(), "?"}
	default:
		return wellWant{w.Label(), w.Tube}
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rackfiles", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseRackFile_Layouts reads a file of each layout real rack scanners write (fixtures
// written from the vendors' public descriptions) into the same wells.
func TestParseRackFile_Layouts(t *testing.T) {
	for _, tc := range []struct {
		file   string
		opt    storage.RackOptions
		rack   string
		layout string // a word the layout description must hold
		wells  []wellWant
	}{
		{"fluidx-three-columns.csv", storage.RackOptions{}, "FR00012345", "rack, position, tube",
			[]wellWant{{"A1", "FX00000001"}, {"A2", "?"}, {"A3", "FX00000003"}, {"A4", "?"}}},
		{"fluidx-three-columns.csv", storage.RackOptions{NoReadIsEmpty: true}, "FR00012345", "rack, position, tube",
			[]wellWant{{"A1", "FX00000001"}, {"A2", ""}, {"A3", "FX00000003"}, {"A4", ""}}},
		{"sanger-two-columns.csv", storage.RackOptions{Box: "BOX-7", NoReadIsEmpty: true}, "BOX-7", "2 columns",
			[]wellWant{{"A1", "FX05650001"}, {"A2", ""}, {"B1", "FX05650003"}}},
		{"FR00067890.csv", storage.RackOptions{FileName: `C:\scans\FR00067890.csv`}, "FR00067890", "file name",
			[]wellWant{{"A1", "FX06780001"}, {"A2", ""}, {"A3", "FX06780003"}}},
		{"tracerack.txt", storage.RackOptions{}, "TR004200", "semicolon",
			[]wellWant{{"A1", "1034998087"}, {"A2", ""}, {"A3", "1034998089"}, {"B1", "?"}}},
		{"visionmate-header.csv", storage.RackOptions{}, "VM-RACK-9", "header",
			[]wellWant{{"A1", "VM00000001"}, {"A2", "VM00000002"}, {"B1", ""}}},
		{"traxcer.csv", storage.RackOptions{}, "RK-TRAX-01", "header",
			[]wellWant{{"A1", "MX00000001"}, {"A2", "MX00000002"}, {"A3", ""}}},
		{"keyvalue-tab.txt", storage.RackOptions{}, "RK777", "tab",
			[]wellWant{{"A1", "T1-0001"}, {"A2", ""}, {"A3", "T1-0003"}}},
		{"header-semicolon-tab-bom.csv", storage.RackOptions{}, "RK888", "semicolon and tab",
			[]wellWant{{"A1", "T2-0001"}, {"A2", "T2-0002"}, {"A3", "?"}}},
		{"index-stream.csv", storage.RackOptions{Box: "BOX-IX", ColumnOrder: true}, "BOX-IX", "2 columns",
			[]wellWant{{"#1", "IX000001"}, {"#2", "IX000002"}, {"#9", "IX000009"}}},
		{"lone-cr.csv", storage.RackOptions{}, "RK555", "rack, position, tube",
			[]wellWant{{"A1", "T5-0001"}, {"A2", "?"}, {"A3", "?"}, {"A4", "?"}, {"A5", ""}}},
		{"micronic.json", storage.RackOptions{}, "MIC-0001", "JSON",
			[]wellWant{{"A1", "MT000001"}, {"A2", ""}, {"A3", "?"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := storage.ParseRackFile(readFixture(t, tc.file), tc.opt)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if f.Rack != tc.rack {
				t.Errorf("rack %q, want %q", f.Rack, tc.rack)
			}
			if !strings.Contains(f.Layout, tc.layout) {
				t.Errorf("layout %q, want it to say %q", f.Layout, tc.layout)
			}
			var got []wellWant
			for _, w := range f.Wells {
				got = append(got, describeWell(w))
			}
			if len(got) != len(tc.wells) {
				t.Fatalf("wells %v, want %v", got, tc.wells)
			}
			for i := range got {
				if got[i] != tc.wells[i] {
					t.Errorf("well %d: %v, want %v", i, got[i], tc.wells[i])
				}
			}
			if tc.opt.ColumnOrder != f.ColumnOrder {
				t.Errorf("column order %v, want %v", f.ColumnOrder, tc.opt.ColumnOrder)
			}
		})
	}
}

// TestParseRackFile_RefusesInOneSentence: a layout that cannot be recognised, a file whose
// every line fails the same way, a JSON file that is not a scan, a rack the file names that
// is not the chosen box: one sentence saying what was seen, not a line error per line.
func TestParseRackFile_RefusesInOneSentence(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		opt  storage.RackOptions
		says []string
	}{
		{"unrecognised layout", readFixture(t, "bad-unrecognised.csv"), storage.RackOptions{}, []string{"no line names a well", "foo,bar"}},
		{"every line the same mistake", readFixture(t, "bad-every-line-the-same.csv"), storage.RackOptions{}, []string{"every one of its 4 lines", "no rack barcode"}},
		{"JSON that is not a scan", readFixture(t, "bad-not-a-scan.json"), storage.RackOptions{}, []string{"JSON", "not a rack scan result"}},
		{"a header and nothing else", readFixture(t, "bad-header-only.csv"), storage.RackOptions{}, []string{"no wells"}},
		{"two columns and no rack", readFixture(t, "sanger-two-columns.csv"), storage.RackOptions{}, []string{"2 columns (position, tube)", "choose the box to import into"}},
		{"the file's rack is not the chosen box", readFixture(t, "fluidx-three-columns.csv"), storage.RackOptions{Box: "OTHER-BOX"},
			[]string{"FR00012345", "OTHER-BOX"}},
		{"broken JSON", []byte(`{"rackId": "X", "tubes": [`), storage.RackOptions{}, []string{"not valid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := storage.ParseRackFile(tc.data, tc.opt)
			fe, ok := err.(*storage.FileError)
			if !ok {
				t.Fatalf("got %v, want a FileError", err)
			}
			if len(fe.Problems) != 1 {
				t.Errorf("%d problems %v, want one sentence", len(fe.Problems), fe.Problems)
			}
			for _, s := range tc.says {
				if !strings.Contains(fe.Error(), s) {
					t.Errorf("%q does not say %q", fe.Error(), s)
				}
			}
		})
	}
}

// A first data line whose position cannot be read is an error on that line, never taken
// for a header.
func TestParseRackFile_FirstLineIsNotAHeaderByAccident(t *testing.T) {
	_, err := storage.ParseRackFile([]byte("RK1,A0,FX00000001\nRK1,A2,FX00000002\nRK1,A3,FX00000003\n"), storage.RackOptions{})
	fe, ok := err.(*storage.FileError)
	if !ok || len(fe.Problems) != 1 || fe.Problems[0].Line != 1 || !strings.Contains(fe.Problems[0].Message, `"A0" is not a position`) {
		t.Fatalf("got %v, want line 1 named for its position", err)
	}
}
