// Package apperr holds the typed errors domain services return. The web layer maps each
// kind to an HTTP status and a sentence for a person; nothing here knows about HTTP.
package apperr

import (
	"errors"
	"fmt"
)

// ErrNotFound means the thing named does not exist (or is not visible to the actor).
var ErrNotFound = errors.New("not found")

// ErrUnauthenticated means no valid credentials were presented.
var ErrUnauthenticated = errors.New("not signed in")

// NotFound wraps ErrNotFound with what was looked for, e.g. NotFound("site", "LUX").
func NotFound(what, key string) error {
	return &NotFoundError{What: what, Key: key}
}

// NotFoundError names the missing thing; it matches ErrNotFound with errors.Is.
type NotFoundError struct {
	What string
	Key  string
}

func (e *NotFoundError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("No %s was found.", e.What)
	}
	return fmt.Sprintf("No %s %q was found.", e.What, e.Key)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ValidationError is a value a person entered that cannot be accepted; Field names the
// input it belongs beside. Code is a short snake_case word for API clients.
type ValidationError struct {
	Field   string
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Message }

// Invalid returns a ValidationError for field with the code "invalid".
func Invalid(field, message string) error {
	return &ValidationError{Field: field, Code: "invalid", Message: message}
}

// InvalidCode returns a ValidationError with a specific code.
func InvalidCode(field, code, message string) error {
	return &ValidationError{Field: field, Code: code, Message: message}
}

// ConflictError means the request clashes with the current state: a duplicate, a wrong
// status, an occupied position.
type ConflictError struct {
	Code    string
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// Conflict returns a ConflictError.
func Conflict(code, field, message string) error {
	return &ConflictError{Code: code, Field: field, Message: message}
}

// ForbiddenError means the actor's role or site does not allow the action.
type ForbiddenError struct {
	Message string
}

func (e *ForbiddenError) Error() string { return e.Message }

// Forbidden returns a ForbiddenError.
func Forbidden(message string) error {
	return &ForbiddenError{Message: message}
}

// AsValidation returns the ValidationError in err's chain, if any.
func AsValidation(err error) (*ValidationError, bool) {
	var v *ValidationError
	ok := errors.As(err, &v)
	return v, ok
}

// AsConflict returns the ConflictError in err's chain, if any.
func AsConflict(err error) (*ConflictError, bool) {
	var c *ConflictError
	ok := errors.As(err, &c)
	return c, ok
}

// AsForbidden returns the ForbiddenError in err's chain, if any.
func AsForbidden(err error) (*ForbiddenError, bool) {
	var f *ForbiddenError
	ok := errors.As(err, &f)
	return f, ok
}

// AsNotFound returns the NotFoundError in err's chain, if any.
func AsNotFound(err error) (*NotFoundError, bool) {
	var n *NotFoundError
	ok := errors.As(err, &n)
	return n, ok
}
