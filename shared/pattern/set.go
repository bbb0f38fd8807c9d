package pattern

import (
	bits64 "math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Set is a named collection of patterns matched together. Match may be
// called concurrently with itself and with Add/Remove: it works on an
// immutable, indexed snapshot that is rebuilt after modifications.
type Set struct {
	mu       sync.Mutex
	patterns map[string]*Pattern
	version  atomic.Uint64 // bumped (under mu) by every modification
	snap     atomic.Pointer[snapshot]
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{patterns: make(map[string]*Pattern)}
}

// Add compiles p and stores it under name, replacing any pattern already
// stored under that name. On error the set is unchanged.
func (s *Set) Add(name string, p []byte) error {
	c, err := Compile(p)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.patterns[name] = c
	s.version.Add(1)
	s.mu.Unlock()
	return nil
}

// Remove deletes the pattern stored under name, if any.
func (s *Set) Remove(name string) {
	s.mu.Lock()
	if _, ok := s.patterns[name]; ok {
		delete(s.patterns, name)
		s.version.Add(1)
	}
	s.mu.Unlock()
}

// Len returns the number of patterns in the set.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.patterns)
}

// Match returns the names of the patterns that match event, sorted. It
// returns an error if event is not valid JSON.
func (s *Set) Match(event []byte) ([]string, error) {
	sn := s.current()
	sc := sn.scratch.Get().(*scratch)
	defer sn.putScratch(sc)
	d := &sc.d
	root, err := d.parse(event)
	if err != nil {
		return nil, err
	}
	sc.epoch++
	if sc.epoch == 0 { // wrapped: clear marks
		clear(sc.seen)
		sc.epoch = 1
	}
	sc.cands = sc.cands[:0]
	if sn.index != nil {
		sn.index.walk(sc, d, root)
	}
	sc.cache.next()
	hits := 0
	for _, u := range sc.cands {
		if d.matchObj(sn.roots[u], root, &sc.cache) {
			hits += sc.hit(sn.members[u])
		}
	}
	for _, u := range sn.residual {
		if d.matchObj(sn.roots[u], root, &sc.cache) {
			hits += sc.hit(sn.members[u])
		}
	}
	if hits == 0 {
		return nil, nil
	}
	// The bits in order are the matching pattern ids in order, and ids are
	// positions in the sorted names: no sort needed. Clear them on the way.
	out := make([]string, 0, hits)
	for w, bits := range sc.hits {
		if bits == 0 {
			continue
		}
		sc.hits[w] = 0
		for bits != 0 {
			out = append(out, sn.names[w*64+bits64.TrailingZeros64(bits)])
			bits &= bits - 1
		}
	}
	return out, nil
}

// current returns an up-to-date snapshot, rebuilding it if the set changed.
// The fast path takes no lock.
func (s *Set) current() *snapshot {
	if sn := s.snap.Load(); sn != nil && sn.version == s.version.Load() {
		return sn
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.version.Load()
	if sn := s.snap.Load(); sn != nil && sn.version == v {
		return sn
	}
	sn := buildSnapshot(s.patterns, v)
	s.snap.Store(sn)
	return sn
}

// snapshot is an immutable, indexed view of the set's patterns. Pattern ids
// are positions in names, which is sorted, so ids in order are names in
// order. Patterns that are the same constraint under different names (many
// subscriptions ask for the same thing) are evaluated once: the index, the
// candidates and the residual hold unique-pattern ids, and members lists the
// pattern ids of each.
type snapshot struct {
	version  uint64
	names    []string
	patterns []*Pattern
	roots    []*objMatcher // by unique id; re-numbered with snapshot-wide path/leaf ids
	members  [][]int32     // by unique id: the pattern ids, ascending
	index    *idxNode      // nil if no pattern is indexed
	residual []int32       // unique patterns without an indexable constraint
	scratch  sync.Pool
}

// scratch holds per-Match working memory.
type scratch struct {
	d     doc
	seen  []uint32 // seen[u] == epoch: unique pattern u already a candidate
	epoch uint32
	cands []int32
	hits  []uint64 // bit i: pattern i matched; all zero between matches
	fold  []byte
	cache evalCache
}

// hit marks the patterns of a matching unique pattern and returns how many.
func (sc *scratch) hit(ids []int32) int {
	for _, id := range ids {
		sc.hits[id>>6] |= 1 << (id & 63)
	}
	return len(ids)
}

func (sn *snapshot) putScratch(sc *scratch) {
	// Do not keep memory from unusually large events.
	if cap(sc.d.nodes) > 1<<14 || cap(sc.d.buf) > 1<<20 {
		return
	}
	sn.scratch.Put(sc)
}

// idxNode indexes patterns by constraints that any matching event must
// satisfy at one path: children continue the path by object key, the other
// fields hold the pattern ids keyed by the value the constraint requires.
type idxNode struct {
	children map[string]*idxNode

	strs                   map[string][]int32
	nums                   map[string][]int32 // by JSON text
	trues, falses, nulls   []int32
	folds                  map[string][]int32 // equals-ignore-case, folded
	prefixes, suffixes     affixIndex
	foldPrefix, foldSuffix affixIndex
}

// affixIndex maps prefixes (or suffixes) to patterns; lens lists the
// distinct lengths so a lookup probes one map entry per length.
type affixIndex struct {
	m    map[string][]int32
	lens []int
}

func (a *affixIndex) add(s string, id int32) {
	if a.m == nil {
		a.m = make(map[string][]int32)
	}
	if _, ok := a.m[s]; !ok {
		if !slices.Contains(a.lens, len(s)) {
			a.lens = append(a.lens, len(s))
			slices.Sort(a.lens)
		}
	}
	a.m[s] = append(a.m[s], id)
}

func buildSnapshot(patterns map[string]*Pattern, version uint64) *snapshot {
	sn := &snapshot{version: version}
	sn.names = make([]string, 0, len(patterns))
	for name := range patterns {
		sn.names = append(sn.names, name)
	}
	sort.Strings(sn.names)
	sn.patterns = make([]*Pattern, len(sn.names))
	for i, name := range sn.names {
		sn.patterns[i] = patterns[name]
	}
	n := len(sn.names)
	// Share path and leaf ids across patterns so that identical constraints
	// are evaluated once per event, and identical patterns too.
	rl := relinker{pathIdx: make(map[pathDef]int32), leafIdx: make(map[leafDef]int32)}
	uniq := make(map[string]int32)
	var key []byte
	for i, p := range sn.patterns {
		root := rl.relink(p)
		key = appendShape(key[:0], root)
		u, ok := uniq[string(key)]
		if !ok {
			u = int32(len(sn.roots))
			uniq[string(key)] = u
			sn.roots = append(sn.roots, root)
			sn.members = append(sn.members, nil)
		}
		sn.members[u] = append(sn.members[u], int32(i))
	}
	nu := len(sn.roots)
	npaths, nleaves := len(rl.pathIdx), len(rl.leafIdx)
	sn.scratch.New = func() any {
		return &scratch{seen: make([]uint32, nu), hits: make([]uint64, (n+63)/64), cache: newEvalCache(npaths, nleaves)}
	}

	// Count how many unique patterns constrain each (path, value) so every
	// one can be indexed under its most selective constraint.
	counts := make(map[string]int)
	anchors := make([][]anchor, nu)
	for u, root := range sn.roots {
		anchors[u] = collectAnchors(root, nil, nil)
		for _, a := range anchors[u] {
			for _, k := range a.keys() {
				counts[k]++
			}
		}
	}
	for u := range sn.roots {
		best, bestScore := -1, 0
		for i, a := range anchors[u] {
			score := 0
			for _, k := range a.keys() {
				score += counts[k]
			}
			score = score*a.weight() + len(a.values)
			if best < 0 || score < bestScore {
				best, bestScore = i, score
			}
		}
		if best < 0 {
			sn.residual = append(sn.residual, int32(u))
			continue
		}
		if sn.index == nil {
			sn.index = &idxNode{}
		}
		sn.index.insert(anchors[u][best], int32(u))
	}
	return sn
}

// appendShape appends a key of a relinked matcher: two matchers with the same
// key test the same leaf constraints (snapshot-wide leaf ids) at the same
// paths, combined the same way, so they match the same events. Fields are
// sorted by key at compile time; $or alternatives keep the pattern's order, so
// a reordered $or is merely not recognised as the same.
func appendShape(b []byte, m *objMatcher) []byte {
	b = append(b, '{')
	if m.absenceOnly {
		b = append(b, '!')
	}
	for i := range m.fields {
		f := &m.fields[i]
		b = strconv.AppendInt(b, int64(f.path), 36)
		if f.obj != nil {
			b = appendShape(b, f.obj)
		} else {
			b = append(b, '=')
			b = strconv.AppendInt(b, int64(f.leafID), 36)
		}
		b = append(b, ',')
	}
	for _, alts := range m.ors {
		b = append(b, '(')
		for _, a := range alts {
			b = appendShape(b, a)
		}
		b = append(b, ')')
	}
	return append(b, '}')
}

// anchor is an indexable leaf: a path and the values (with their operator
// kinds) one of which the event must hold there for the pattern to match.
type anchor struct {
	path   []string
	values []anchorValue
}

type anchorValue struct {
	kind opKind // opExactStr, opExactNum, opTrue, opFalse, opNull, opEqualsFold, opPrefix, opSuffix, opPrefixFold, opSuffixFold
	s    string
}

func (a *anchor) keys() []string {
	base := strings.Join(a.path, "\x00")
	ks := make([]string, len(a.values))
	for i, v := range a.values {
		ks[i] = base + "\x01" + string(rune('A'+v.kind)) + v.s
	}
	return ks
}

// weight penalises affix anchors, which tend to match more events than
// exact values.
func (a *anchor) weight() int {
	w := 1
	for _, v := range a.values {
		switch v.kind {
		case opPrefix, opSuffix, opPrefixFold, opSuffixFold:
			w = 3
		}
	}
	return w
}

// collectAnchors lists the indexable leaves reachable from m through AND
// only (leaves inside $or are not necessary conditions).
func collectAnchors(m *objMatcher, path []string, out []anchor) []anchor {
	for i := range m.fields {
		f := &m.fields[i]
		p := append(path[:len(path):len(path)], f.key)
		if f.obj != nil {
			out = collectAnchors(f.obj, p, out)
			continue
		}
		if a, ok := leafAnchor(f.leaf, p); ok {
			out = append(out, a)
		}
	}
	return out
}

func leafAnchor(l *leafMatcher, path []string) (anchor, bool) {
	if l.existsTrue || l.existsFalse || len(l.ops) == 0 {
		return anchor{}, false
	}
	a := anchor{path: path}
	for i := range l.ops {
		o := &l.ops[i]
		switch o.kind {
		case opExactStr:
			if o.addr.IsValid() {
				return anchor{}, false // also matches other spellings of the address
			}
		case opExactNum, opTrue, opFalse, opNull, opEqualsFold:
		case opPrefix, opSuffix, opPrefixFold, opSuffixFold:
			if o.str == "" {
				return anchor{}, false // matches every string
			}
		default:
			return anchor{}, false
		}
		a.values = append(a.values, anchorValue{o.kind, o.str})
	}
	return a, true
}

func (ix *idxNode) insert(a anchor, id int32) {
	n := ix
	for _, k := range a.path {
		if n.children == nil {
			n.children = make(map[string]*idxNode)
		}
		c := n.children[k]
		if c == nil {
			c = &idxNode{}
			n.children[k] = c
		}
		n = c
	}
	for _, v := range a.values {
		switch v.kind {
		case opExactStr:
			if n.strs == nil {
				n.strs = make(map[string][]int32)
			}
			n.strs[v.s] = appendID(n.strs[v.s], id)
		case opExactNum:
			if n.nums == nil {
				n.nums = make(map[string][]int32)
			}
			n.nums[v.s] = appendID(n.nums[v.s], id)
		case opTrue:
			n.trues = appendID(n.trues, id)
		case opFalse:
			n.falses = appendID(n.falses, id)
		case opNull:
			n.nulls = appendID(n.nulls, id)
		case opEqualsFold:
			if n.folds == nil {
				n.folds = make(map[string][]int32)
			}
			n.folds[v.s] = appendID(n.folds[v.s], id)
		case opPrefix:
			n.prefixes.add(v.s, id)
		case opSuffix:
			n.suffixes.add(v.s, id)
		case opPrefixFold:
			n.foldPrefix.add(v.s, id)
		case opSuffixFold:
			n.foldSuffix.add(v.s, id)
		}
	}
}

// appendID appends id unless it is already the last element (a pattern may
// list the same value twice).
func appendID(ids []int32, id int32) []int32 {
	if len(ids) > 0 && ids[len(ids)-1] == id {
		return ids
	}
	return append(ids, id)
}

// walk visits the event alongside the index and records as candidates the
// patterns whose anchor constraint the event satisfies.
func (ix *idxNode) walk(sc *scratch, d *doc, ev int32) {
	nd := &d.nodes[ev]
	switch nd.kind {
	case kObj:
		if ix.children == nil {
			return
		}
		for _, k := range d.children(ev) {
			if c := ix.children[string(d.nodes[k].key)]; c != nil {
				c.walk(sc, d, k)
			}
		}
	case kArr:
		for _, e := range d.children(ev) {
			ix.walk(sc, d, e)
		}
	case kStr:
		s := nd.val
		if ix.strs != nil {
			sc.add(ix.strs[string(s)])
		}
		ix.prefixes.lookup(sc, s, false)
		ix.suffixes.lookup(sc, s, true)
		if ix.folds != nil || ix.foldPrefix.m != nil || ix.foldSuffix.m != nil {
			sc.fold = appendFold(sc.fold[:0], s)
			f := sc.fold
			if ix.folds != nil {
				sc.add(ix.folds[string(f)])
			}
			ix.foldPrefix.lookup(sc, f, false)
			ix.foldSuffix.lookup(sc, f, true)
		}
	case kNum:
		if ix.nums != nil {
			sc.add(ix.nums[string(nd.val)])
		}
	case kTrue:
		sc.add(ix.trues)
	case kFalse:
		sc.add(ix.falses)
	case kNull:
		sc.add(ix.nulls)
	}
}

func (a *affixIndex) lookup(sc *scratch, s []byte, suffix bool) {
	if a.m == nil {
		return
	}
	for _, l := range a.lens {
		if l > len(s) {
			break
		}
		var k []byte
		if suffix {
			k = s[len(s)-l:]
		} else {
			k = s[:l]
		}
		sc.add(a.m[string(k)])
	}
}

func (sc *scratch) add(ids []int32) {
	for _, id := range ids {
		if sc.seen[id] != sc.epoch {
			sc.seen[id] = sc.epoch
			sc.cands = append(sc.cands, id)
		}
	}
}

// relinker maps the pattern-local path and leaf ids of patterns to ids
// shared by the whole snapshot.
type relinker struct {
	pathIdx map[pathDef]int32
	leafIdx map[leafDef]int32
	pathMap []int32
	leafMap []int32
}

func (r *relinker) relink(p *Pattern) *objMatcher {
	r.pathMap = r.pathMap[:0]
	for _, pd := range p.paths {
		g := pathDef{parent: -1, key: pd.key}
		if pd.parent >= 0 {
			g.parent = r.pathMap[pd.parent] // parents are numbered first
		}
		id, ok := r.pathIdx[g]
		if !ok {
			id = int32(len(r.pathIdx))
			r.pathIdx[g] = id
		}
		r.pathMap = append(r.pathMap, id)
	}
	r.leafMap = r.leafMap[:0]
	for _, ld := range p.leaves {
		g := leafDef{path: r.pathMap[ld.path], canon: ld.canon}
		id, ok := r.leafIdx[g]
		if !ok {
			id = int32(len(r.leafIdx))
			r.leafIdx[g] = id
		}
		r.leafMap = append(r.leafMap, id)
	}
	return r.clone(p.root)
}

func (r *relinker) clone(m *objMatcher) *objMatcher {
	out := &objMatcher{absenceOnly: m.absenceOnly, fields: make([]fieldMatcher, len(m.fields))}
	for i, f := range m.fields {
		f.path = r.pathMap[f.path]
		if f.obj != nil {
			f.obj = r.clone(f.obj)
		} else {
			f.leafID = r.leafMap[f.leafID]
		}
		out.fields[i] = f
	}
	for _, g := range m.ors {
		alts := make([]*objMatcher, len(g))
		for i, a := range g {
			alts[i] = r.clone(a)
		}
		out.ors = append(out.ors, alts)
	}
	return out
}
