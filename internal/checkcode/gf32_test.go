package checkcode

import "testing"

// slowMul multiplies two field elements the long way — carry-less multiplication of the
// polynomials, then reduction by x^5 + x^2 + 1 — as a reference independent of the tables.
func slowMul(a, b byte) byte {
	var p uint16
	for k := 0; k < 5; k++ {
		if b&(1<<k) != 0 {
			p ^= uint16(a) << k
		}
	}
	for k := 8; k >= 5; k-- {
		if p&(1<<k) != 0 {
			p ^= fieldPoly << (k - 5)
		}
	}
	return byte(p)
}

func TestField_AlphaGeneratesEveryNonZeroElement(t *testing.T) {
	seen := map[byte]int{}
	x := byte(1)
	for k := 0; k < order; k++ {
		if x == 0 || x > 31 {
			t.Fatalf("α^%d = %d is not a non-zero element of GF(32)", k, x)
		}
		if prev, dup := seen[x]; dup {
			t.Fatalf("α^%d = α^%d = %d: α is not primitive", k, prev, x)
		}
		seen[x] = k
		if alphaPow(k) != x {
			t.Fatalf("alphaPow(%d) = %d, want %d", k, alphaPow(k), x)
		}
		x = slowMul(x, 2)
	}
	if x != 1 {
		t.Fatalf("α^31 = %d, want 1", x)
	}
}

func TestField_MulMatchesPolynomialMultiplication(t *testing.T) {
	for a := 0; a < 32; a++ {
		for b := 0; b < 32; b++ {
			if got, want := mul(byte(a), byte(b)), slowMul(byte(a), byte(b)); got != want {
				t.Fatalf("mul(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestField_DivUndoesMul(t *testing.T) {
	for a := 0; a < 32; a++ {
		for b := 1; b < 32; b++ {
			if got := div(mul(byte(a), byte(b)), byte(b)); got != byte(a) {
				t.Fatalf("(%d·%d)/%d = %d, want %d", a, b, b, got, a)
			}
		}
	}
}

func TestField_DivByZeroPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("div(1, 0) did not panic")
		}
	}()
	div(1, 0)
}
