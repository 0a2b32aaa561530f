package sample

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"biobank/internal/apperr"
	"biobank/internal/checkcode"
	"biobank/internal/db"
)

// DefaultPrefix starts this instance's accession IDs. Each site of a federation running
// its own instance sets its own (BIOBANK_ACCESSION_PREFIX), so IDs never collide.
const DefaultPrefix = "AC"

// accessionDigits is the width of the sequence number: room for 10^8 samples per prefix.
const accessionDigits = 8

// CheckPrefix refuses a prefix that is not 1 to 4 symbols of the check-code alphabet
// (digits and capital letters without B, I, O, S), so that every accession ID can carry
// check symbols.
func CheckPrefix(p string) error {
	if len(p) < 1 || len(p) > 4 {
		return fmt.Errorf("sample: accession prefix %q must have 1 to 4 characters", p)
	}
	for _, r := range p {
		if !strings.ContainsRune(checkcode.Alphabet, r) {
			return fmt.Errorf("sample: accession prefix %q may use only %s", p, checkcode.Alphabet)
		}
	}
	return nil
}

// Accession builds the accession ID of sequence number n: prefix, 8 digits and two check
// symbols over the whole, e.g. AC0000012345 → AC00000123XY.
func Accession(prefix string, n int64) (string, error) {
	if n < 0 || n >= 100_000_000 {
		return "", fmt.Errorf("sample: accession number %d does not fit in %d digits: this prefix is exhausted, configure another", n, accessionDigits)
	}
	return checkcode.Append(fmt.Sprintf("%s%0*d", prefix, accessionDigits, n))
}

// accessionLength is the length of this instance's accession IDs.
func (s *Service) accessionLength() int { return len(s.Prefix) + accessionDigits + checkcode.CheckLen }

// nextAccessions draws n accession IDs from the database sequence.
func (s *Service) nextAccessions(tx *gorm.DB, n int) ([]string, error) {
	var seqs []int64
	if err := tx.Raw("SELECT nextval('sample_accession_seq') FROM generate_series(1, ?)", n).Scan(&seqs).Error; err != nil {
		return nil, err
	}
	out := make([]string, len(seqs))
	for i, q := range seqs {
		a, err := Accession(s.Prefix, q)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// NextAccessions draws n accession IDs inside the caller's transaction (a bulk import
// numbers its samples before staging them).
func (s *Service) NextAccessions(tx *db.Tx, n int) ([]string, error) {
	return s.nextAccessions(tx.DB, n)
}

// checkScanned decides whether a scanned code that matched no sample is a misread
// accession ID (wrong check symbols: a ValidationError with the likely correction) or
// simply unknown.
func (s *Service) checkScanned(raw string) error {
	n := checkcode.Normalize(raw)
	if len(n) == s.accessionLength() && strings.HasPrefix(n, s.Prefix) {
		if _, err := checkcode.Check(n, len(n)); err != nil {
			var ce *checkcode.CheckError
			if errors.As(err, &ce) {
				return apperr.InvalidCode("sample", "wrong_check", ce.Error())
			}
		}
	}
	return apperr.NotFound("sample", strings.TrimSpace(raw))
}
