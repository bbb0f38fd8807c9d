// Package rawjson reads and writes JSON text without decoding it into Go values:
// validation, the members of an object, compaction, string quoting and the canonical
// form, each byte for byte as encoding/json does it. Every reader reports ok=false for
// anything it does not handle exactly as encoding/json would (invalid JSON included),
// so that callers fall back to encoding/json, which then also gives the precise error.
package rawjson

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/bits"
	"slices"
	"sync"
	"unicode/utf16"
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
// value's JSON text. Spaced reports whether the value has whitespace between its
// tokens (the value is compact when it has not).
type Member struct {
	Name   []byte
	Value  []byte
	Spaced bool
}

// Object returns the members of the JSON object data, in order, as slices of data.
// ok is false if data is not a valid object, or if a member name has escapes or is
// not valid UTF-8 (encoding/json would rewrite it).
func Object(data []byte) (members []Member, ok bool) {
	return AppendObject(nil, data)
}

// AppendObject is Object appending the members to dst.
func AppendObject(dst []Member, data []byte) (members []Member, ok bool) {
	return appendMembers(dst, data, false)
}

// AppendMembers is AppendObject for data known to be one valid JSON object (a value
// that Object, Valid or AppendObject accepted): it does not validate the values again.
// ok is false if a member name has escapes or is not valid UTF-8.
func AppendMembers(dst []Member, data []byte) (members []Member, ok bool) {
	return appendMembers(dst, data, true)
}

func appendMembers(members []Member, data []byte, valid bool) ([]Member, bool) {
	var buf [32]Span
	spans, ok := appendSpans(buf[:0], data, valid)
	for _, sp := range spans {
		members = append(members, sp.Member(data))
	}
	return members, ok
}

// Span is where a member of an object is in the object's text data:
// data[NameStart:NameEnd] is its name as sent (without the quotes) and
// data[ValueStart:ValueEnd] its value. Spaced is as in Member. A Span holds no
// pointers.
type Span struct {
	NameStart, NameEnd, ValueStart, ValueEnd int32
	Spaced                                   bool
}

// Member returns the member that s locates in data.
func (s Span) Member(data []byte) Member {
	return Member{Name: data[s.NameStart:s.NameEnd], Value: data[s.ValueStart:s.ValueEnd], Spaced: s.Spaced}
}

// AppendObjectSpans is AppendObject giving where the members are in data. ok is also
// false for data of 2 GB or more.
func AppendObjectSpans(dst []Span, data []byte) ([]Span, bool) {
	return appendSpans(dst, data, false)
}

// AppendMemberSpans is AppendMembers giving where the members are in data.
func AppendMemberSpans(dst []Span, data []byte) ([]Span, bool) {
	return appendSpans(dst, data, true)
}

func appendSpans(spans []Span, data []byte, valid bool) ([]Span, bool) {
	if len(data) > math.MaxInt32 {
		return spans, false
	}
	i := Space(data, 0)
	if i >= len(data) || data[i] != '{' {
		return spans, false
	}
	i = Space(data, i+1)
	if i < len(data) && data[i] == '}' {
		return spans, Space(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return spans, false
		}
		end, escaped, ok := scanString(data, i)
		if !ok || escaped || !utf8.Valid(data[i+1:end-1]) {
			return spans, false
		}
		nameStart, nameEnd := i+1, end-1
		i = Space(data, end)
		if i >= len(data) || data[i] != ':' {
			return spans, false
		}
		i = Space(data, i+1)
		start := i
		var spaced bool
		if valid {
			i, spaced = skipValid(data, i)
		} else if i, ok = scanValue(data, i, 2, &spaced); !ok { // inside the object: one level down
			return spans, false
		}
		spans = append(spans, Span{int32(nameStart), int32(nameEnd), int32(start), int32(i), spaced})
		i = Space(data, i)
		if i >= len(data) {
			return spans, false
		}
		switch data[i] {
		case ',':
			i = Space(data, i+1)
		case '}':
			return spans, Space(data, i+1) == len(data)
		default:
			return spans, false
		}
	}
}

// AppendElements appends the elements of data, a valid JSON array (a value that
// Object, Valid or AppendObject accepted), to dst, as slices of data.
func AppendElements(dst [][]byte, data []byte) [][]byte {
	i := Space(data, 0)
	if i >= len(data) || data[i] != '[' {
		return dst
	}
	for i = Space(data, i+1); i < len(data) && data[i] != ']'; {
		end, _ := skipValid(data, i)
		if end <= i {
			break // not reached for a valid array
		}
		dst = append(dst, data[i:end])
		if i = Space(data, end); i < len(data) && data[i] == ',' {
			i = Space(data, i+1)
		}
	}
	return dst
}

// skipValid returns the end of the valid JSON value at v[i], and whether it has
// whitespace between its tokens.
func skipValid(v []byte, i int) (end int, spaced bool) {
	if i >= len(v) {
		return i, false
	}
	switch v[i] {
	case '"':
		return stringEnd(v, i), false
	case '{', '[':
		depth := 0
		for j := i; j < len(v); j++ {
			j = structural(v, j, !spaced)
			if j >= len(v) {
				break
			}
			switch v[j] {
			case '"':
				j = stringEnd(v, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, spaced
				}
			case ' ', '\t', '\n', '\r':
				spaced = true
			}
		}
		return len(v), spaced
	}
	j := i + 1 // a number or a literal
	for j < len(v) && v[j] != ',' && v[j] != '}' && v[j] != ']' && !isSpace(v[j]) {
		j++
	}
	return j, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Space returns the index of the first byte at or after i that is not JSON whitespace.
func Space(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
		for len(data)-i >= 8 && binary.LittleEndian.Uint64(data[i:]) == lsb*' ' { // indentation
			i += 8
		}
	}
	return i
}

// Value returns the end of the JSON value that starts at data[i].
func Value(data []byte, i int) (end int, ok bool) { return value(data, i, 1) }

func value(data []byte, i, depth int) (int, bool) {
	var spaced bool
	return scanValue(data, i, depth, &spaced)
}

// space is Space that also records whether it skipped any whitespace.
func space(data []byte, i int, spaced *bool) int {
	if i < len(data) && isSpace(data[i]) {
		*spaced = true
		return Space(data, i+1)
	}
	return i
}

// scanValue is value that sets *spaced if the value has whitespace between its tokens.
func scanValue(data []byte, i, depth int, spaced *bool) (int, bool) {
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
		i = space(data, i+1, spaced)
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
				i = space(data, end, spaced)
				if i >= len(data) || data[i] != ':' {
					return i, false
				}
				i = space(data, i+1, spaced)
			}
			var ok bool
			if i, ok = scanValue(data, i, depth+1, spaced); !ok {
				return i, false
			}
			i = space(data, i, spaced)
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case ',':
				i = space(data, i+1, spaced)
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
		j = plainRun(data, j)
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

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainRun returns the index of the first byte at or after j that a JSON string does
// not hold as it is (a quote, a backslash or a control character), or len(data). It
// tests eight bytes at a time: a byte is flagged when it is below 0x20 or, xored with
// '"' or '\\', zero; the lowest flag is always a true one.
func plainRun(data []byte, j int) int {
	for len(data)-j >= 8 {
		x := binary.LittleEndian.Uint64(data[j:])
		q, b := x^(lsb*'"'), x^(lsb*'\\')
		if m := ((x - lsb*0x20) | (q - lsb) | (b - lsb)) &^ x & msb; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for j < len(data) && plain[data[j]] {
		j++
	}
	return j
}

// quoteRun is plainRun for the text of a valid string: the first quote or backslash.
func quoteRun(data []byte, j int) int {
	for len(data)-j >= 8 {
		x := binary.LittleEndian.Uint64(data[j:])
		q, b := x^(lsb*'"'), x^(lsb*'\\')
		if m := ((q - lsb) | (b - lsb)) &^ x & msb; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for j < len(data) && data[j] != '"' && data[j] != '\\' {
		j++
	}
	return j
}

// structural returns the index of the first quote or bracket at or after j in valid
// JSON, or len(v); with space, of the first whitespace too. It tests eight bytes at a
// time as plainRun does ('[' and ']' are '{' and '}' with 0x20 cleared).
func structural(v []byte, j int, space bool) int {
	for len(v)-j >= 8 {
		x := binary.LittleEndian.Uint64(v[j:])
		y := x | lsb*0x20
		m := ((x ^ (lsb * '"')) - lsb) | ((y ^ (lsb * '{')) - lsb) | ((y ^ (lsb * '}')) - lsb)
		if space {
			m |= x - lsb*0x21 // whitespace (valid JSON has no other bytes below 0x21 here)
		}
		if m = m &^ x & msb; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for ; j < len(v); j++ {
		switch v[j] {
		case '"', '{', '}', '[', ']':
			return j
		case ' ', '\t', '\n', '\r':
			if space {
				return j
			}
		}
	}
	return j
}

// stringEnd returns the end (after the closing quote) of the valid string at v[i].
func stringEnd(v []byte, i int) int {
	j := i + 1
	for {
		j = quoteRun(v, j)
		if j >= len(v) {
			return len(v)
		}
		if v[j] == '"' {
			return j + 1
		}
		j += 2 // an escape: the escaped byte is not the closing quote
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
	var buf [128]byte
	if t, ok := AppendUnquote(buf[:0], raw); ok {
		return string(t), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// AppendUnquote appends the text of the JSON string raw as json.Unmarshal into a
// string reads it: escapes decoded, and invalid UTF-8 and lone surrogates replaced by
// U+FFFD. ok is false if raw is not one valid JSON string.
func AppendUnquote(dst, raw []byte) ([]byte, bool) {
	if end, _, ok := scanString(raw, 0); !ok || len(raw) == 0 || raw[0] != '"' || end != len(raw) {
		return dst, false
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '\\' && s[j] < utf8.RuneSelf {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i >= len(s) {
			break
		}
		if c := s[i]; c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		// An escape; scanString has checked its form.
		switch c := s[i+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(s[i+2:])); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		i += 2
	}
	return dst, true
}

// hex4 is the value of the four hex digits at the start of s.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// AppendCompact appends the JSON value raw without insignificant whitespace, as
// json.Compact does; ok is false if raw is not exactly one valid JSON value.
func AppendCompact(dst, raw []byte) ([]byte, bool) {
	i := Space(raw, 0)
	var spaced bool
	end, ok := scanValue(raw, i, 1, &spaced)
	if !ok || Space(raw, end) != len(raw) {
		return dst, false
	}
	if !spaced {
		return append(dst, raw[i:end]...), true
	}
	return AppendCompactValid(dst, raw[i:end]), true
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as json.Marshal escapes it: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func AppendString[S string | []byte](dst []byte, s S) []byte {
	dst, _ = appendString(dst, s, false)
	return dst
}

// appendString is AppendString; strict declines (ok=false) invalid UTF-8 instead.
func appendString[S string | []byte](dst []byte, s S, strict bool) ([]byte, bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		i = safeRun(s, i)
		if i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
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
			if strict {
				return dst, false
			}
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
	return append(dst, '"'), true
}

// safeRun returns the index of the first byte at or after i that AppendString does not
// copy as it is (a control character, '"', '\\', '<', '>', '&' or a byte of a
// multi-byte character), or len(s), testing eight bytes at a time as plainRun does.
func safeRun[S string | []byte](s S, i int) int {
	for len(s)-i >= 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		m := (x - lsb*0x20) | ((x ^ (lsb * '"')) - lsb) | ((x ^ (lsb * '\\')) - lsb) |
			((x ^ (lsb * '<')) - lsb) | ((x ^ (lsb * '>')) - lsb) | ((x ^ (lsb * '&')) - lsb)
		if m = (m&^x | x) & msb; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(s) && htmlSafe[s[i]] {
		i++
	}
	return i
}

// htmlSafe marks the bytes AppendString copies as they are.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

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
	c := canonPool.Get().(*canon)
	dst, _, ok = c.value(dst, raw, i)
	if cap(c.tmp) <= 64<<10 && cap(c.members) <= 4096 && cap(c.names) <= 64<<10 {
		c.tmp, c.members, c.names = c.tmp[:0], c.members[:0], c.names[:0]
		canonPool.Put(c)
	}
	return dst, ok
}

// canon holds the scratch space of AppendCanonical: the members of the objects being
// written and their names (stacks, each object's above its parent's), and the copy an
// object's values are reordered from. None of it holds pointers, so that filling and
// sorting it costs no write barriers.
type canon struct {
	members []canonMember
	names   []byte
	tmp     []byte
	byName  []int32 // indexes of an object's members, by name
}

// canonMember is a member of an object being written: where its name (unescaped) is in
// canon.names, and where its text is, from the start of the object's first member.
type canonMember struct {
	key        uint64 // the name's first eight bytes, for comparing names quickly
	ns, ne     int    // of the name in canon.names
	start, end int
}

// sortKey is the first eight bytes of name as a big-endian number, zero-padded: names
// in byte order have keys in order, and differ if their keys do.
func sortKey(name []byte) uint64 {
	if len(name) >= 8 {
		return binary.BigEndian.Uint64(name)
	}
	var k uint64
	for i, c := range name {
		k |= uint64(c) << (56 - 8*i)
	}
	return k
}

func (c *canon) name(m canonMember) []byte { return c.names[m.ns:m.ne] }

// less reports whether m's name is before n's.
func (c *canon) less(m, n canonMember) bool {
	if m.key != n.key {
		return m.key < n.key
	}
	return string(c.name(m)) < string(c.name(n))
}

var canonPool = sync.Pool{New: func() any { return new(canon) }}

// sortMembers sets c.byName to the indexes of members sorted by the members' names,
// stably (the last of a repeated name stays last).
func (c *canon) sortMembers(ms []canonMember) {
	order := c.byName[:0]
	for k := range ms {
		order = append(order, int32(k))
	}
	if len(ms) > 48 {
		slices.SortStableFunc(order, func(a, b int32) int {
			if ms[a].key != ms[b].key {
				return cmp.Compare(ms[a].key, ms[b].key)
			}
			return bytes.Compare(c.name(ms[a]), c.name(ms[b]))
		})
	} else {
		for k := 1; k < len(order); k++ {
			x, j := order[k], k
			for ; j > 0 && c.less(ms[x], ms[order[j-1]]); j-- {
				order[j] = order[j-1]
			}
			order[j] = x
		}
	}
	c.byName = order
}

// member writes the member name (unescaped) with the canonical form of the valid JSON
// value at v[i] into the object that starts at dst[base-1], whose members start at
// c.members[bottom], and returns the value's end.
func (c *canon) member(dst []byte, base, bottom int, name, v []byte, i int) ([]byte, int, bool) {
	if len(c.members) > bottom {
		dst = append(dst, ',')
	}
	start := len(dst) - base
	dst = AppendString(dst, name)
	dst = append(dst, ':')
	ns := len(c.names)
	c.names = append(c.names, name...)
	ne := len(c.names)
	var ok bool
	if dst, i, ok = c.value(dst, v, i); !ok {
		return dst, i, false
	}
	c.members = append(c.members, canonMember{sortKey(name), ns, ne, start, len(dst) - base})
	return dst, i, true
}

// order finishes the object that starts at dst[base-1], whose members start at
// c.members[bottom]: it puts the members in name order, the last of a repeated name
// kept, and closes it.
func (c *canon) order(dst []byte, base, bottom int) []byte {
	members := c.members[bottom:]
	c.members = c.members[:bottom]
	if len(members) == 0 {
		return append(dst, '}')
	}
	defer func(ns int) { c.names = c.names[:ns] }(members[0].ns)
	inOrder := true
	for k := 1; k < len(members) && inOrder; k++ {
		inOrder = c.less(members[k-1], members[k])
	}
	if !inOrder {
		c.sortMembers(members)
		c.tmp = append(c.tmp[:0], dst[base:]...)
		dst = dst[:base]
		for k, x := range c.byName {
			m := members[x]
			if k+1 < len(c.byName) && bytes.Equal(c.name(members[c.byName[k+1]]), c.name(m)) {
				continue // a later value of the same name replaces it
			}
			if len(dst) > base {
				dst = append(dst, ',')
			}
			dst = append(dst, c.tmp[m.start:m.end]...)
		}
	}
	return append(dst, '}')
}

// AppendCanonicalObject appends the canonical form of the object of members, as
// AppendCanonical writes it: each Name is unescaped text and each Value valid JSON (as
// AppendObject and AppendMembers give them). ok is false in the cases where
// AppendCanonical declines the object.
func AppendCanonicalObject(dst []byte, members []Member) ([]byte, bool) {
	c := canonPool.Get().(*canon)
	base := len(dst) + 1
	dst = append(dst, '{')
	ok := true
	for _, m := range members {
		if dst, _, ok = c.member(dst, base, 0, m.Name, m.Value, Space(m.Value, 0)); !ok {
			break
		}
	}
	if ok {
		dst = c.order(dst, base, 0)
	}
	if cap(c.tmp) <= 64<<10 && cap(c.members) <= 4096 && cap(c.names) <= 64<<10 {
		c.tmp, c.members, c.names = c.tmp[:0], c.members[:0], c.names[:0]
		canonPool.Put(c)
	}
	return dst, ok
}

// value writes the canonical form of the valid JSON value at v[i] and returns its end.
func (c *canon) value(dst, v []byte, i int) ([]byte, int, bool) {
	switch v[i] {
	case '"':
		if j := safeRun(v, i+1); j < len(v) && v[j] == '"' { // written as it is
			return append(dst, v[i:j+1]...), j + 1, true
		}
		if j := quoteRun(v, i+1); j < len(v) && v[j] == '"' { // no escapes
			if d, ok := appendString(dst, v[i+1:j], true); ok {
				return d, j + 1, true
			}
			// Invalid UTF-8: String below replaces it as encoding/json does.
		}
		end, _, _ := scanString(v, i)
		var buf [128]byte
		t, ok := AppendUnquote(buf[:0], v[i:end])
		if !ok {
			return dst, end, false
		}
		return AppendString(dst, t), end, true
	case '{':
		// The members are written in the order sent, then, unless the names were sent
		// in order and once each, rewritten in name order from a copy. A map keeps the
		// last of a repeated name.
		bottom := len(c.members)
		base := len(dst) + 1
		dst = append(dst, '{')
		i = Space(v, i+1)
		for v[i] != '}' {
			end, escaped, _ := scanString(v, i)
			name := v[i+1 : end-1]
			if escaped || !utf8.Valid(name) {
				s, ok := String(v[i:end])
				if !ok {
					c.members = c.members[:bottom]
					return dst, i, false
				}
				name = []byte(s)
			}
			i = Space(v, Space(v, end)+1) // past ':'
			var ok bool
			if dst, i, ok = c.member(dst, base, bottom, name, v, i); !ok {
				c.members = c.members[:bottom]
				return dst, i, false
			}
			i = Space(v, i)
			if v[i] == ',' {
				i = Space(v, i+1)
			}
		}
		return c.order(dst, base, bottom), i + 1, true
	case '[':
		dst = append(dst, '[')
		i = Space(v, i+1)
		for n := 0; v[i] != ']'; n++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, i, ok = c.value(dst, v, i); !ok {
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
	// out has room for all of v and eight bytes more, so that strings can be copied a
	// word at a time: a word may run past the string, and what follows overwrites it.
	out := slices.Grow(dst, len(v)+8)
	out = out[:cap(out)]
	n := len(dst)
	for j := 0; j < len(v); {
		c := v[j]
		switch {
		case c == '"':
			out[n] = '"'
			n, j = n+1, j+1
			for j < len(v) {
				if len(v)-j >= 8 {
					x := binary.LittleEndian.Uint64(v[j:])
					binary.LittleEndian.PutUint64(out[n:], x)
					m := (((x ^ (lsb * '"')) - lsb) | ((x ^ (lsb * '\\')) - lsb)) &^ x & msb
					if m == 0 {
						n, j = n+8, j+8
						continue
					}
					k := bits.TrailingZeros64(m) >> 3
					n, j = n+k, j+k
				} else {
					for j < len(v) && v[j] != '"' && v[j] != '\\' {
						out[n] = v[j]
						n, j = n+1, j+1
					}
					if j >= len(v) {
						break
					}
				}
				if v[j] == '"' {
					out[n] = '"'
					n, j = n+1, j+1
					break
				}
				out[n] = '\\' // an escape: its second byte is not the closing quote
				n, j = n+1, j+1
				if j < len(v) {
					out[n] = v[j]
					n, j = n+1, j+1
				}
			}
		case isSpace(c):
			for j++; j < len(v) && isSpace(v[j]); {
				j++
				for len(v)-j >= 8 && binary.LittleEndian.Uint64(v[j:]) == lsb*' ' { // indentation
					j += 8
				}
			}
		default:
			out[n] = c
			n, j = n+1, j+1
		}
	}
	return out[:n]
}

// quoteOrSpace returns the index of the first quote or whitespace at or after j outside
// the strings of valid JSON (where no other byte is below 0x21), or len(v).
func quoteOrSpace(v []byte, j int) int {
	for len(v)-j >= 8 {
		x := binary.LittleEndian.Uint64(v[j:])
		if m := (((x ^ (lsb * '"')) - lsb) | (x - lsb*0x21)) &^ x & msb; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for j < len(v) && v[j] != '"' && !isSpace(v[j]) {
		j++
	}
	return j
}
