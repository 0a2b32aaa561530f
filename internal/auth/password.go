package auth

import (
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"biobank/internal/apperr"
)

// Password length bounds. Long passphrases are welcome; the upper bound only stops a
// megabyte "password" from costing the server an argon2 run.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// argonParams follow the OWASP recommendation for argon2id (m=19 MiB, t=2, p=1).
var argonParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// dummyHash is compared against when a username does not exist, so that a sign-in for an
// unknown user takes as long as one for a known user.
var dummyHash, _ = argon2id.CreateHash("not a real password, only for timing", argonParams)

// CheckPasswordPolicy returns a ValidationError for field when pw is too short or long.
func CheckPasswordPolicy(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return apperr.Invalid(field, "The password must have at least 10 characters.")
	}
	if len(pw) > MaxPasswordLength {
		return apperr.Invalid(field, "The password may have at most 256 bytes.")
	}
	return nil
}

// HashPassword returns the argon2id hash of pw in PHC string format.
func HashPassword(pw string) (string, error) {
	return argon2id.CreateHash(pw, argonParams)
}

// passwordMatches reports whether pw matches hash; an unreadable hash never matches.
func passwordMatches(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}
