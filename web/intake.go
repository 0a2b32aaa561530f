package web

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Input is refused where it enters, once for every route: a path parameter, query value
// or form value that PostgreSQL cannot store as text (invalid UTF-8, or a NUL character)
// is a 400 naming the parameter, before any handler or query sees it. JSON bodies are
// checked the same way in bindJSON.

// badText says why s cannot be taken as text, or "" when it can.
func badText(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8 text"
	case strings.ContainsRune(s, 0):
		return "contains a NUL character"
	}
	return ""
}

// checkInput refuses a request whose path parameters, query string or form fields hold
// something that is not text.
func (s *Server) checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		values := c.ParamValues()
		for i, name := range c.ParamNames() {
			if i < len(values) {
				if why := badText(values[i]); why != "" {
					return &malformedError{Field: name, Message: fmt.Sprintf("The %s in the address %s.", name, why)}
				}
			}
		}
		for name, vs := range c.QueryParams() {
			if err := checkValues("query parameter", name, vs); err != nil {
				return err
			}
		}
		if isForm(c) {
			form, err := c.FormParams()
			if err != nil {
				return &malformedError{Message: "The form could not be read."}
			}
			for name, vs := range form {
				if err := checkValues("form field", name, vs); err != nil {
					return err
				}
			}
		}
		return next(c)
	}
}

func checkValues(kind, name string, vs []string) error {
	if why := badText(name); why != "" {
		return &malformedError{Message: fmt.Sprintf("A %s name %s.", kind, why)}
	}
	for _, v := range vs {
		if why := badText(v); why != "" {
			return &malformedError{Field: name, Message: fmt.Sprintf("The %s %q %s.", kind, name, why)}
		}
	}
	return nil
}

// isForm reports whether the request carries an HTML form.
func isForm(c echo.Context) bool {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	return err == nil && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data")
}

// jsonKey matches an object key followed by its colon.
var jsonKey = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"\s*:`)

// checkJSONText refuses a JSON body that is not text PostgreSQL can store: invalid UTF-8
// (which the decoder would silently turn into U+FFFD) or a \u0000 escape. It names the key
// whose value holds the first offending byte, as far as the raw text shows it.
func checkJSONText(body []byte) error {
	at, why := -1, ""
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size <= 1 {
				at, why = i, "is not valid UTF-8 text"
				break
			}
			i += size
		}
	}
	if i := bytes.Index(bytes.ToLower(body), []byte(`\u0000`)); i >= 0 && (at < 0 || i < at) {
		at, why = i, "contains a NUL character, which cannot be stored"
	}
	if i := loneSurrogate(body); i >= 0 && (at < 0 || i < at) {
		// encoding/json would store U+FFFD in its place: the text is not what was sent.
		at, why = i, "is not valid UTF-8 text (a \\u escape of half a surrogate pair)"
	}
	if at < 0 {
		return nil
	}
	field := ""
	if keys := jsonKey.FindAllSubmatch(body[:at], -1); len(keys) > 0 {
		field = string(keys[len(keys)-1][1])
	}
	if field == "" || badText(field) != "" {
		return &malformedError{Message: fmt.Sprintf("The body %s.", why)}
	}
	return &malformedError{Field: field, Message: fmt.Sprintf("The field %q %s.", field, why)}
}

// loneSurrogate returns the offset of the first \uD800–\uDFFF escape inside a JSON string
// that is not half of a high-low pair, or -1.
func loneSurrogate(body []byte) int {
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b == '"':
			inString = !inString
		case b == '\\' && inString && i+1 < len(body):
			if body[i+1] != 'u' {
				i++ // an escaped character, perhaps a quote or a backslash
				continue
			}
			r, ok := hex4(body, i+2)
			switch {
			case !ok:
				i++
			case r >= 0xD800 && r < 0xDC00: // high: a low must follow
				low, ok := hex4(body, i+8)
				if i+7 >= len(body) || body[i+6] != '\\' || body[i+7] != 'u' || !ok || low < 0xDC00 || low > 0xDFFF {
					return i
				}
				i += 11
			case r >= 0xDC00 && r <= 0xDFFF:
				return i
			default:
				i += 5
			}
		}
	}
	return -1
}

// hex4 reads four hex digits at body[at:].
func hex4(body []byte, at int) (rune, bool) {
	if at+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
