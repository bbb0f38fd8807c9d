package cloudevent

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// This file is the fast path of Parse and MarshalJSON. It reads and writes exactly
// the JSON that encoding/json would, and for everything else (a syntax error, an
// escaped member name, nesting deeper than encoding/json allows) it declines, so
// that the encoding/json path produces the same result or error as before.

// The attributes the spec defines, and data, by index.
const (
	attrSpecVersion = iota
	attrID
	attrSource
	attrType
	attrSubject
	attrTime
	attrDataContentType
	attrDataSchema
	attrData
	attrDataBase64
	nAttrs
)

var attrNames = [nAttrs]string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64"}

func attrIndex(name string) int {
	switch name {
	case "specversion":
		return attrSpecVersion
	case "id":
		return attrID
	case "source":
		return attrSource
	case "type":
		return attrType
	case "subject":
		return attrSubject
	case "time":
		return attrTime
	case "datacontenttype":
		return attrDataContentType
	case "dataschema":
		return attrDataSchema
	case "data":
		return attrData
	case "data_base64":
		return attrDataBase64
	}
	return -1
}

// members are the top-level members of an event object: the spec's attributes by
// index (nil when absent) and the extensions. As when encoding/json decodes into a
// map, a repeated name keeps its last value.
type members struct {
	attrs [nAttrs]json.RawMessage
	ext   []member
}

type member struct {
	name string
	raw  json.RawMessage
}

func (m *members) set(name []byte, raw json.RawMessage) {
	if i := attrIndex(string(name)); i >= 0 {
		m.attrs[i] = raw
		return
	}
	for k := range m.ext {
		if m.ext[k].name == string(name) {
			m.ext[k].raw = raw
			return
		}
	}
	m.ext = append(m.ext, member{string(name), raw})
}

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// scanMembers reads data as one JSON object, as json.Unmarshal into a
// map[string]json.RawMessage would. ok is false for anything it does not read
// exactly as encoding/json does; the values are slices of a copy of data.
func scanMembers(data []byte) (m members, ok bool) {
	if !utf8.Valid(data) {
		return m, false
	}
	data = bytes.Clone(data) // the event keeps slices of it
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return m, false
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return m, skipWS(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return m, false
		}
		end, escaped, ok := scanString(data, i)
		if !ok || escaped { // an escaped name is rare: encoding/json unescapes it
			return m, false
		}
		name := data[i+1 : end-1]
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return m, false
		}
		i = skipWS(data, i+1)
		start := i
		if i, ok = skipValue(data, i, 1); !ok {
			return m, false
		}
		m.set(name, data[start:i])
		i = skipWS(data, i)
		if i >= len(data) {
			return m, false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return m, skipWS(data, i+1) == len(data)
		default:
			return m, false
		}
	}
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(data []byte, i int) int {
	for i < len(data) && isWS(data[i]) {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value at data[i].
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, false
		}
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		i = skipWS(data, i+1)
		if i < len(data) && data[i] == close {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(data) || data[i] != '"' {
					return i, false
				}
				end, _, ok := scanString(data, i)
				if !ok {
					return i, false
				}
				i = skipWS(data, end)
				if i >= len(data) || data[i] != ':' {
					return i, false
				}
				i = skipWS(data, i+1)
			}
			var ok bool
			if i, ok = skipValue(data, i, depth+1); !ok {
				return i, false
			}
			i = skipWS(data, i)
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case ',':
				i = skipWS(data, i+1)
			case close:
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	default:
		return scanNumber(data, i)
	}
}

func literal(data []byte, i int, lit string) (int, bool) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// scanString returns the end (after the closing quote) of the string at data[i] and
// whether it has escapes.
func scanString(data []byte, i int) (end int, escaped, ok bool) {
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, escaped, true
		case c == '\\':
			escaped = true
			j++
			if j >= len(data) {
				return j, escaped, false
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-j < 5 || !isHex(data[j+1]) || !isHex(data[j+2]) || !isHex(data[j+3]) || !isHex(data[j+4]) {
					return j, escaped, false
				}
				j += 4
			default:
				return j, escaped, false
			}
		case c < 0x20:
			return j, escaped, false
		}
	}
	return len(data), escaped, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanNumber returns the end of the number at data[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(data, i)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// plainString returns the value of a JSON string without escapes.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}

// appendCompact appends the JSON value raw without insignificant whitespace, as
// json.Compact does; ok is false if raw is not exactly one valid JSON value.
func appendCompact(dst, raw []byte) ([]byte, bool) {
	i := skipWS(raw, 0)
	end, ok := skipValue(raw, i, 1)
	if !ok || skipWS(raw, end) != len(raw) {
		return dst, false
	}
	v := raw[i:end]
	start, inStr := 0, false
	for j := 0; j < len(v); j++ {
		switch c := v[j]; {
		case inStr && c == '\\':
			j++
		case c == '"':
			inStr = !inStr
		case !inStr && isWS(c):
			dst = append(dst, v[start:j]...)
			start = j + 1
		}
	}
	return append(dst, v[start:]...), true
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string with encoding/json's escaping: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
