// Package fault defines eventhub's application errors: a code, a reason and where in the
// input the problem is, mapped to an HTTP status only at the edge.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies an application error.
type Code string

const (
	Invalid          Code = "invalid"           // the caller's input is wrong
	Unauthorized     Code = "unauthorized"      // missing or wrong credential
	Forbidden        Code = "forbidden"         // credential valid but not allowed
	NotFound         Code = "not_found"         // no such resource
	Conflict         Code = "conflict"          // state does not allow the request
	TooLarge         Code = "too_large"         // body or event over a limit
	UnsupportedMedia Code = "unsupported_media" // unknown content type
	RateLimited      Code = "rate_limited"      // over the caller's rate limit: try again after RetryAfter
)

// Error is an application error. Path is a JSON path ("data.severity") or a form field;
// Line, Column and Offset locate a syntax error in the body (1-based line and column,
// 0-based byte offset) and are zero when unknown.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
	Offset  int    `json:"offset,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	// RetryAfter is, for RateLimited, the seconds after which the request may succeed.
	RetryAfter int `json:"retryAfter,omitempty"`
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s (line %d, column %d)", e.Message, e.Line, e.Column)
	case e.Path != "":
		return e.Path + ": " + e.Message
	}
	return e.Message
}

// New returns an Error with the code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// At returns an Invalid error about the value at path.
func At(path, format string, args ...any) *Error {
	return &Error{Code: Invalid, Path: path, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries an application error with the code.
func Is(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}
