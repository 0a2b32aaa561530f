package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/db"
	"biobank/internal/printing"
	"biobank/templates"
)

// apiError is the JSON error body of the API contract.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// classify maps an error to a status, a short code and a sentence for a person. Unknown
// errors are internal: logged in full, shown as a plain apology.
func classify(err error) (status int, body apiErrorBody) {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, apiErrorBody{Code: "not_found", Message: "There is no page or resource at this address."}
		case http.StatusMethodNotAllowed:
			return he.Code, apiErrorBody{Code: "method_not_allowed", Message: "This address does not accept that kind of request."}
		case http.StatusRequestEntityTooLarge:
			return he.Code, apiErrorBody{Code: "too_large", Message: "The request is too large."}
		case http.StatusForbidden:
			if msg == csrfMessage {
				return he.Code, apiErrorBody{Code: "csrf", Message: msg}
			}
			return he.Code, apiErrorBody{Code: "forbidden", Message: "You are not allowed to do this."}
		case http.StatusBadRequest:
			if msg == "" {
				msg = "The request could not be read."
			}
			return he.Code, apiErrorBody{Code: "malformed", Message: msg}
		case http.StatusUnsupportedMediaType:
			return he.Code, apiErrorBody{Code: "unsupported_media_type", Message: "Send the request body as application/json."}
		}
		if he.Code < 500 {
			return he.Code, apiErrorBody{Code: "error", Message: http.StatusText(he.Code)}
		}
	case errors.Is(err, apperr.ErrUnauthenticated):
		return http.StatusUnauthorized, apiErrorBody{Code: "unauthenticated", Message: "Sign in, or send a valid API token as \"Authorization: Bearer <token>\"."}
	}
	if v, ok := apperr.AsValidation(err); ok {
		return http.StatusUnprocessableEntity, apiErrorBody{Code: v.Code, Message: v.Message, Field: v.Field}
	}
	if c, ok := apperr.AsConflict(err); ok {
		return http.StatusConflict, apiErrorBody{Code: c.Code, Message: c.Message, Field: c.Field}
	}
	if f, ok := apperr.AsForbidden(err); ok {
		return http.StatusForbidden, apiErrorBody{Code: "forbidden", Message: f.Message}
	}
	if n, ok := apperr.AsNotFound(err); ok {
		return http.StatusNotFound, apiErrorBody{Code: "not_found", Message: n.Error()}
	}
	var fr *fhirRefusal
	if errors.As(err, &fr) {
		return http.StatusBadRequest, apiErrorBody{Code: "malformed", Message: fr.msg}
	}
	var me *malformedError
	if errors.As(err, &me) {
		return http.StatusBadRequest, apiErrorBody{Code: "malformed", Message: me.Message, Field: me.Field}
	}
	var pe *printing.PrinterError
	if errors.As(err, &pe) {
		return http.StatusBadGateway, apiErrorBody{Code: "printer_unreachable", Message: pe.Error(), Field: "printer"}
	}
	if db.Unavailable(err) {
		return http.StatusServiceUnavailable, apiErrorBody{Code: "unavailable", Message: unavailableMessage}
	}
	return http.StatusInternalServerError, apiErrorBody{Code: "internal", Message: "Something went wrong on our side. The problem has been logged; please try again."}
}

// unavailableMessage is what a person reads when the database is down or not answering.
const unavailableMessage = "The database is not answering right now, so this could not be done. Please try again in a minute. " +
	"If you were saving something, check whether it was saved before you enter it again."

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = "10"

// malformedError is a request that cannot be parsed at all: bad JSON, a wrong type.
type malformedError struct {
	Field   string
	Message string
}

func (e *malformedError) Error() string { return e.Message }

// handleError is echo's one error handler for pages and API alike.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := classify(err)
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	if status >= 500 {
		slog.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err)
	}
	if strings.HasPrefix(c.Request().URL.Path, fhirPrefix) {
		if status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="biobank"`)
		}
		_ = fhirError(c, status, body)
		return
	}
	if isAPI(c) || prefersJSON(c) {
		if status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="biobank"`)
		}
		_ = c.JSON(status, apiError{Error: body})
		return
	}
	if status == http.StatusUnauthorized {
		_ = s.redirectToSignIn(c)
		return
	}
	heading := map[int]string{
		http.StatusBadRequest:            "The request could not be read",
		http.StatusForbidden:             "Not allowed",
		http.StatusNotFound:              "Not found",
		http.StatusConflict:              "Not possible right now",
		http.StatusUnprocessableEntity:   "Please check what was entered",
		http.StatusInternalServerError:   "Something went wrong",
		http.StatusServiceUnavailable:    "The database is not answering",
		http.StatusBadGateway:            "The printer did not print",
		http.StatusMethodNotAllowed:      "Not allowed",
		http.StatusRequestEntityTooLarge: "Too large",
	}[status]
	if heading == "" {
		heading = http.StatusText(status)
	}
	_ = s.render(c, status, templates.ErrorPage(s.page(c, heading), status, heading, body.Message))
}

func prefersJSON(c echo.Context) bool {
	accept := c.Request().Header.Get("Accept")
	return accept == "application/json"
}
