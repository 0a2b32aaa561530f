// Package fhirschema checks documents against the FHIR R4 JSON schema (the subset in
// internal/fhir/testdata), for tests: every resource the server emits must validate.
package fhirschema

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	once   sync.Once
	schema *jsonschema.Schema
	err    error
)

// compiled is the schema, compiled once per test binary.
func compiled() (*jsonschema.Schema, error) {
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		path := filepath.Join(filepath.Dir(file), "..", "testdata", "fhir.schema.json")
		c := jsonschema.NewCompiler()
		schema, err = c.Compile(path)
	})
	return schema, err
}

// Check says why doc is not a valid FHIR R4 resource of the kinds the schema holds.
func Check(doc []byte) error {
	s, err := compiled()
	if err != nil {
		return fmt.Errorf("the FHIR schema does not compile: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}

// Validate fails tb when doc is not a valid FHIR R4 resource of the kinds the schema holds.
func Validate(tb testing.TB, doc []byte) {
	tb.Helper()
	if err := Check(doc); err != nil {
		tb.Errorf("not a valid FHIR R4 resource: %v\n%s", err, doc)
	}
}
