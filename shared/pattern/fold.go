package pattern

import (
	"unicode"
	"unicode/utf8"
)

// foldRune maps r to a canonical representative of its Unicode simple
// case-folding orbit (the same equivalence strings.EqualFold uses), so that
// two runes are equal ignoring case iff their foldRune values are equal.
// ASCII letters map to lower case.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	if 'A' <= m && m <= 'Z' {
		m += 'a' - 'A'
	}
	return m
}

// foldString returns the canonical case-folded form of s.
func foldString(s string) string {
	return string(appendFold(nil, []byte(s)))
}

// appendFold appends the canonical case-folded form of s to dst.
func appendFold(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += size
	}
	return dst
}

// foldHasPrefix reports whether s starts with the folded prefix p (p must
// already be in canonical folded form), ignoring case. If whole is set, s
// must be entirely consumed (equals-ignore-case).
func foldHasPrefix(s []byte, p string, whole bool) bool {
	i, j := 0, 0
	for j < len(p) {
		if i >= len(s) {
			return false
		}
		a, b := s[i], p[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if a != b {
				return false
			}
			i++
			j++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		pr, pn := utf8.DecodeRuneInString(p[j:])
		if foldRune(r) != pr {
			return false
		}
		i += n
		j += pn
	}
	return !whole || i == len(s)
}

// foldHasSuffix reports whether s ends with the folded suffix p, ignoring case.
func foldHasSuffix(s []byte, p string) bool {
	i, j := len(s), len(p)
	for j > 0 {
		if i <= 0 {
			return false
		}
		a, b := s[i-1], p[j-1]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if a != b {
				return false
			}
			i--
			j--
			continue
		}
		r, n := utf8.DecodeLastRune(s[:i])
		pr, pn := utf8.DecodeLastRuneInString(p[:j])
		if foldRune(r) != pr {
			return false
		}
		i -= n
		j -= pn
	}
	return true
}
