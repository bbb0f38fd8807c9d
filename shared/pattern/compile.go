package pattern

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	root *objMatcher
	// paths and leaves describe the ids used by root's fields (see
	// fieldMatcher); a Set re-numbers them to share work across patterns.
	paths  []pathDef
	leaves []leafDef
}

// pathDef is an event path: the parent path id (-1 for the root) and a key.
type pathDef struct {
	parent int32
	key    string
}

// leafDef identifies a leaf constraint: its path and canonical JSON text.
// Two leaves with equal leafDefs give the same result on the same event.
type leafDef struct {
	path  int32
	canon string
}

// objMatcher matches an event object: every field must match (AND) and,
// for every $or, at least one alternative must match.
type objMatcher struct {
	fields []fieldMatcher
	ors    [][]*objMatcher
	// absenceOnly is set when every leaf below (including inside $or) only
	// tests for absence ({"exists": false}). Such a matcher, applied to an
	// array of objects, must hold for all elements (no element may have the
	// field) rather than for some element.
	absenceOnly bool
}

type fieldMatcher struct {
	key  string
	obj  *objMatcher  // nested pattern object
	leaf *leafMatcher // array of values/operators
	// path is the id of the field's event path; leafID the id of the leaf
	// constraint. They index per-match caches (see evalCache).
	path   int32
	leafID int32
}

// leafMatcher is the OR of the values and operators of one pattern array.
type leafMatcher struct {
	existsTrue  bool
	existsFalse bool
	ops         []op
}

type opKind uint8

const (
	opExactStr opKind = iota + 1
	opExactNum        // literal number, compared by its JSON text
	opTrue
	opFalse
	opNull
	opPrefix
	opPrefixFold
	opSuffix
	opSuffixFold
	opEqualsFold
	opWildcard
	opAnythingButStr
	opAnythingButNum
	opAnythingButPrefix
	opAnythingButSuffix
	opAnythingButFold
	opAnythingButWildcard
	opNumeric
	opCIDR
)

type op struct {
	kind opKind
	str  string   // exact / prefix / suffix / folded value / number text
	strs []string // anything-but lists (prefix, suffix, folded)
	set  map[string]struct{}
	nums map[int64]struct{}
	wcs  []wildcard
	// numeric range; bounds in micros
	lo, hi         int64
	hasLo, hasHi   bool
	loIncl, hiIncl bool
	prefix         netip.Prefix
	addr           netip.Addr // exact string that is an IPv6 address
}

// Error is returned by Compile for an invalid pattern.
type compileError struct {
	path string
	msg  string
}

func (e *compileError) Error() string {
	if e.path == "" {
		return "pattern: " + e.msg
	}
	return "pattern: " + e.path + ": " + e.msg
}

// reservedInOr are names that EventBridge does not accept as field names
// inside a $or alternative (they are operator keywords).
var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true,
	"cidr": true, "html": true, "=": true, "<": true, "<=": true, ">": true,
	">=": true, "regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true,
	"date-on-or-before": true, "in-date-range": true, "ip-address-in-range": true,
	"ip-address-not-in-range": true,
}

type compiler struct {
	d       doc
	paths   []pathDef
	pathIdx map[pathDef]int32
	leaves  []leafDef
	leafIdx map[leafDef]int32
}

func (c *compiler) pathID(parent int32, key string) int32 {
	pd := pathDef{parent, key}
	if id, ok := c.pathIdx[pd]; ok {
		return id
	}
	if c.pathIdx == nil {
		c.pathIdx = make(map[pathDef]int32)
	}
	id := int32(len(c.paths))
	c.paths = append(c.paths, pd)
	c.pathIdx[pd] = id
	return id
}

func (c *compiler) leafID(path int32, canon string) int32 {
	ld := leafDef{path, canon}
	if id, ok := c.leafIdx[ld]; ok {
		return id
	}
	if c.leafIdx == nil {
		c.leafIdx = make(map[leafDef]int32)
	}
	id := int32(len(c.leaves))
	c.leaves = append(c.leaves, ld)
	c.leafIdx[ld] = id
	return id
}

// Compile parses and validates an EventBridge event pattern.
func Compile(p []byte) (*Pattern, error) {
	var c compiler
	root, err := c.d.parse(p)
	if err != nil {
		return nil, &compileError{msg: err.Error()}
	}
	if c.d.nodes[root].kind != kObj {
		return nil, &compileError{msg: "must be a JSON object"}
	}
	// The empty pattern {} matches every event.
	if c.d.nodes[root].n == 0 {
		return &Pattern{root: &objMatcher{absenceOnly: true}}, nil
	}
	m, err := c.object(root, -1, "", false)
	if err != nil {
		return nil, err
	}
	return &Pattern{root: m, paths: c.paths, leaves: c.leaves}, nil
}

func joinPath(prefix, key string) string {
	if key == "" {
		key = `""`
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// object compiles a pattern object at path. inOr is set inside $or
// alternatives, where operator keywords are reserved.
func (c *compiler) object(idx int32, pid int32, path string, inOr bool) (*objMatcher, error) {
	kids := c.d.children(idx)
	if len(kids) == 0 {
		return nil, &compileError{path, "empty object is not allowed"}
	}
	m := &objMatcher{}
	seen := make(map[string]bool, len(kids))
	for _, k := range kids {
		nd := &c.d.nodes[k]
		key := string(nd.key)
		fpath := joinPath(path, key)
		if seen[key] {
			return nil, &compileError{fpath, "duplicate key"}
		}
		seen[key] = true
		if key == "$or" {
			if nd.kind != kArr {
				return nil, &compileError{msg: orPrefix(path) + "$or must be an array of objects"}
			}
			alts := c.d.children(k)
			if len(alts) < 2 {
				return nil, &compileError{msg: orPrefix(path) + "$or must have at least two alternatives"}
			}
			group := make([]*objMatcher, 0, len(alts))
			for i, a := range alts {
				apath := fmt.Sprintf("%s$or[%d]", orPrefix(path), i)
				if c.d.nodes[a].kind != kObj {
					return nil, &compileError{apath, "$or alternative must be an object"}
				}
				am, err := c.object(a, pid, apath, true)
				if err != nil {
					return nil, err
				}
				group = append(group, am)
			}
			m.ors = append(m.ors, group)
			continue
		}
		if inOr && reservedInOr[key] {
			return nil, &compileError{fpath, fmt.Sprintf("%q is a reserved keyword and cannot be used as a field name inside $or", key)}
		}
		switch nd.kind {
		case kObj:
			fid := c.pathID(pid, key)
			sub, err := c.object(k, fid, fpath, inOr)
			if err != nil {
				return nil, err
			}
			m.fields = append(m.fields, fieldMatcher{key: key, obj: sub, path: fid, leafID: -1})
		case kArr:
			leaf, err := c.leaf(k, fpath)
			if err != nil {
				return nil, err
			}
			fid := c.pathID(pid, key)
			lid := c.leafID(fid, string(appendCanon(nil, &c.d, k)))
			m.fields = append(m.fields, fieldMatcher{key: key, leaf: leaf, path: fid, leafID: lid})
		default:
			return nil, &compileError{fpath, "value must be an array"}
		}
	}
	sort.SliceStable(m.fields, func(i, j int) bool { return m.fields[i].key < m.fields[j].key })
	m.absenceOnly = computeAbsenceOnly(m)
	return m, nil
}

func orPrefix(path string) string {
	if path == "" {
		return ""
	}
	return path + "."
}

func computeAbsenceOnly(m *objMatcher) bool {
	for _, f := range m.fields {
		if f.obj != nil {
			if !f.obj.absenceOnly {
				return false
			}
			continue
		}
		l := f.leaf
		if !l.existsFalse || l.existsTrue || len(l.ops) > 0 {
			return false
		}
	}
	for _, g := range m.ors {
		for _, a := range g {
			if !a.absenceOnly {
				return false
			}
		}
	}
	return true
}

func (c *compiler) leaf(idx int32, path string) (*leafMatcher, error) {
	vals := c.d.children(idx)
	if len(vals) == 0 {
		return nil, &compileError{path, "empty arrays are not allowed"}
	}
	l := &leafMatcher{}
	for _, v := range vals {
		nd := &c.d.nodes[v]
		switch nd.kind {
		case kStr:
			o := op{kind: opExactStr, str: string(nd.val)}
			if strings.IndexByte(o.str, ':') >= 0 {
				if a, err := netip.ParseAddr(o.str); err == nil && a.Is6() && a.Zone() == "" {
					o.addr = a
				}
			}
			l.ops = append(l.ops, o)
		case kNum:
			l.ops = append(l.ops, op{kind: opExactNum, str: string(nd.val)})
		case kTrue:
			l.ops = append(l.ops, op{kind: opTrue})
		case kFalse:
			l.ops = append(l.ops, op{kind: opFalse})
		case kNull:
			l.ops = append(l.ops, op{kind: opNull})
		case kArr:
			return nil, &compileError{path, "match value must be a string, number, boolean, null or operator object"}
		case kObj:
			if err := c.operator(v, path, l); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// operator compiles one operator object such as {"prefix": "x"}.
func (c *compiler) operator(idx int32, path string, l *leafMatcher) error {
	kids := c.d.children(idx)
	if len(kids) == 0 {
		return &compileError{path, "empty operator object"}
	}
	if len(kids) > 1 {
		return &compileError{path, fmt.Sprintf("only one key allowed in match expression, got %d (%s)", len(kids), c.keyList(kids))}
	}
	arg := kids[0]
	name := string(c.d.nodes[arg].key)
	a := &c.d.nodes[arg]
	switch name {
	case "prefix", "suffix":
		var kind, foldKind opKind = opPrefix, opPrefixFold
		if name == "suffix" {
			kind, foldKind = opSuffix, opSuffixFold
		}
		switch a.kind {
		case kStr:
			l.ops = append(l.ops, op{kind: kind, str: string(a.val)})
			return nil
		case kObj:
			s, err := c.ignoreCaseArg(arg, path, name)
			if err != nil {
				return err
			}
			l.ops = append(l.ops, op{kind: foldKind, str: foldString(s)})
			return nil
		}
		return &compileError{path, name + " match pattern must be a string"}
	case "equals-ignore-case":
		if a.kind != kStr {
			return &compileError{path, "equals-ignore-case match pattern must be a string"}
		}
		l.ops = append(l.ops, op{kind: opEqualsFold, str: foldString(string(a.val))})
		return nil
	case "wildcard":
		if a.kind != kStr {
			return &compileError{path, "wildcard match pattern must be a string"}
		}
		w, err := parseWildcard(string(a.val))
		if err != nil {
			return &compileError{path, "wildcard: " + err.Error()}
		}
		l.ops = append(l.ops, op{kind: opWildcard, wcs: []wildcard{w}})
		return nil
	case "exists":
		switch a.kind {
		case kTrue:
			l.existsTrue = true
		case kFalse:
			l.existsFalse = true
		default:
			return &compileError{path, "exists match pattern must be either true or false"}
		}
		return nil
	case "cidr":
		if a.kind != kStr {
			return &compileError{path, "cidr match pattern must be a string"}
		}
		pfx, err := parseCIDR(string(a.val))
		if err != nil {
			return &compileError{path, err.Error()}
		}
		l.ops = append(l.ops, op{kind: opCIDR, prefix: pfx})
		return nil
	case "numeric":
		if a.kind != kArr {
			return &compileError{path, "value of numeric must be an array"}
		}
		o, err := c.numeric(arg, path)
		if err != nil {
			return err
		}
		l.ops = append(l.ops, o)
		return nil
	case "anything-but":
		o, err := c.anythingBut(arg, path)
		if err != nil {
			return err
		}
		l.ops = append(l.ops, o)
		return nil
	}
	return &compileError{path, fmt.Sprintf("unknown operator %q", name)}
}

func (c *compiler) keyList(kids []int32) string {
	names := make([]string, len(kids))
	for i, k := range kids {
		names[i] = fmt.Sprintf("%q", c.d.nodes[k].key)
	}
	return strings.Join(names, ", ")
}

// ignoreCaseArg validates {"equals-ignore-case": "s"} nested in prefix/suffix.
func (c *compiler) ignoreCaseArg(idx int32, path, outer string) (string, error) {
	kids := c.d.children(idx)
	if len(kids) != 1 {
		return "", &compileError{path, fmt.Sprintf("%s object must contain exactly one key, equals-ignore-case", outer)}
	}
	nd := &c.d.nodes[kids[0]]
	if string(nd.key) != "equals-ignore-case" {
		return "", &compileError{path, fmt.Sprintf("unsupported %s pattern: %q", outer, nd.key)}
	}
	if nd.kind != kStr {
		return "", &compileError{path, "equals-ignore-case match pattern must be a string"}
	}
	return string(nd.val), nil
}

// numberArg returns the micros of a pattern number used by numeric and
// anything-but, which must be within EventBridge's numeric limits.
func numberArg(nd *node, path, what string) (int64, error) {
	if nd.kind != kNum {
		return 0, &compileError{path, what + " must be a number"}
	}
	if nd.numFlags&numInRange == 0 {
		return 0, &compileError{path, fmt.Sprintf("%s %s is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive", what, nd.val)}
	}
	if nd.numFlags&numExact == 0 {
		return 0, &compileError{path, fmt.Sprintf("%s %s has too many decimal places: at most 6 digits after the decimal point are supported", what, nd.val)}
	}
	return nd.micro, nil
}

func (c *compiler) numeric(idx int32, path string) (op, error) {
	items := c.d.children(idx)
	o := op{kind: opNumeric}
	if len(items) == 0 {
		return o, &compileError{path, "numeric expression must not be empty"}
	}
	opAt := func(i int) (string, error) {
		nd := &c.d.nodes[items[i]]
		if nd.kind != kStr {
			return "", &compileError{path, fmt.Sprintf("numeric: expected an operator string at position %d", i)}
		}
		return string(nd.val), nil
	}
	valAt := func(i int, oper string) (int64, error) {
		if i >= len(items) {
			return 0, &compileError{path, fmt.Sprintf("numeric: missing value for %q", oper)}
		}
		return numberArg(&c.d.nodes[items[i]], path, fmt.Sprintf("numeric: value of %q", oper))
	}
	first, err := opAt(0)
	if err != nil {
		return o, err
	}
	v, err := valAt(1, first)
	if err != nil {
		if first != "=" && first != "<" && first != "<=" && first != ">" && first != ">=" {
			return o, &compileError{path, fmt.Sprintf("numeric: unknown operator %q", first)}
		}
		return o, err
	}
	switch first {
	case "=":
		o.lo, o.hi, o.hasLo, o.hasHi, o.loIncl, o.hiIncl = v, v, true, true, true, true
		if len(items) > 2 {
			return o, &compileError{path, "numeric: too many elements after \"=\""}
		}
		return o, nil
	case "<", "<=":
		o.hi, o.hasHi, o.hiIncl = v, true, first == "<="
		if len(items) > 2 {
			return o, &compileError{path, fmt.Sprintf("numeric: too many elements; an upper bound (%q) must come last", first)}
		}
		return o, nil
	case ">", ">=":
		o.lo, o.hasLo, o.loIncl = v, true, first == ">="
	default:
		return o, &compileError{path, fmt.Sprintf("numeric: unknown operator %q", first)}
	}
	if len(items) == 2 {
		return o, nil
	}
	second, err := opAt(2)
	if err != nil {
		return o, err
	}
	switch second {
	case "<", "<=":
	case ">", ">=":
		return o, &compileError{path, fmt.Sprintf("numeric: a range cannot have two lower bounds (%q then %q)", first, second)}
	case "=":
		return o, &compileError{path, "numeric: \"=\" cannot be combined with other operators"}
	default:
		return o, &compileError{path, fmt.Sprintf("numeric: unknown operator %q", second)}
	}
	v2, err := valAt(3, second)
	if err != nil {
		return o, err
	}
	if len(items) > 4 {
		return o, &compileError{path, "numeric: too many elements in range expression"}
	}
	o.hi, o.hasHi, o.hiIncl = v2, true, second == "<="
	if o.lo >= o.hi {
		return o, &compileError{path, "numeric: lower bound must be less than upper bound"}
	}
	return o, nil
}

func (c *compiler) anythingBut(idx int32, path string) (op, error) {
	a := &c.d.nodes[idx]
	switch a.kind {
	case kStr:
		return op{kind: opAnythingButStr, set: map[string]struct{}{string(a.val): {}}}, nil
	case kNum:
		v, err := numberArg(a, path, "anything-but value")
		if err != nil {
			return op{}, err
		}
		return op{kind: opAnythingButNum, nums: map[int64]struct{}{v: {}}}, nil
	case kArr:
		items := c.d.children(idx)
		if len(items) == 0 {
			return op{}, &compileError{path, "anything-but list must not be empty"}
		}
		first := c.d.nodes[items[0]].kind
		if first == kStr {
			set := make(map[string]struct{}, len(items))
			for _, it := range items {
				nd := &c.d.nodes[it]
				if nd.kind != kStr {
					return op{}, &compileError{path, "anything-but list must contain only strings or only numbers"}
				}
				set[string(nd.val)] = struct{}{}
			}
			return op{kind: opAnythingButStr, set: set}, nil
		}
		if first == kNum {
			nums := make(map[int64]struct{}, len(items))
			for _, it := range items {
				nd := &c.d.nodes[it]
				if nd.kind != kNum {
					return op{}, &compileError{path, "anything-but list must contain only strings or only numbers"}
				}
				v, err := numberArg(nd, path, "anything-but value")
				if err != nil {
					return op{}, err
				}
				nums[v] = struct{}{}
			}
			return op{kind: opAnythingButNum, nums: nums}, nil
		}
		return op{}, &compileError{path, "anything-but list must contain only strings or only numbers"}
	case kObj:
		kids := c.d.children(idx)
		if len(kids) != 1 {
			return op{}, &compileError{path, fmt.Sprintf("anything-but object must contain exactly one key, got %d", len(kids))}
		}
		inner := &c.d.nodes[kids[0]]
		name := string(inner.key)
		switch name {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return op{}, &compileError{path, fmt.Sprintf("unsupported anything-but operator %q", name)}
		}
		var vals []string
		switch inner.kind {
		case kStr:
			vals = []string{string(inner.val)}
		case kArr:
			items := c.d.children(kids[0])
			if len(items) == 0 {
				return op{}, &compileError{path, fmt.Sprintf("anything-but %s list must not be empty", name)}
			}
			for _, it := range items {
				nd := &c.d.nodes[it]
				if nd.kind != kStr {
					return op{}, &compileError{path, fmt.Sprintf("anything-but %s values must be strings", name)}
				}
				vals = append(vals, string(nd.val))
			}
		}
		if vals == nil {
			return op{}, &compileError{path, fmt.Sprintf("anything-but %s value must be a string or a list of strings", name)}
		}
		switch name {
		case "prefix", "suffix":
			for _, v := range vals {
				if v == "" {
					return op{}, &compileError{path, fmt.Sprintf("anything-but %s value must not be empty", name)}
				}
			}
			k := opAnythingButPrefix
			if name == "suffix" {
				k = opAnythingButSuffix
			}
			return op{kind: k, strs: vals}, nil
		case "equals-ignore-case":
			set := make(map[string]struct{}, len(vals))
			for _, v := range vals {
				set[foldString(v)] = struct{}{}
			}
			return op{kind: opAnythingButFold, set: set}, nil
		default: // wildcard
			o := op{kind: opAnythingButWildcard}
			for _, v := range vals {
				w, err := parseWildcard(v)
				if err != nil {
					return op{}, &compileError{path, "anything-but wildcard: " + err.Error()}
				}
				o.wcs = append(o.wcs, w)
			}
			return o, nil
		}
	}
	return op{}, &compileError{path, "value of anything-but must be a string, a number, a list of strings or numbers, or an object"}
}

func parseCIDR(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') < 0 {
		return netip.Prefix{}, fmt.Errorf("malformed cidr %q: expected address/prefix-length", s)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("malformed cidr %q", s)
	}
	return p.Masked(), nil
}
