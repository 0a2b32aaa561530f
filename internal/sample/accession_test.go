package sample_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"biobank/internal/checkcode"
	"biobank/internal/sample"
)

func TestAccession_PrefixEightDigitsAndValidCheckSymbols(t *testing.T) {
	cases := []struct {
		prefix string
		n      int64
	}{
		{"AC", 1}, {"AC", 12345}, {"AC", 99999999}, {"7", 42}, {"ACDE", 7}, {"Z", 10000000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.prefix, c.n), func(t *testing.T) {
			a, err := sample.Accession(c.prefix, c.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != len(c.prefix)+8+checkcode.CheckLen {
				t.Fatalf("%s has length %d", a, len(a))
			}
			if !strings.HasPrefix(a, c.prefix) {
				t.Errorf("%s does not start with %s", a, c.prefix)
			}
			if digits := a[len(c.prefix) : len(c.prefix)+8]; digits != fmt.Sprintf("%08d", c.n) {
				t.Errorf("%s carries the number %s, want %08d", a, digits, c.n)
			}
			if !checkcode.Valid(a) {
				t.Errorf("%s has no valid check symbols", a)
			}
		})
	}
	a, _ := sample.Accession("AC", 5)
	b, _ := sample.Accession("AC", 6)
	if a[:10] == b[:10] || a == b {
		t.Errorf("consecutive numbers gave %s and %s", a, b)
	}
}

func TestCheckPrefix_RefusesConfusableLettersAndBadLengths(t *testing.T) {
	cases := []struct {
		prefix string
		ok     bool
	}{
		{"A", true}, {"AC", true}, {"ACDE", true}, {"7", true}, {"Z9", true},
		{"", false}, {"ACDEF", false},
		{"B", false}, {"I", false}, {"O", false}, {"S", false}, {"AB", false}, {"OK", false}, {"SAM", false}, {"BI", false},
		{"ac", false}, {"A-1", false}, {"A C", false},
	}
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			err := sample.CheckPrefix(c.prefix)
			if (err == nil) != c.ok {
				t.Fatalf("CheckPrefix(%q) = %v, want ok=%v", c.prefix, err, c.ok)
			}
		})
	}
}

// misread changes the symbol at position at of an accession ID to another symbol of the
// alphabet, as a bad scan or a typing slip would.
func misread(accession string, at int) string {
	b := []byte(accession)
	if b[at] == '3' {
		b[at] = '4'
	} else {
		b[at] = '3'
	}
	return string(b)
}

// TestScan checks how a scanned or typed code resolves: accession IDs in any case or with
// look-alike letters, tube barcodes; a misread check character is refused with the
// correction; tube barcodes are unique among live tubes.
func TestScan(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runScenarios(t, w,
		scenario{"OneCharacterChangedIsWrongCheckWithTheCorrection", scanOneCharacterChangedIsWrongCheckWithTheCorrection},
		scenario{"LowerCaseSpacesAndTubeBarcodeResolve", scanLowerCaseSpacesAndTubeBarcodeResolve},
		scenario{"LookAlikeLettersAndGroupingResolveAnAccession", scanLookAlikeLettersAndGroupingResolveAnAccession},
		scenario{"TubeBarcode_ReusableAfterEndButUniqueAmongLiveTubes", tubeBarcodeReusableAfterEndButUniqueAmongLiveTubes},
	)
}

func scanOneCharacterChangedIsWrongCheckWithTheCorrection(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]
	for _, at := range []int{2, 6, 9, 10, 11} {
		bad := misread(smp.Accession, at)
		t.Run(bad, func(t *testing.T) {
			before := w.tally(t)
			_, err := w.samples.Receive(ctx, w.tech, bad)
			v := wantValidation(t, err, "sample")
			if v.Code != "wrong_check" {
				t.Errorf("code %q, want wrong_check", v.Code)
			}
			if !strings.Contains(v.Message, smp.Accession) {
				t.Errorf("message %q does not offer the correction %s", v.Message, smp.Accession)
			}
			w.unchanged(t, before)
			if got := w.mustGet(t, smp.Accession); got.Status != sample.Collected || got.ReceivedAt != nil {
				t.Errorf("a misread scan changed the sample: %s", got.Status)
			}
			_, err = w.samples.Get(ctx, w.tech, strings.ToLower(bad))
			if v := wantValidation(t, err, "sample"); v.Code != "wrong_check" {
				t.Errorf("lower-case misread: code %q", v.Code)
			}
		})
	}
	// An unknown code that is not shaped like an accession ID is simply not found.
	_, err := w.samples.Get(ctx, w.tech, "NOSUCHTUBE")
	if err == nil || !strings.Contains(err.Error(), "NOSUCHTUBE") {
		t.Errorf("unknown code: %v", err)
	}
}

func scanLowerCaseSpacesAndTubeBarcodeResolve(t *testing.T, w world) {
	ctx := context.Background()
	in := w.collection(tube("whole_blood", "PED", "4"))
	in.Tubes[0].TubeBarcode = "FR0012345678"
	smp := w.mustCollectTubes(t, in)[0]
	for _, code := range []string{smp.Accession, strings.ToLower(smp.Accession), "  " + smp.Accession + "\t", " " + strings.ToLower(smp.Accession) + " \n",
		"FR0012345678", " FR0012345678 "} {
		got, err := w.samples.Get(ctx, w.tech, code)
		if err != nil || got.Accession != smp.Accession {
			t.Errorf("Get(%q) = %s, %v; want %s", code, got.Accession, err, smp.Accession)
		}
	}
	r, err := w.samples.Receive(ctx, w.tech, strings.ToLower(smp.Accession)+" ")
	if err != nil || !r.Changed || r.Sample.Accession != smp.Accession {
		t.Fatalf("receive by lower-case accession: %+v %v", r, err)
	}
}

func tubeBarcodeReusableAfterEndButUniqueAmongLiveTubes(t *testing.T, w world) {
	ctx := context.Background()
	withBarcode := func(barcodes ...string) sample.Collection {
		in := w.collection()
		for _, b := range barcodes {
			tb := tube("whole_blood", "PED", "4")
			tb.TubeBarcode = b
			in.Tubes = append(in.Tubes, tb)
		}
		return in
	}
	first := w.mustCollectTubes(t, withBarcode("RACK01-A1"))[0]

	before := w.tally(t)
	_, err := w.samples.Collect(ctx, w.nurse, withBarcode("RACK01-A1"))
	c := wantConflict(t, err, "duplicate_tube_barcode")
	if c.Field != "tubes[0].tube_barcode" || !strings.Contains(c.Message, "RACK01-A1") {
		t.Errorf("conflict %+v should name the tube and the barcode", c)
	}
	w.unchanged(t, before)

	// Within one collection: the second tube clashes with the first; neither is written.
	_, err = w.samples.Collect(ctx, w.nurse, withBarcode("RACK02-B2", "RACK02-B2"))
	if c := wantConflict(t, err, "duplicate_tube_barcode"); c.Field != "tubes[1].tube_barcode" {
		t.Errorf("field %q, want tubes[1].tube_barcode", c.Field)
	}
	w.unchanged(t, before)

	_, err = w.samples.Collect(ctx, w.nurse, withBarcode("ab"))
	wantValidation(t, err, "tubes[0].tube_barcode")
	w.unchanged(t, before)

	if _, err := w.samples.End(ctx, w.manager, first.Accession, sample.ActDestroy, "tube cracked"); err != nil {
		t.Fatal(err)
	}
	second := w.mustCollectTubes(t, withBarcode("RACK01-A1"))[0]
	if second.Accession == first.Accession {
		t.Fatal("a new tube got the old accession ID")
	}
	got, err := w.samples.Get(ctx, w.tech, "RACK01-A1")
	if err != nil || got.Accession != second.Accession {
		t.Errorf("the barcode resolves to %s (%v), want the live tube %s", got.Accession, err, second.Accession)
	}
	// The ended tube is still reached by its accession ID.
	if got := w.mustGet(t, first.Accession); got.Status != sample.Destroyed {
		t.Errorf("first tube %s", got.Status)
	}
}

func scanLookAlikeLettersAndGroupingResolveAnAccession(t *testing.T, w world) {
	ctx := context.Background()
	smp := w.mustCollectTubes(t, w.collection(tube("whole_blood", "PED", "4")))[0]
	// Typed by hand: O for 0, grouped with a hyphen and a space.
	typed := strings.ReplaceAll(smp.Accession[:6], "0", "O") + "-" + smp.Accession[6:10] + " " + smp.Accession[10:]
	got, err := w.samples.Get(ctx, w.tech, typed)
	if err != nil || got.Accession != smp.Accession {
		t.Fatalf("Get(%q) = %s, %v; want %s", typed, got.Accession, err, smp.Accession)
	}
	r, err := w.samples.Receive(ctx, w.tech, strings.ToLower(typed))
	if err != nil || !r.Changed {
		t.Fatalf("receive %q: %+v %v", typed, r, err)
	}
}
