package jsonobject

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// canon writes the form ContentID hashes, reading the value with a jsontext decoder:
// scalars as jsontext writes them under the quoting options (numbers as sent), each
// object's members sorted by their names' UTF-8 bytes, as encoding/json sorts map
// keys. It holds the scratch space of the objects being written: their members and
// names (stacks, each object's above its parent's), and the copy an object's members
// are reordered from. None of it holds pointers, so sorting costs no write barriers.
//
// jsontext.AppendFormat with ReorderRawObjects writes the same text but for the order
// of names that mix characters from U+E000 to U+FFFF with ones above U+FFFF (it sorts
// by UTF-16 code units, RFC 8785). It is also slower in normalize, where the garbage
// collector runs: it re-reads its output to reorder it, and sorts slices (write
// barriers), and checks names for duplicates with a set; BenchmarkContentID compares.
type canon struct {
	r       *reader
	raw     []byte
	members []canonMember
	names   []byte
	tmp     []byte
}

// canonMember is a member of an object being written: where its name (unescaped) is
// in canon.names, and where its text is, from the start of the object's first member.
type canonMember struct {
	key        uint64 // the name's first eight bytes, for comparing names quickly
	ns, ne     int32
	start, end int32
}

var canons = sync.Pool{New: func() any { return new(canon) }}

// errRepeated stops appendCanonical at a name repeated in an object.
var errRepeated = errors.New("repeated name")

// appendCanonical appends the form ContentID hashes of the JSON value raw; ok is false
// for anything but one valid JSON value whose objects name no member twice.
func appendCanonical(dst, raw []byte) (_ []byte, ok bool) {
	c := canons.Get().(*canon)
	c.r, c.raw = getReader(raw, allowDuplicates), raw // order finds them, cheaper than a set
	defer func() {
		c.r.put()
		c.r, c.raw = nil, nil
		if cap(c.tmp) <= 64<<10 && cap(c.members) <= 4096 && cap(c.names) <= 64<<10 {
			c.tmp, c.members, c.names = c.tmp[:0], c.members[:0], c.names[:0]
			canons.Put(c)
		}
	}()
	dst, err := c.value(dst)
	if err == nil {
		_, err = c.r.dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return dst, true
		}
	}
	return dst, false
}

func (c *canon) value(dst []byte) ([]byte, error) {
	dec := &c.r.dec
	switch dec.PeekKind() {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return dst, err
		}
		return c.object(dst)
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for n := 0; dec.PeekKind() != ']'; n++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = c.value(dst); err != nil {
				return dst, err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return dst, err
		}
		return append(dst, ']'), nil
	}
	v, err := dec.ReadValue()
	if err != nil {
		return dst, err
	}
	if v[0] == '"' && !quoted(v) {
		return jsontext.AppendFormat(dst, v, quoting...)
	}
	return append(dst, v...), nil
}

// object writes the members of the object whose '{' the decoder has read.
func (c *canon) object(dst []byte) ([]byte, error) {
	dec := &c.r.dec
	base := len(dst) + 1
	dst = append(dst, '{')
	bottom := len(c.members)
	for dec.PeekKind() != '}' {
		before := int(dec.InputOffset())
		if _, err := dec.ReadToken(); err != nil {
			return dst, err
		}
		name := c.raw[nameStart(c.raw, before):dec.InputOffset()]
		ns := len(c.names)
		if bytes.IndexByte(name, '\\') >= 0 {
			c.names, _ = jsontext.AppendUnquote(c.names, name)
		} else {
			c.names = append(c.names, name[1:len(name)-1]...)
		}
		if len(c.members) > bottom {
			dst = append(dst, ',')
		}
		start := len(dst) - base
		dst = AppendQuote(dst, c.names[ns:])
		dst = append(dst, ':')
		var err error
		if dst, err = c.value(dst); err != nil {
			return dst, err
		}
		c.members = append(c.members, canonMember{sortKey(c.names[ns:]), int32(ns), int32(len(c.names)), int32(start), int32(len(dst) - base)})
	}
	if _, err := dec.ReadToken(); err != nil {
		return dst, err
	}
	return c.order(dst, base, bottom)
}

// quoted reports whether the valid JSON string v is written as jsontext writes it
// under the quoting options: no escapes, and no '<', '>', '&', U+2028 or U+2029.
func quoted(v []byte) bool {
	for i := 1; i < len(v)-1; i++ {
		switch v[i] {
		case '\\', '<', '>', '&':
			return false
		case 0xE2: // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
			if v[i+1] == 0x80 && (v[i+2] == 0xA8 || v[i+2] == 0xA9) {
				return false
			}
		}
	}
	return true
}

// sortKey is the first eight bytes of name as a big-endian number, zero-padded: names
// in byte order have keys in order, and differ if their keys do.
func sortKey(name []byte) uint64 {
	if len(name) >= 8 {
		return binary.BigEndian.Uint64(name)
	}
	var k uint64
	for i, b := range name {
		k |= uint64(b) << (56 - 8*i)
	}
	return k
}

func (c *canon) compare(m, n canonMember) int {
	if m.key != n.key {
		if m.key < n.key {
			return -1
		}
		return 1
	}
	return bytes.Compare(c.names[m.ns:m.ne], c.names[n.ns:n.ne])
}

// order finishes the object that starts at dst[base-1], whose members start at
// c.members[bottom]: it puts the members in name order and closes it.
func (c *canon) order(dst []byte, base, bottom int) ([]byte, error) {
	members := c.members[bottom:]
	c.members = c.members[:bottom]
	if len(members) == 0 {
		return append(dst, '}'), nil
	}
	defer func(ns int32) { c.names = c.names[:ns] }(members[0].ns)
	inOrder := true
	for k := 1; k < len(members); k++ {
		switch c.compare(members[k-1], members[k]) {
		case 0:
			return dst, errRepeated
		case 1:
			inOrder = false
		}
	}
	if inOrder {
		return append(dst, '}'), nil
	}
	for k := 1; k < len(members); k++ { // insertion sort: objects are small
		m, j := members[k], k
		for ; j > 0 && (m.key < members[j-1].key || m.key == members[j-1].key && c.compare(m, members[j-1]) < 0); j-- {
			members[j] = members[j-1]
		}
		members[j] = m
	}
	c.tmp = append(c.tmp[:0], dst[base:]...)
	dst = dst[:base]
	for k, m := range members {
		if k > 0 {
			if c.compare(members[k-1], m) == 0 {
				return dst, errRepeated
			}
			dst = append(dst, ',')
		}
		dst = append(dst, c.tmp[m.start:m.end]...)
	}
	return append(dst, '}'), nil
}
