package auth

import (
	"regexp"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/db"
)

// Service manages sites, users, sign-in and API tokens.
type Service struct {
	DB *db.DB
	// Now is the clock; tests replace it to move through lock-out periods.
	Now func() time.Time
}

// NewService returns a Service on d with the real clock.
func NewService(d *db.DB) *Service {
	return &Service{DB: d, Now: func() time.Time { return time.Now().UTC() }}
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)

// normaliseUsername lower-cases and trims a username and checks its shape.
func normaliseUsername(field, s string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	if u == "" {
		return "", apperr.Invalid(field, "Enter a username.")
	}
	if !usernamePattern.MatchString(u) {
		return "", apperr.Invalid(field, "A username has 2 to 40 characters: letters, digits, dot, dash or underscore, starting with a letter or digit.")
	}
	return u, nil
}
