package pattern

import (
	"bytes"
	"net/netip"
	"sync"
	"unsafe"
)

var docPool = sync.Pool{New: func() any { return new(doc) }}

// Match reports whether the JSON event matches the pattern. Malformed JSON
// yields an error.
func (p *Pattern) Match(event []byte) (bool, error) {
	d := docPool.Get().(*doc)
	defer func() {
		if cap(d.nodes) <= 1<<14 && cap(d.buf) <= 1<<20 { // drop unusually large buffers
			docPool.Put(d)
		}
	}()
	root, err := d.parse(event)
	if err != nil {
		return false, err
	}
	return d.matchObj(p.root, root, nil), nil
}

// find returns the child of object node obj named key, or -1. If the event
// repeats a key, the last occurrence wins (as with most JSON decoders).
func (d *doc) find(obj int32, key string) int32 {
	found := int32(-1)
	for _, k := range d.children(obj) {
		if string(d.nodes[k].key) == key {
			found = k
		}
	}
	return found
}

// evalCache memoises, for one event, the node found at each path and the
// result of each leaf constraint. It is only consulted outside event arrays
// ("array-free" context), where a path designates a single node, so the
// entries are shared by all patterns of a Set. Entries are valid when their
// epoch equals the cache's.
type evalCache struct {
	epoch    uint32
	pathEp   []uint32
	pathNode []int32
	leafEp   []uint32
	leafRes  []bool
}

func newEvalCache(paths, leaves int) evalCache {
	return evalCache{
		pathEp: make([]uint32, paths), pathNode: make([]int32, paths),
		leafEp: make([]uint32, leaves), leafRes: make([]bool, leaves),
	}
}

// next invalidates all entries.
func (c *evalCache) next() {
	c.epoch++
	if c.epoch == 0 {
		clear(c.pathEp)
		clear(c.leafEp)
		c.epoch = 1
	}
}

// matchObj matches a pattern object against event node ev (-1: missing).
// c is nil inside event arrays, where results depend on the element.
func (d *doc) matchObj(m *objMatcher, ev int32, c *evalCache) bool {
	if ev >= 0 {
		switch d.nodes[ev].kind {
		case kArr:
			// An array of objects matches if some element matches; a
			// pattern that only requires absence must hold for every element.
			if m.absenceOnly {
				for _, e := range d.children(ev) {
					if !d.matchObj(m, e, nil) {
						return false
					}
				}
				return true
			}
			for _, e := range d.children(ev) {
				if d.matchObj(m, e, nil) {
					return true
				}
			}
			return false
		case kObj:
		default:
			ev = -1 // a scalar has no fields
		}
	}
	for i := range m.fields {
		f := &m.fields[i]
		if c != nil && f.leaf != nil && c.leafEp[f.leafID] == c.epoch {
			if !c.leafRes[f.leafID] {
				return false
			}
			continue
		}
		ch := int32(-1)
		if ev >= 0 {
			if c == nil {
				ch = d.find(ev, f.key)
			} else if c.pathEp[f.path] == c.epoch {
				ch = c.pathNode[f.path]
			} else {
				ch = d.find(ev, f.key)
				c.pathEp[f.path] = c.epoch
				c.pathNode[f.path] = ch
			}
		}
		if f.obj != nil {
			if !d.matchObj(f.obj, ch, c) {
				return false
			}
			continue
		}
		ok := d.matchLeaf(f.leaf, ch)
		if c != nil {
			c.leafEp[f.leafID] = c.epoch
			c.leafRes[f.leafID] = ok
		}
		if !ok {
			return false
		}
	}
	for _, alts := range m.ors {
		ok := false
		for _, a := range alts {
			if d.matchObj(a, ev, c) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchLeaf matches a pattern array against event node ev (-1: missing).
// The event's leaf values are the scalars at ev, looking through arrays;
// objects are not leaves.
func (d *doc) matchLeaf(l *leafMatcher, ev int32) bool {
	if ev < 0 {
		return l.existsFalse
	}
	has, matched := d.leafValues(l, ev)
	if matched {
		return true
	}
	if !has {
		return l.existsFalse
	}
	return false
}

// leafValues reports whether ev holds any leaf value and whether one of them
// satisfies the leaf matcher.
func (d *doc) leafValues(l *leafMatcher, ev int32) (has, matched bool) {
	nd := &d.nodes[ev]
	switch nd.kind {
	case kObj:
		return false, false
	case kArr:
		for _, e := range d.children(ev) {
			h, m := d.leafValues(l, e)
			if m {
				return true, true
			}
			has = has || h
		}
		return has, false
	}
	if l.existsTrue {
		return true, true
	}
	for i := range l.ops {
		if matchOp(&l.ops[i], nd) {
			return true, true
		}
	}
	return true, false
}

// matchOp tests one scalar event value against one operator.
func matchOp(o *op, v *node) bool {
	switch o.kind {
	case opExactStr:
		if v.kind != kStr {
			return false
		}
		if string(v.val) == o.str {
			return true
		}
		if o.addr.IsValid() {
			a, err := netip.ParseAddr(transient(v.val))
			return err == nil && a == o.addr
		}
		return false
	case opExactNum:
		return v.kind == kNum && string(v.val) == o.str
	case opTrue:
		return v.kind == kTrue
	case opFalse:
		return v.kind == kFalse
	case opNull:
		return v.kind == kNull
	case opPrefix:
		return v.kind == kStr && len(v.val) >= len(o.str) && string(v.val[:len(o.str)]) == o.str
	case opSuffix:
		return v.kind == kStr && len(v.val) >= len(o.str) && string(v.val[len(v.val)-len(o.str):]) == o.str
	case opPrefixFold:
		return v.kind == kStr && foldHasPrefix(v.val, o.str, false)
	case opSuffixFold:
		return v.kind == kStr && foldHasSuffix(v.val, o.str)
	case opEqualsFold:
		return v.kind == kStr && foldHasPrefix(v.val, o.str, true)
	case opWildcard:
		return v.kind == kStr && o.wcs[0].match(v.val)
	case opAnythingButStr:
		if v.kind != kStr {
			return true
		}
		_, excluded := o.set[string(v.val)]
		return !excluded
	case opAnythingButNum:
		if v.kind != kNum || v.numFlags != numInRange|numExact {
			return true
		}
		_, excluded := o.nums[v.micro]
		return !excluded
	case opAnythingButPrefix:
		if v.kind != kStr {
			return true
		}
		for _, s := range o.strs {
			if bytes.HasPrefix(v.val, []byte(s)) {
				return false
			}
		}
		return true
	case opAnythingButSuffix:
		if v.kind != kStr {
			return true
		}
		for _, s := range o.strs {
			if bytes.HasSuffix(v.val, []byte(s)) {
				return false
			}
		}
		return true
	case opAnythingButFold:
		if v.kind != kStr {
			return true
		}
		for s := range o.set {
			if foldHasPrefix(v.val, s, true) {
				return false
			}
		}
		return true
	case opAnythingButWildcard:
		if v.kind != kStr {
			return true
		}
		for i := range o.wcs {
			if o.wcs[i].match(v.val) {
				return false
			}
		}
		return true
	case opNumeric:
		if v.kind != kNum || v.numFlags&numInRange == 0 {
			return false
		}
		exact := v.numFlags&numExact != 0
		if o.hasLo {
			c := cmpMicro(v.micro, exact, o.lo)
			if c < 0 || (c == 0 && !o.loIncl) {
				return false
			}
		}
		if o.hasHi {
			c := cmpMicro(v.micro, exact, o.hi)
			if c > 0 || (c == 0 && !o.hiIncl) {
				return false
			}
		}
		return true
	case opCIDR:
		if v.kind != kStr {
			return false
		}
		a, err := netip.ParseAddr(transient(v.val))
		if err != nil || a.Zone() != "" {
			return false
		}
		return o.prefix.Contains(a) || o.prefix.Contains(a.Unmap())
	}
	return false
}

// transient returns b as a string without copying. The string must not be
// retained beyond the call it is passed to (netip.ParseAddr copies what it
// keeps), and b must not change meanwhile.
func transient(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
