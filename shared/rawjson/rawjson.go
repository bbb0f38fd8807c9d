// Package rawjson reads and writes JSON text without decoding it into Go values:
// validation, the members of an object, compaction, string quoting and the canonical
// form, each byte for byte as encoding/json does it. Every reader reports ok=false for
// anything it does not handle exactly as encoding/json would (invalid JSON included),
// so that callers fall back to encoding/json, which then also gives the precise error.
package rawjson

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// MaxDepth is encoding/json's limit on nesting.
const MaxDepth = 10000

// Valid reports whether data is exactly one JSON value (surrounding whitespace
// allowed) that encoding/json accepts. It does not check UTF-8 (encoding/json does
// not either).
func Valid(data []byte) bool {
	end, ok := Value(data, Space(data, 0))
	return ok && Space(data, end) == len(data)
}

// Member is one member of an object: its name as sent (without the quotes) and its
// value's JSON text.
type Member struct {
	Name  []byte
	Value []byte
}

// Object returns the members of the JSON object data, in order, as slices of data.
// ok is false if data is not a valid object, or if a member name has escapes or is
// not valid UTF-8 (encoding/json would rewrite it).
func Object(data []byte) (members []Member, ok bool) {
	i := Space(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = Space(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, Space(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		end, escaped, ok := scanString(data, i)
		if !ok || escaped || !utf8.Valid(data[i+1:end-1]) {
			return nil, false
		}
		name := data[i+1 : end-1]
		i = Space(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = Space(data, i+1)
		start := i
		if i, ok = value(data, i, 2); !ok { // inside the object: one level down
			return nil, false
		}
		members = append(members, Member{Name: name, Value: data[start:i]})
		i = Space(data, i)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = Space(data, i+1)
		case '}':
			return members, Space(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Space returns the index of the first byte at or after i that is not JSON whitespace.
func Space(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// Value returns the end of the JSON value that starts at data[i].
func Value(data []byte, i int) (end int, ok bool) { return value(data, i, 1) }

func value(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case c == '{' || c == '[':
		if depth > MaxDepth {
			return i, false
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = Space(data, i+1)
		if i < len(data) && data[i] == closing {
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
				i = Space(data, end)
				if i >= len(data) || data[i] != ':' {
					return i, false
				}
				i = Space(data, i+1)
			}
			var ok bool
			if i, ok = value(data, i, depth+1); !ok {
				return i, false
			}
			i = Space(data, i)
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case ',':
				i = Space(data, i+1)
			case closing:
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
		return number(data, i)
	}
}

func literal(data []byte, i int, lit string) (int, bool) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// plain marks the bytes a JSON string holds as they are: not a quote, a backslash or
// a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString returns the end (after the closing quote) of the string at data[i] and
// whether it has escapes.
func scanString(data []byte, i int) (end int, escaped, ok bool) {
	j := i + 1
	for {
		for j < len(data) && plain[data[j]] {
			j++
		}
		if j >= len(data) {
			return len(data), escaped, false
		}
		switch data[j] {
		case '"':
			return j + 1, escaped, true
		case '\\':
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
			j++
		default: // a control character
			return j, escaped, false
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number returns the end of the number at data[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(data []byte, i int) (int, bool) {
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

// PlainString returns the value of the JSON string raw when it has no escapes and is
// valid UTF-8: what json.Unmarshal into a string gives, without it.
func PlainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}

// String returns the value of the valid JSON string raw.
func String(raw []byte) (string, bool) {
	if s, ok := PlainString(raw); ok {
		return s, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// AppendCompact appends the JSON value raw without insignificant whitespace, as
// json.Compact does; ok is false if raw is not exactly one valid JSON value.
func AppendCompact(dst, raw []byte) ([]byte, bool) {
	i := Space(raw, 0)
	end, ok := value(raw, i, 1)
	if !ok || Space(raw, end) != len(raw) {
		return dst, false
	}
	return AppendCompactValid(dst, raw[i:end]), true
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as json.Marshal escapes it: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func AppendString[S string | []byte](dst []byte, s S) []byte {
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
		// As encoding/json does: a short conversion that stays on the stack.
		c, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
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

// AppendCanonical appends the canonical form of the JSON value raw: what json.Marshal
// writes for the value json.Decoder with UseNumber reads from it (object members sorted
// by name, the last of a repeated name kept, strings re-escaped, numbers as sent,
// no whitespace). ok is false if raw is not exactly one valid JSON value.
func AppendCanonical(dst, raw []byte) ([]byte, bool) {
	i := Space(raw, 0)
	end, ok := value(raw, i, 1)
	if !ok || Space(raw, end) != len(raw) {
		return dst, false
	}
	dst, _, ok = canonical(dst, raw, i)
	return dst, ok
}

// canonical writes the valid JSON value at v[i] and returns its end.
func canonical(dst, v []byte, i int) ([]byte, int, bool) {
	switch v[i] {
	case '"':
		end, _, _ := scanString(v, i)
		s, ok := String(v[i:end])
		if !ok {
			return dst, end, false
		}
		return AppendString(dst, s), end, true
	case '{':
		// The members' canonical values are written after base, then the object is
		// rewritten there in name order. A map keeps the last of a repeated name.
		type member struct {
			name       []byte // unescaped
			start, end int    // of the value's canonical text, from base
		}
		var buf [16]member
		members := buf[:0]
		base := len(dst)
		i = Space(v, i+1)
		for v[i] != '}' {
			end, escaped, _ := scanString(v, i)
			name := v[i+1 : end-1]
			if escaped || !utf8.Valid(name) {
				s, ok := String(v[i:end])
				if !ok {
					return dst, i, false
				}
				name = []byte(s)
			}
			i = Space(v, Space(v, end)+1) // past ':'
			start := len(dst) - base
			var ok bool
			if dst, i, ok = canonical(dst, v, i); !ok {
				return dst, i, false
			}
			m := member{name, start, len(dst) - base}
			if k := slices.IndexFunc(members, func(x member) bool { return bytes.Equal(x.name, name) }); k >= 0 {
				members[k] = m
			} else {
				members = append(members, m)
			}
			i = Space(v, i)
			if v[i] == ',' {
				i = Space(v, i+1)
			}
		}
		slices.SortFunc(members, func(a, b member) int { return bytes.Compare(a.name, b.name) })
		vals := append([]byte(nil), dst[base:]...)
		dst = append(dst[:base], '{')
		for k, m := range members {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, m.name)
			dst = append(dst, ':')
			dst = append(dst, vals[m.start:m.end]...)
		}
		return append(dst, '}'), i + 1, true
	case '[':
		dst = append(dst, '[')
		i = Space(v, i+1)
		for n := 0; v[i] != ']'; n++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, i, ok = canonical(dst, v, i); !ok {
				return dst, i, false
			}
			i = Space(v, i)
			if v[i] == ',' {
				i = Space(v, i+1)
			}
		}
		return append(dst, ']'), i + 1, true
	}
	end, _ := value(v, i, 1) // a number or a literal, as sent
	return append(dst, v[i:end]...), end, true
}

// AppendCompactValid is AppendCompact for a value known to be valid JSON (a member of
// an object that Object or Valid accepted): it only drops the whitespace.
func AppendCompactValid(dst, v []byte) []byte {
	start, inString := 0, false
	for j := 0; j < len(v); j++ {
		switch c := v[j]; {
		case inString && c == '\\':
			j++
		case c == '"':
			inString = !inString
		case !inString && isSpace(c):
			dst = append(dst, v[start:j]...)
			start = j + 1
		}
	}
	return append(dst, v[start:]...)
}
