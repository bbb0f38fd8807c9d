package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// JSON turns an encoding/json decoding error about data into an Invalid error that
// locates it: byte offset, line and column for syntax errors, the JSON path for type
// errors. Errors of other kinds are returned unchanged.
func JSON(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off := int(syn.Offset)
		// Offset counts the bytes read including the offending one.
		if off > 0 && off <= len(data) && syn.Error() != "unexpected end of JSON input" {
			off--
		}
		e := &Error{Code: Invalid, Message: "malformed JSON: " + syn.Error()}
		e.Offset, e.Line, e.Column = Locate(data, off)
		return e
	case errors.As(err, &typ):
		path := typ.Field
		if path == "" {
			path = "$"
		}
		e := &Error{Code: Invalid, Path: path, Message: fmt.Sprintf("must be %s, not %s", kind(typ.Type.Kind().String()), typ.Value)}
		e.Offset, e.Line, e.Column = Locate(data, int(typ.Offset))
		return e
	case err != nil && err.Error() == "unexpected EOF":
		e := &Error{Code: Invalid, Message: "malformed JSON: unexpected end of input"}
		e.Offset, e.Line, e.Column = Locate(data, len(data))
		return e
	}
	return err
}

func kind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// Locate returns the offset (clamped to data) and its 1-based line and column, the
// column counted in characters.
func Locate(data []byte, off int) (offset, line, column int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	column = utf8.RuneCount(before[start:]) + 1
	return off, line, column
}

// UTF8 returns an Invalid error locating the first invalid UTF-8 sequence in data, or nil.
func UTF8(data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	e := &Error{Code: Invalid, Message: "body is not valid UTF-8"}
	e.Offset, e.Line, e.Column = Locate(data, off)
	return e
}

// Text turns an error of a jsontext decoder reading data into an Invalid error that
// locates it: offset, line, column, and the JSON path where it has one. An empty
// input (io.EOF) is an empty body.
func Text(data []byte, err error) error {
	var syn *jsontext.SyntacticError
	if !errors.As(err, &syn) {
		if !errors.Is(err, io.EOF) {
			return err
		}
		e := New(Invalid, "empty body: expected a JSON object or array")
		e.Offset, e.Line, e.Column = Locate(data, len(data))
		return e
	}
	var e *Error
	switch {
	case errors.Is(syn.Err, io.ErrUnexpectedEOF):
		e = New(Invalid, "malformed JSON: unexpected end of input")
	case syn.Err != nil && syn.Err.Error() == "invalid UTF-8":
		e = New(Invalid, "body is not valid UTF-8")
	case syn.Err != nil:
		e = New(Invalid, "malformed JSON: %s", syn.Err.Error())
	default:
		e = New(Invalid, "malformed JSON")
	}
	e.Path = PointerPath(syn.JSONPointer)
	e.Offset, e.Line, e.Column = Locate(data, int(syn.ByteOffset))
	return e
}

// PointerPath writes a JSON pointer as the paths of errors: "data[0].name". A token
// of digits is taken as an index.
func PointerPath(p jsontext.Pointer) string {
	if p == "" {
		return ""
	}
	var b strings.Builder
	for t := range p.Tokens() {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
