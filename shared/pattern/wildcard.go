package pattern

import (
	"bytes"
	"errors"
	"fmt"
)

// wildcard is a compiled wildcard pattern: literal segments separated by
// '*'. segs has len(stars)+1 entries; leading/trailing segments may be empty.
type wildcard struct {
	segs [][]byte
}

// parseWildcard compiles an EventBridge wildcard value. '*' matches any
// sequence of characters (including none); "\*" is a literal star and "\\"
// a literal backslash. Consecutive '*' and any other backslash escape are
// rejected, as EventBridge does.
func parseWildcard(s string) (wildcard, error) {
	var w wildcard
	cur := []byte{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return w, fmt.Errorf("consecutive wildcard characters at position %d", i)
			}
			w.segs = append(w.segs, cur)
			cur = []byte{}
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur = append(cur, s[i+1])
				i++
				continue
			}
			return w, fmt.Errorf("invalid escape character at position %d: only \\* and \\\\ are allowed", i)
		default:
			cur = append(cur, c)
		}
	}
	w.segs = append(w.segs, cur)
	if len(w.segs) > maxWildcardStars+1 {
		return w, errors.New("too many wildcard characters")
	}
	return w, nil
}

// maxWildcardStars bounds the number of '*' in one wildcard value to keep
// matching cheap.
const maxWildcardStars = 100

// match reports whether s matches the wildcard. Because '*' is the only
// metacharacter, matching each middle segment at its leftmost occurrence is
// optimal, so this runs in O(len(s) * len(pattern)) at worst.
func (w *wildcard) match(s []byte) bool {
	segs := w.segs
	if len(segs) == 1 {
		return bytes.Equal(s, segs[0])
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !bytes.HasPrefix(s, first) || !bytes.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		k := bytes.Index(mid, seg)
		if k < 0 {
			return false
		}
		mid = mid[k+len(seg):]
	}
	return true
}
