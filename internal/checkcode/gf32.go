package checkcode

// GF(32) arithmetic. A symbol 0..31 is read as a polynomial over GF(2) of degree < 5 (bit k
// is the coefficient of x^k), so addition is XOR. Multiplication is reduced modulo the
// primitive polynomial x^5 + x^2 + 1; because it is primitive, α = x generates all 31 non-zero
// elements, and log/antilog tables turn a product into a sum of exponents.

// fieldPoly is x^5 + x^2 + 1, the reduction polynomial (bits 5, 2 and 0).
const fieldPoly = 0b100101

// order is the number of non-zero elements of GF(32): α^order = 1.
const order = 31

var (
	// antilog[k] = α^k for k in 0..2*order-1; doubled so that antilog[log a + log b] needs
	// no reduction modulo 31.
	antilog [2 * order]byte
	// logOf[a] = k with α^k = a, for a in 1..31. logOf[0] is meaningless: 0 has no logarithm.
	logOf [32]int
)

func init() {
	x := byte(1)
	for k := 0; k < order; k++ {
		antilog[k] = x
		antilog[k+order] = x
		logOf[x] = k
		x <<= 1 // multiply by α = x
		if x&0b100000 != 0 {
			x ^= fieldPoly
		}
	}
}

// mul returns a·b in GF(32).
func mul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return antilog[logOf[a]+logOf[b]]
}

// div returns a/b in GF(32); b must not be 0.
func div(a, b byte) byte {
	if b == 0 {
		panic("checkcode: division by zero in GF(32)")
	}
	if a == 0 {
		return 0
	}
	return antilog[logOf[a]-logOf[b]+order]
}

// alphaPow returns α^k for any k ≥ 0.
func alphaPow(k int) byte {
	return antilog[k%order]
}
