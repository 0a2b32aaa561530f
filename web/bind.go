package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/labstack/echo/v4"

	"biobank/internal/sprec"
)

// bindJSON decodes the request body into v strictly: the body must be one JSON object of
// the right shape, with no unknown fields, and text PostgreSQL can store (valid UTF-8, no
// NUL). Anything else is a 400 that names the problem.
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType)
		}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return malformed(err)
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return &malformedError{Message: "The body is empty; send a JSON object."}
	case trimmed[0] != '{':
		return &malformedError{Message: "The body must be a JSON object."}
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return &malformedError{Message: "The body must hold exactly one JSON object."}
	}
	return checkDecimals(trimmed, reflect.TypeOf(v), "")
}

var decimalType = reflect.TypeFor[decimal.Decimal]()

// checkDecimals refuses a quoted number where t has a decimal: decimal.Decimal reads
// "12.5" as readily as 12.5, but the contract's numbers are JSON numbers, and a string
// there is a client's bug to show, not to guess at. It walks raw along t's JSON shape.
func checkDecimals(raw []byte, t reflect.Type, field string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	switch {
	case t == decimalType:
		if raw[0] == '"' {
			return &malformedError{Field: field, Message: fmt.Sprintf("The field %q must be a number, not a string.", field)}
		}
	case t.Kind() == reflect.Slice && raw[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil // decoding already accepted it; nothing here to check
		}
		for _, item := range items {
			if err := checkDecimals(item, t.Elem(), field); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Struct && raw[0] == '{':
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return nil
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				if err := checkDecimals(raw, f.Type, field); err != nil { // promoted fields
					return err
				}
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			for key, value := range fields {
				// encoding/json matches keys case-insensitively.
				if strings.EqualFold(key, name) {
					if err := checkDecimals(value, f.Type, key); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func malformed(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return &malformedError{Field: typeErr.Field, Message: fmt.Sprintf("The field %q must be %s.", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &malformedError{Message: "The body is not valid JSON."}
	case errors.Is(err, io.EOF):
		return &malformedError{Message: "The body is empty; send a JSON object."}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &malformedError{Field: field, Message: fmt.Sprintf("Unknown field %q.", field)}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	// A coded value the JSON names wrongly (a SPREC temperature "warm"): the JSON was read,
	// and the type's own sentence says what it accepts.
	var ie *sprec.InputError
	if errors.As(err, &ie) {
		return &malformedError{Message: ie.Message}
	}
	return &malformedError{Message: "The body could not be read as JSON."}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}
