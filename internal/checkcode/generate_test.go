package checkcode_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"biobank/internal/checkcode"
)

func TestGenerate_PseudonymsAreValidUniformAndRarelyCollide(t *testing.T) {
	const draws = 100_000
	const dataLen = 6
	seen := make(map[string]bool, draws)
	collisions := 0
	var counts [dataLen][32]int
	for range draws {
		code, err := checkcode.Generate(rand.Reader, dataLen)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 8 || !checkcode.Valid(code) {
			t.Fatalf("Generate gave %q, not a correct 8-symbol code", code)
		}
		if seen[code] {
			collisions++
		}
		seen[code] = true
		for i := range dataLen {
			counts[i][strings.IndexByte(checkcode.Alphabet, code[i])]++
		}
	}
	// Among 32^6 ≈ 1.07e9 values, 100,000 draws are expected to collide about
	// 100000² / (2·32^6) ≈ 4.7 times; 20 or more has probability below 1e-6.
	if collisions >= 20 {
		t.Errorf("%d collisions in %d draws: the source is not uniform", collisions, draws)
	}
	// Every symbol appears at every data position, and the counts are consistent with a
	// uniform distribution: chi-square with 31 degrees of freedom exceeds 90 with
	// probability about 1e-7.
	const expected = float64(draws) / 32
	for i := range dataLen {
		chi2 := 0.0
		for sym, n := range counts[i] {
			if n == 0 {
				t.Errorf("symbol %q never drawn at position %d", checkcode.Alphabet[sym], i)
			}
			d := float64(n) - expected
			chi2 += d * d / expected
		}
		if chi2 > 90 {
			t.Errorf("position %d: chi-square %.1f, the symbols are not uniform: %v", i, chi2, counts[i])
		}
	}
}

func TestGenerate_TakesTheLowFiveBitsOfEachByte(t *testing.T) {
	// 0x21 = 0b001_00001 → 1; 0xFF → 31 (Z); 0xE0 → 0; 0x4A = 0b010_01010 → 10 (A).
	src := bytes.NewReader([]byte{0x00, 0x21, 0xFF, 0xE0, 0x1F, 0x4A})
	got, err := checkcode.Generate(src, 6)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := checkcode.Append("01Z0ZA")
	if got != want {
		t.Errorf("Generate = %q, want %q", got, want)
	}
}

func TestGenerate_EverySymbolComesFromEightByteValues(t *testing.T) {
	// Feeding each byte value exactly once must yield each symbol exactly 256/32 = 8 times:
	// no symbol is favoured, so no rejection sampling is needed.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	src := bytes.NewReader(all)
	counts := map[byte]int{}
	for range 256 / 8 {
		code, err := checkcode.Generate(src, 8)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 8 {
			counts[code[i]]++
		}
	}
	for _, sym := range []byte(checkcode.Alphabet) {
		if counts[sym] != 8 {
			t.Errorf("symbol %q drawn %d times from the 256 byte values, want 8", sym, counts[sym])
		}
	}
}

func TestGenerate_ReportsAFailingRandomSource(t *testing.T) {
	boom := errors.New("entropy source unavailable")
	if code, err := checkcode.Generate(iotest.ErrReader(boom), 6); !errors.Is(err, boom) {
		t.Errorf("Generate from a failing reader = %q, %v; want the reader's error", code, err)
	}
	if code, err := checkcode.Generate(bytes.NewReader([]byte{1, 2, 3}), 6); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Generate from a short reader = %q, %v; want io.ErrUnexpectedEOF", code, err)
	}
}

func TestGenerate_RefusesUnsupportedLength(t *testing.T) {
	for _, n := range []int{-1, 0, 30} {
		if code, err := checkcode.Generate(rand.Reader, n); !errors.Is(err, checkcode.ErrUnsupportedLength) {
			t.Errorf("Generate(_, %d) = %q, %v; want ErrUnsupportedLength", n, code, err)
		}
	}
}
