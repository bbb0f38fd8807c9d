package pattern

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the JSON type of a parsed node.
type kind uint8

const (
	kNull kind = iota + 1
	kFalse
	kTrue
	kNum
	kStr
	kArr
	kObj
)

// maxDepth bounds the nesting of JSON documents (events and patterns) so a
// hostile document cannot exhaust the stack.
const maxDepth = 2000

// node is one JSON value in a flattened tree. Children of arrays and objects
// are listed in doc.kids[kids : kids+n]; an object child carries its key.
type node struct {
	kind kind
	// numFlags describes the fixed-point form of a number (see number.go).
	numFlags uint8
	n        int32
	kids     int32
	// key is the (unescaped) member name when the parent is an object.
	key []byte
	// val is the unescaped string (kStr) or the literal text (kNum).
	val []byte
	// micro is the number scaled by 1e6 and rounded towards -Inf (kNum).
	micro int64
}

// doc is a parsed JSON document. It is reused across parses (via a pool) to
// avoid allocations: strings without escapes point into the input.
type doc struct {
	nodes []node
	kids  []int32
	stack []int32
	buf   []byte
}

func (d *doc) reset() {
	d.nodes = d.nodes[:0]
	d.kids = d.kids[:0]
	d.stack = d.stack[:0]
	d.buf = d.buf[:0]
}

// children returns the child node indices of node i.
func (d *doc) children(i int32) []int32 {
	n := &d.nodes[i]
	return d.kids[n.kids : n.kids+n.n]
}

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.off, e.msg)
}

var errTooDeep = errors.New("JSON nesting too deep")

// parse parses data as exactly one JSON value (surrounding whitespace allowed)
// and returns the index of the root node.
func (d *doc) parse(data []byte) (int32, error) {
	d.reset()
	i := skipWS(data, 0)
	root, i, err := d.value(data, i, 0)
	if err != nil {
		return -1, err
	}
	i = skipWS(data, i)
	if i != len(data) {
		return -1, &syntaxError{i, "unexpected data after top-level value"}
	}
	return root, nil
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (d *doc) add(k kind) int32 {
	d.nodes = append(d.nodes, node{kind: k})
	return int32(len(d.nodes) - 1)
}

func (d *doc) value(data []byte, i int, depth int) (int32, int, error) {
	if i >= len(data) {
		return -1, i, &syntaxError{i, "unexpected end of input"}
	}
	switch c := data[i]; c {
	case '{':
		return d.object(data, i, depth)
	case '[':
		return d.array(data, i, depth)
	case '"':
		s, j, err := d.str(data, i)
		if err != nil {
			return -1, j, err
		}
		idx := d.add(kStr)
		d.nodes[idx].val = s
		return idx, j, nil
	case 't':
		if hasLit(data, i, "true") {
			return d.add(kTrue), i + 4, nil
		}
	case 'f':
		if hasLit(data, i, "false") {
			return d.add(kFalse), i + 5, nil
		}
	case 'n':
		if hasLit(data, i, "null") {
			return d.add(kNull), i + 4, nil
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			j, err := scanNumber(data, i)
			if err != nil {
				return -1, j, err
			}
			idx := d.add(kNum)
			nd := &d.nodes[idx]
			nd.val = data[i:j]
			nd.micro, nd.numFlags = parseFixed(nd.val)
			return idx, j, nil
		}
	}
	return -1, i, &syntaxError{i, fmt.Sprintf("unexpected character %q", data[i])}
}

func hasLit(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

func (d *doc) object(data []byte, i int, depth int) (int32, int, error) {
	if depth >= maxDepth {
		return -1, i, errTooDeep
	}
	idx := d.add(kObj)
	base := len(d.stack)
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		d.finish(idx, base)
		return idx, i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return -1, i, &syntaxError{i, "expected object key"}
		}
		key, j, err := d.str(data, i)
		if err != nil {
			return -1, j, err
		}
		i = skipWS(data, j)
		if i >= len(data) || data[i] != ':' {
			return -1, i, &syntaxError{i, "expected ':' after object key"}
		}
		i = skipWS(data, i+1)
		child, j, err := d.value(data, i, depth+1)
		if err != nil {
			return -1, j, err
		}
		d.nodes[child].key = key
		d.stack = append(d.stack, child)
		i = skipWS(data, j)
		if i >= len(data) {
			return -1, i, &syntaxError{i, "unexpected end of input in object"}
		}
		if data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if data[i] == '}' {
			d.finish(idx, base)
			return idx, i + 1, nil
		}
		return -1, i, &syntaxError{i, "expected ',' or '}' in object"}
	}
}

func (d *doc) array(data []byte, i int, depth int) (int32, int, error) {
	if depth >= maxDepth {
		return -1, i, errTooDeep
	}
	idx := d.add(kArr)
	base := len(d.stack)
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		d.finish(idx, base)
		return idx, i + 1, nil
	}
	for {
		child, j, err := d.value(data, i, depth+1)
		if err != nil {
			return -1, j, err
		}
		d.stack = append(d.stack, child)
		i = skipWS(data, j)
		if i >= len(data) {
			return -1, i, &syntaxError{i, "unexpected end of input in array"}
		}
		if data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if data[i] == ']' {
			d.finish(idx, base)
			return idx, i + 1, nil
		}
		return -1, i, &syntaxError{i, "expected ',' or ']' in array"}
	}
}

// finish moves the children collected on the stack since base into kids.
func (d *doc) finish(idx int32, base int) {
	nd := &d.nodes[idx]
	nd.kids = int32(len(d.kids))
	nd.n = int32(len(d.stack) - base)
	d.kids = append(d.kids, d.stack[base:]...)
	d.stack = d.stack[:base]
}

// str scans the string starting at data[i] == '"' and returns its unescaped
// bytes. Strings without escapes are returned as a sub-slice of data.
func (d *doc) str(data []byte, i int) ([]byte, int, error) {
	start := i + 1
	j := start
	nonASCII := false
	// Skip 8 bytes at a time while none is '"', '\\', a control character
	// or non-ASCII.
	for j+8 <= len(data) {
		w := binary.LittleEndian.Uint64(data[j:])
		if hasSpecial(w) {
			break
		}
		j += 8
	}
	for j < len(data) {
		c := data[j]
		if c == '"' {
			s := data[start:j]
			if nonASCII && !utf8.Valid(s) {
				return nil, start, &syntaxError{start, "invalid UTF-8 in string"}
			}
			return s, j + 1, nil
		}
		if c == '\\' {
			return d.strEscaped(data, start, j)
		}
		if c < 0x20 {
			return nil, j, &syntaxError{j, "control character in string"}
		}
		if c >= utf8.RuneSelf {
			nonASCII = true
		}
		j++
	}
	return nil, j, &syntaxError{j, "unterminated string"}
}

// strEscaped decodes a string that contains escapes into d.buf. j is the
// offset of the first backslash.
func (d *doc) strEscaped(data []byte, start, j int) ([]byte, int, error) {
	bstart := len(d.buf)
	d.buf = append(d.buf, data[start:j]...)
	segStart := start
	for j < len(data) {
		c := data[j]
		switch {
		case c == '"':
			// validate UTF-8 of the raw text (escapes are ASCII).
			if !utf8.Valid(data[segStart:j]) {
				return nil, start, &syntaxError{start, "invalid UTF-8 in string"}
			}
			return d.buf[bstart:len(d.buf):len(d.buf)], j + 1, nil
		case c == '\\':
			if j+1 >= len(data) {
				return nil, j, &syntaxError{j, "unterminated string"}
			}
			e := data[j+1]
			switch e {
			case '"', '\\', '/':
				d.buf = append(d.buf, e)
				j += 2
			case 'b':
				d.buf = append(d.buf, '\b')
				j += 2
			case 'f':
				d.buf = append(d.buf, '\f')
				j += 2
			case 'n':
				d.buf = append(d.buf, '\n')
				j += 2
			case 'r':
				d.buf = append(d.buf, '\r')
				j += 2
			case 't':
				d.buf = append(d.buf, '\t')
				j += 2
			case 'u':
				r, ok := hex4(data, j+2)
				if !ok {
					return nil, j, &syntaxError{j, "invalid \\u escape"}
				}
				j += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if j+1 < len(data) && data[j] == '\\' && data[j+1] == 'u' {
						if v, ok := hex4(data, j+2); ok {
							r2 = v
						}
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						j += 6
					} else {
						r = utf8.RuneError
					}
				}
				d.buf = utf8.AppendRune(d.buf, r)
			default:
				return nil, j, &syntaxError{j, fmt.Sprintf("invalid escape %q", e)}
			}
		case c < 0x20:
			return nil, j, &syntaxError{j, "control character in string"}
		default:
			d.buf = append(d.buf, c)
			j++
		}
	}
	return nil, j, &syntaxError{j, "unterminated string"}
}

func hex4(data []byte, i int) (rune, bool) {
	if len(data)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
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

// scanNumber validates the JSON number starting at data[i] and returns the
// offset just past it.
func scanNumber(data []byte, i int) (int, error) {
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	if j >= len(data) {
		return j, &syntaxError{j, "invalid number"}
	}
	if data[j] == '0' {
		j++
	} else if data[j] >= '1' && data[j] <= '9' {
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
	} else {
		return j, &syntaxError{j, "invalid number"}
	}
	if j < len(data) && data[j] == '.' {
		j++
		k := j
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		if j == k {
			return j, &syntaxError{j, "invalid number: no digits after decimal point"}
		}
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		j++
		if j < len(data) && (data[j] == '+' || data[j] == '-') {
			j++
		}
		k := j
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		if j == k {
			return j, &syntaxError{j, "invalid number: no digits in exponent"}
		}
	}
	return j, nil
}

// appendCanon appends a canonical serialization of node i (compact, keys in
// document order, strings quoted by strconv) used to recognise identical
// pattern leaves.
func appendCanon(dst []byte, d *doc, i int32) []byte {
	nd := &d.nodes[i]
	switch nd.kind {
	case kNull:
		return append(dst, "null"...)
	case kTrue:
		return append(dst, "true"...)
	case kFalse:
		return append(dst, "false"...)
	case kNum:
		return append(dst, nd.val...)
	case kStr:
		return strconv.AppendQuote(dst, string(nd.val))
	case kArr, kObj:
		open, close := byte('['), byte(']')
		if nd.kind == kObj {
			open, close = '{', '}'
		}
		dst = append(dst, open)
		for j, k := range d.children(i) {
			if j > 0 {
				dst = append(dst, ',')
			}
			if nd.kind == kObj {
				dst = strconv.AppendQuote(dst, string(d.nodes[k].key))
				dst = append(dst, ':')
			}
			dst = appendCanon(dst, d, k)
		}
		return append(dst, close)
	}
	return dst
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasSpecial reports whether any byte of w is '"', '\\', < 0x20 or >= 0x80.
func hasSpecial(w uint64) bool {
	quote := w ^ (lsb * '"')
	bslash := w ^ (lsb * '\\')
	// a byte b is zero iff (b - 1) & ^b has its top bit set (exact when no
	// byte has the top bit set, which the msb test below covers).
	zq := (quote - lsb) &^ quote
	zb := (bslash - lsb) &^ bslash
	ctl := (w - lsb*0x20) &^ w // top bit set for bytes < 0x20
	return (zq|zb|ctl|w)&msb != 0
}
