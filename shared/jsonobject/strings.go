package jsonobject

// Strings makes up to eight strings with one allocation: append each one's text to B
// and call End after it, then Done, then Get each from what Done returns by the
// number End gave.
type Strings struct {
	B    []byte
	ends [8]int
	n    int
}

// End ends the string whose text B holds since the previous one, and returns its
// number.
func (s *Strings) End() int {
	s.ends[s.n] = len(s.B)
	s.n++
	return s.n - 1
}

// Done makes the strings.
func (s *Strings) Done() Made { return Made{string(s.B), s.ends} }

// Made is the strings of Strings.
type Made struct {
	all  string
	ends [8]int
}

// Get returns string i.
func (m *Made) Get(i int) string {
	start := 0
	if i > 0 {
		start = m.ends[i-1]
	}
	return m.all[start:m.ends[i]]
}
