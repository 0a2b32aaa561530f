package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

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
