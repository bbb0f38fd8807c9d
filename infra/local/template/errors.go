package template

import "fmt"

// Error is a problem with one place in the template.
type Error struct {
	Path string // property path, e.g. Resources.NotifyFunction.Properties.Timeout
	Line int    // 1-based source line, 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

func errAt(path string, line int, format string, args ...any) *Error {
	return &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}
