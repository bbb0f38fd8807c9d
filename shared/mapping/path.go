package mapping

import (
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// A path names a member of the payload: "$", then ".name", `["name"]` or "[index]"
// steps, at most maxDepth of them.
type path []step

// step is one step of a path: a member name, or an array index when index >= 0.
type step struct {
	name  string
	index int
}

// parsePath reads a path. The error says what is wrong, for the caller to place.
func parsePath(s string) (path, string) {
	if !strings.HasPrefix(s, "$") {
		return nil, `must start with "$"`
	}
	var p path
	i := 1
	for i < len(s) {
		if len(p) == maxDepth {
			return nil, "is deeper than " + strconv.Itoa(maxDepth) + " steps"
		}
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && nameByte(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, "has an empty name after '.' at " + strconv.Itoa(i)
			}
			p = append(p, step{name: s[i+1 : j], index: -1})
			i = j
		case '[':
			if i+1 < len(s) && s[i+1] == '"' {
				end := quotedEnd(s, i+1)
				if end < 0 || end >= len(s) || s[end] != ']' {
					return nil, `has an unterminated ["name"] at ` + strconv.Itoa(i)
				}
				name, err := jsontext.AppendUnquote(nil, s[i+1:end])
				if err != nil {
					return nil, "has a bad quoted name at " + strconv.Itoa(i)
				}
				p = append(p, step{name: string(name), index: -1})
				i = end + 1
				continue
			}
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != ']' || j-i-1 > 6 || (s[i+1] == '0' && j > i+2) {
				return nil, "has a bad [index] at " + strconv.Itoa(i) + `: want [0] to [999999] or ["name"]`
			}
			n, _ := strconv.Atoi(s[i+1 : j])
			p = append(p, step{index: n})
			i = j + 1
		default:
			return nil, "has an unexpected " + strconv.QuoteRune(rune(s[i])) + " at " + strconv.Itoa(i) + `: want ".name", ["name"] or [index]`
		}
	}
	return p, ""
}

// quotedEnd returns the index just past the JSON string that starts at s[i] ('"'), or -1.
func quotedEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// nameByte reports whether c may appear in a name written after '.': anything but the
// path's own punctuation, the template's braces and white space.
func nameByte(c byte) bool {
	switch c {
	case '.', '[', ']', '{', '}', '"', ' ', '\t', '\r', '\n':
		return false
	}
	return c >= 0x20
}

// String writes the path as errors name it: "$.alerts[0].startsAt".
func (p path) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, st := range p {
		if st.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
			continue
		}
		plain := st.name != ""
		for i := 0; i < len(st.name); i++ {
			if !nameByte(st.name[i]) {
				plain = false
				break
			}
		}
		if plain {
			b.WriteByte('.')
			b.WriteString(st.name)
			continue
		}
		q, _ := jsontext.AppendQuote(nil, st.name)
		b.WriteByte('[')
		b.Write(q)
		b.WriteByte(']')
	}
	return b.String()
}

// under reports whether p is q or lies inside it.
func (p path) under(q path) bool {
	if len(p) < len(q) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// A node is a step of the tree of every path a mapping reads; Apply walks the payload
// along it once and records where each path's value lies.
type node struct {
	names map[string]*node
	elems map[int]*node
	slot  int // index of the path's span, or -1 when no path ends here
}

func newNode() *node { return &node{slot: -1} }

// add returns the slot of p, adding it to the tree.
func (n *node) add(p path, slots *[]string) int {
	for _, st := range p {
		var next *node
		if st.index >= 0 {
			if n.elems == nil {
				n.elems = map[int]*node{}
			}
			if next = n.elems[st.index]; next == nil {
				next = newNode()
				n.elems[st.index] = next
			}
		} else {
			if n.names == nil {
				n.names = map[string]*node{}
			}
			if next = n.names[st.name]; next == nil {
				next = newNode()
				n.names[st.name] = next
			}
		}
		n = next
	}
	if n.slot < 0 {
		n.slot = len(*slots)
		*slots = append(*slots, p.String())
	}
	return n.slot
}
