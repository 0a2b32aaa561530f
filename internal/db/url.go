package db

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

const redacted = "xxxxx"

var (
	// keywordPassword finds the password in a keyword/value connection string
	// ("host=db password=secret"), quoted or not.
	keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
	// userinfoPassword finds the password in a URL too malformed for net/url to parse.
	userinfoPassword = regexp.MustCompile(`(://[^:/@]*:).*@`)
)

// Redact returns the connection string with its password hidden, for logs and messages.
// It understands URLs (the password in the user part or in a password= parameter) and
// keyword/value strings, and hides what looks like a password even in a malformed URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		s := keywordPassword.ReplaceAllString(raw, "${1}"+redacted)
		return userinfoPassword.ReplaceAllString(s, "${1}"+redacted+"@")
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", redacted)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// WithDatabase returns the connection URL pointing at another database on the same server.
// Only URLs (postgres://…) are understood.
func WithDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only its cause.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "", fmt.Errorf("db: parse %s: %w", Redact(raw), err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("db: %s is not a postgres:// URL", Redact(raw))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}
