package jsonobject

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Set is a member that Compose writes.
type Set struct {
	Name  string
	Value json.RawMessage // valid JSON
}

// Compose writes a JSON object with the members of o in their order, each member of
// sets in place of the member of its name, or after the members of o, in order, if o
// has none. Names are written as encoding/json writes them, values as they were sent
// without whitespace.
//
// The result may share memory with o; it must not be changed.
func (o *Object) Compose(sets ...Set) json.RawMessage {
	if len(sets) == 0 && o.text != nil {
		return o.text
	}
	size := 2 + 4*len(o.spans)
	for _, sp := range o.spans {
		size += int(sp.nameEnd-sp.nameStart) + int(sp.valueEnd-sp.valueStart)
	}
	for _, x := range sets {
		size += len(x.Name) + 4 + len(x.Value)
	}
	b := make([]byte, 1, size)
	b[0] = '{'
members:
	for i := range o.spans {
		m := o.member(i)
		for _, x := range sets {
			if x.Name == string(m.Name) {
				b = appendMember(b, m.Name, x.Value, true)
				continue members
			}
		}
		b = appendMember(b, m.Name, m.Value, m.Spaced)
	}
	for _, x := range sets {
		if _, sent := o.get(x.Name); !sent {
			b = appendMember(b, x.Name, x.Value, true)
		}
	}
	return append(b, '}')
}

// appendMember appends a member to the object b, its value compacted if spaced.
func appendMember[S string | []byte](b []byte, name S, v []byte, spaced bool) []byte {
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = AppendQuote(b, name)
	b = append(b, ':')
	if !spaced {
		return append(b, v...)
	}
	b, _ = AppendCompact(b, v) // every value here is valid JSON
	return b
}

// compact are the options of AppendCompact: jsontext.Value.Compact's.
var compact = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true), jsontext.PreserveRawStrings(true)}

// AppendCompact appends the JSON value v without whitespace, its strings and numbers
// as they are (jsontext.Value.Compact). v must be valid JSON, as the reader that made
// it found it: a value without whitespace is copied as it is, not read again; one with
// whitespace is rewritten by jsontext, which reports it if it is not one JSON value.
func AppendCompact(dst, v []byte) ([]byte, error) {
	if spaced(v) {
		return jsontext.AppendFormat(dst, v, compact...)
	}
	return append(dst, v...), nil
}

// Compact reads the JSON value raw with jsontext (UTF-8, syntax, a name repeated at
// any depth refused, as Decode refuses them) and returns it without whitespace, its
// strings and numbers as they are. Errors locate what is wrong as Decode's do.
func Compact(raw []byte) (json.RawMessage, error) {
	c, err := jsontext.AppendFormat(make([]byte, 0, len(raw)), raw, jsontext.PreserveRawStrings(true))
	if err != nil {
		return nil, textError(raw, err)
	}
	return c, nil
}

// spaced reports whether the JSON text v has whitespace outside its strings.
func spaced(v []byte) bool {
	in := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return true
		}
	}
	return false
}

// quoting are the options under which jsontext writes strings as encoding/json does.
var quoting = []jsontext.Options{jsontext.EscapeForHTML(true), jsontext.EscapeForJS(true)}

// AppendQuote appends s as a JSON string as json.Marshal writes it: the shortest
// escapes, and '<', '>', '&', U+2028 and U+2029 escaped. Invalid UTF-8 becomes U+FFFD.
func AppendQuote[S string | []byte](dst []byte, s S) []byte {
	if plain(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	var buf [64]byte
	q, _ := jsontext.AppendQuote(buf[:0], s) // U+FFFD for invalid UTF-8
	dst, _ = jsontext.AppendFormat(dst, q, quoting...)
	return dst
}

// plain reports whether AppendQuote writes s as it is, between quotes: printable
// ASCII but for '"', '\\', '<', '>' and '&'.
func plain[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// Quote returns s as a JSON string, as AppendQuote writes it.
func Quote(s string) json.RawMessage { return AppendQuote(nil, s) }

// EmbeddedText returns the JSON that the text of a string member carries when it is
// itself a JSON object or array (producers that send "metadata" or "userObject" as a
// JSON string), compacted, and false when it is anything else (JSON that repeats a
// name included), which stays a string.
func EmbeddedText(s []byte) (json.RawMessage, bool) {
	t := bytes.TrimSpace(s)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	c, err := jsontext.AppendFormat(make([]byte, 0, len(t)), t, jsontext.PreserveRawStrings(true))
	if err != nil {
		return nil, false
	}
	return c, true
}
