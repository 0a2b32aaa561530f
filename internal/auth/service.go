package auth

import (
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

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

// MaxReasonLength bounds the reason given for a change.
const MaxReasonLength = 500

// requireReason trims a reason and refuses an empty or over-long one.
func requireReason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	if r == "" {
		return "", apperr.InvalidCode("reason", "reason_required", "Give a reason for this change; it is kept in the audit trail.")
	}
	if utf8.RuneCountInString(r) > MaxReasonLength {
		return "", apperr.Invalid("reason", "The reason may have at most 500 characters.")
	}
	return r, nil
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

// isUniqueViolation reports whether err is a duplicate-key error from the database.
func isUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(err.Error(), "SQLSTATE 23505")
}
