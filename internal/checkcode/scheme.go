package checkcode

import (
	"fmt"
	"io"
)

// Scheme is how a study's pseudonyms carry their check symbols: it decides how a pseudonym
// is validated, which correction is suggested for a typo, and how the application draws
// new ones.
type Scheme string

const (
	// SchemeMainzelliste is the PID code of Mainzelliste (Faldum and Pommerening): a
	// trusted third party and this application can issue pseudonyms of one format. New
	// studies use it.
	SchemeMainzelliste Scheme = "mainzelliste"
	// SchemeBiobankV1 is this package's own code (Σ c_i = 0, Σ c_i·α^(i+1) = 0), which
	// pseudonyms were generated with before: kept so that they stay valid.
	SchemeBiobankV1 Scheme = "biobank-v1"
	// SchemeNone checks nothing: the study takes a trusted third party's pseudonyms that
	// carry no check symbols, matched against the study's pattern only.
	SchemeNone Scheme = "none"
)

// Schemes lists every scheme, the default first.
var Schemes = []Scheme{SchemeMainzelliste, SchemeBiobankV1, SchemeNone}

// Known reports whether s is one of Schemes.
func (s Scheme) Known() bool {
	return s == SchemeMainzelliste || s == SchemeBiobankV1 || s == SchemeNone
}

// Label names the scheme for people.
func (s Scheme) Label() string {
	switch s {
	case SchemeMainzelliste:
		return "Mainzelliste PIDs (Faldum–Pommerening check, as issued by a Mainzelliste trusted third party)"
	case SchemeBiobankV1:
		return "biobank-v1 (this application's earlier check code)"
	case SchemeNone:
		return "no check (the study's pattern only)"
	}
	return string(s)
}

// Valid reports whether code, exactly as written, is a valid 8-symbol pseudonym of the
// scheme (always false for SchemeNone, which has no check to pass).
func (s Scheme) Valid(code string) bool {
	switch s {
	case SchemeMainzelliste:
		return ValidPID(code)
	case SchemeBiobankV1:
		return len(code) == PIDLen && Valid(code)
	}
	return false
}

// Check reads an 8-symbol pseudonym a person typed or scanned under the scheme: normalised,
// then checked, with a *CheckError carrying the scheme's own suggestions. SchemeNone has
// no check; asking it is a programming mistake.
func (s Scheme) Check(raw string) (string, error) {
	switch s {
	case SchemeMainzelliste:
		return CheckPID(raw)
	case SchemeBiobankV1:
		return Check(raw, PIDLen)
	}
	return "", fmt.Errorf("checkcode: scheme %q has no check", s)
}

// Generate draws a new pseudonym of the scheme from random (crypto/rand.Reader). A study
// without a check still gets pseudonyms that can be checked: Mainzelliste PIDs.
func (s Scheme) Generate(random io.Reader) (string, error) {
	if s == SchemeBiobankV1 {
		return Generate(random, PIDLen-CheckLen)
	}
	return GeneratePID(random)
}
