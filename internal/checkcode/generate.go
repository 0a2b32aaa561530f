package checkcode

import (
	"fmt"
	"io"
)

// Generate returns a new code of dataLen random symbols followed by their two check symbols.
// random must be a cryptographically secure source — pass crypto/rand.Reader — so that no
// outsider can guess codes from ones they have seen. A pseudonym is Generate(rand.Reader, 6):
// 8 characters, about 10^9 possible values. Generate does not know which codes are taken:
// the caller stores codes under a unique constraint and draws again on a collision.
func Generate(random io.Reader, dataLen int) (string, error) {
	if dataLen < MinLen-CheckLen || dataLen > MaxLen-CheckLen {
		return "", fmt.Errorf("%w: %d data symbols (want %d to %d)",
			ErrUnsupportedLength, dataLen, MinLen-CheckLen, MaxLen-CheckLen)
	}
	buf := make([]byte, dataLen)
	if _, err := io.ReadFull(random, buf); err != nil {
		return "", fmt.Errorf("checkcode: read random bytes: %w", err)
	}
	// 32 divides 256, so the low five bits of a uniform byte are a uniform symbol: no
	// rejection sampling and no modulo bias.
	for i, b := range buf {
		buf[i] = b & 31
	}
	p, q := checkSymbols(buf)
	return word(append(buf, p, q)), nil
}
