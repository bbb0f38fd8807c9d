// Package mapping turns a producer's JSON payload into a CloudEvent by a declarative
// mapping document (where each attribute comes from: payload paths, request headers,
// constants, templates), with drop and keep rules, and ships mappings for the
// producers eventhub knows as presets.
package mapping

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
	"github.com/eventhub/eventhub/shared/pattern"
)

// Limits of a mapping document.
const (
	maxDoc        = 64 << 10 // bytes of the document
	maxTemplate   = 1 << 10  // bytes of one template
	maxExtensions = 64
	maxDepth      = 32 // steps of a path
	maxRules      = 64 // drop rules, and keep rules
	maxRuleName   = 64
)

// Input is one request to map.
type Input struct {
	Body     []byte
	Headers  map[string]string // lower-case names
	SourceID string
}

// Result is what a payload becomes: an event, or the name of the rule that dropped it
// ("keep" when keep rules exist and none matched).
type Result struct {
	Event   *cloudevent.Event // nil when dropped
	Dropped string
}

// A Mapping is a compiled mapping document, safe for concurrent use.
type Mapping struct {
	attrs      []*value // id, source, type, subject, time, datacontenttype, dataschema, then extensions by name
	checks     []check
	data       *dataSpec
	drop, keep []rule
	idFallback bool
	headers    []string
	root       *node
	slots      []string // the payload path of each slot, as errors name it
	hash       bool     // a value reads the content hash
}

type rule struct {
	name string
	p    *pattern.Pattern
}

// The mapping document, as it is written.
type document struct {
	ID              *valueDoc            `json:"id"`
	Type            *valueDoc            `json:"type"`
	Source          *valueDoc            `json:"source"`
	Subject         *valueDoc            `json:"subject"`
	Time            *valueDoc            `json:"time"`
	DataContentType *valueDoc            `json:"datacontenttype"`
	DataSchema      *valueDoc            `json:"dataschema"`
	Extensions      map[string]*valueDoc `json:"extensions"`
	Data            *dataDoc             `json:"data"`
	Checks          []checkDoc           `json:"checks"`
	Drop            []ruleDoc            `json:"drop"`
	Keep            []ruleDoc            `json:"keep"`
	IDFallback      *string              `json:"idFallback"`
}

type valueDoc struct {
	Path     *string           `json:"path"`
	Header   *string           `json:"header"`
	Const    *string           `json:"const"`
	Template *string           `json:"template"`
	Hash     *bool             `json:"hash"`
	Map      map[string]string `json:"map"`
	Default  *string           `json:"default"`
	Optional bool              `json:"optional"`
	Format   *string           `json:"format"`
	Or       *valueDoc         `json:"or"`
	As       *string           `json:"as"`
}

type dataDoc struct {
	Path     *string              `json:"path"`
	Parse    []string             `json:"parse"`
	Set      map[string]*valueDoc `json:"set"`
	Optional bool                 `json:"optional"`
}

type checkDoc struct {
	Path     string   `json:"path"`
	Required bool     `json:"required"`
	Is       []string `json:"is"`
	OneOf    []string `json:"oneOf"`
	Items    []string `json:"items"`
}

type ruleDoc struct {
	Name    string         `json:"name"`
	Pattern jsontext.Value `json:"pattern"`
}

// Compile reads and validates a mapping document. Errors are *fault.Error values
// (Invalid) whose Path names the wrong part of the document, "mapping.time.format".
func Compile(doc []byte) (*Mapping, error) {
	if len(doc) > maxDoc {
		return nil, &fault.Error{Code: fault.Invalid, Path: "mapping", Message: fmt.Sprintf("is %d bytes, over the limit of %d", len(doc), maxDoc)}
	}
	var d document
	if err := json.Unmarshal(doc, &d, json.RejectUnknownMembers(true)); err != nil {
		return nil, docError(doc, err)
	}
	c := compiler{m: &Mapping{root: newNode()}}
	return c.compile(&d)
}

type compiler struct {
	m       *Mapping
	headers map[string]bool
}

// attribute names, in the order Apply fills them.
var specAttrs = [...]string{"id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}

// reserved names no extension may take: the spec's attributes and eventhub's dataref.
var reserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true, "time": true,
	"datacontenttype": true, "dataschema": true, "data": true, "dataref": true,
}

func (c *compiler) compile(d *document) (*Mapping, error) {
	m := c.m
	docs := [...]*valueDoc{d.ID, d.Source, d.Type, d.Subject, d.Time, d.DataContentType, d.DataSchema}
	for i, vd := range docs {
		name := specAttrs[i]
		if vd == nil {
			if i <= 2 {
				return nil, fault.At("mapping."+name, "is required")
			}
			continue
		}
		v, err := c.value(name, "mapping."+name, i, vd)
		if err != nil {
			return nil, err
		}
		m.attrs = append(m.attrs, v)
	}
	if len(d.Extensions) > maxExtensions {
		return nil, fault.At("mapping.extensions", "has %d attributes, over the limit of %d", len(d.Extensions), maxExtensions)
	}
	for _, name := range slices.Sorted(maps.Keys(d.Extensions)) {
		at := "mapping.extensions." + name
		if !extensionName(name) {
			return nil, fault.At(at, "extension names are 1 to 20 lower-case letters and digits")
		}
		if reserved[name] {
			return nil, fault.At(at, "%q is a CloudEvents attribute, not an extension", name)
		}
		vd := d.Extensions[name]
		if vd == nil {
			return nil, fault.At(at, "must be an object")
		}
		v, err := c.value(name, at, fieldExtension, vd)
		if err != nil {
			return nil, err
		}
		m.attrs = append(m.attrs, v)
	}
	if err := c.dataSpec(d.Data); err != nil {
		return nil, err
	}
	if err := c.checks(d.Checks); err != nil {
		return nil, err
	}
	var err error
	if m.drop, err = rules("mapping.drop", d.Drop); err != nil {
		return nil, err
	}
	if d.Keep != nil && len(d.Keep) == 0 {
		return nil, fault.At("mapping.keep", "must hold at least one rule when present")
	}
	if m.keep, err = rules("mapping.keep", d.Keep); err != nil {
		return nil, err
	}
	for _, k := range m.keep {
		for _, dr := range m.drop {
			if k.name == dr.name {
				return nil, fault.At("mapping.keep", "rule name %q is also a drop rule's", k.name)
			}
		}
	}
	if d.IDFallback != nil {
		if *d.IDFallback != "hash" {
			return nil, fault.At("mapping.idFallback", `must be "hash"`)
		}
		m.idFallback = true
		m.hash = true
	}
	m.headers = slices.Sorted(maps.Keys(c.headers))
	return m, nil
}

func extensionName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// value compiles the document of one attribute; at is its place in the document,
// field the attribute's (an index in specAttrs, fieldExtension or fieldData).
func (c *compiler) value(attr, at string, field int, vd *valueDoc) (*value, error) {
	v := &value{attr: attr, field: field, optional: vd.Optional, vmap: vd.Map}
	n := 0
	if vd.Path != nil {
		n++
		p, msg := parsePath(*vd.Path)
		if msg != "" {
			return nil, fault.At(at+".path", "%s", msg)
		}
		v.src = ref{kind: refPath, slot: c.m.root.add(p, &c.m.slots)}
	}
	if vd.Header != nil {
		n++
		h, err := c.header(at+".header", *vd.Header)
		if err != nil {
			return nil, err
		}
		v.src = ref{kind: refHeader, header: h}
	}
	if vd.Const != nil {
		n++
		v.src = ref{kind: refConst, text: *vd.Const}
	}
	if vd.Hash != nil {
		n++
		if !*vd.Hash {
			return nil, fault.At(at+".hash", "must be true when present")
		}
		v.src = ref{kind: refHash}
		c.m.hash = true
	}
	if vd.Template != nil {
		n++
		t, err := c.template(at+".template", *vd.Template)
		if err != nil {
			return nil, err
		}
		v.tmpl, v.isTmpl = t, true
	}
	if n != 1 {
		return nil, fault.At(at, "must have exactly one of path, header, const, template or hash")
	}
	if vd.Default != nil {
		v.def, v.hasDef = *vd.Default, true
	}
	if vd.Map != nil && len(vd.Map) == 0 {
		return nil, fault.At(at+".map", "must not be empty when present")
	}
	if vd.Format != nil {
		if attr != "time" || at != "mapping.time" {
			return nil, fault.At(at+".format", "only the time has a format")
		}
		f, layout, msg := timeFormat(*vd.Format)
		if msg != "" {
			return nil, fault.At(at+".format", "%s", msg)
		}
		v.time, v.layout = f, layout
	} else if at == "mapping.time" {
		v.time = timeAuto
	}
	if vd.As != nil {
		if !strings.HasPrefix(at, "mapping.data.set.") {
			return nil, fault.At(at+".as", "only the members data.set writes have a JSON type")
		}
		switch *vd.As {
		case "string":
		case "number":
			v.asNumber = true
		default:
			return nil, fault.At(at+".as", `must be "string" or "number"`)
		}
	}
	if vd.Or != nil {
		if vd.Optional || vd.Default != nil {
			return nil, fault.At(at+".or", "is tried when the value is absent: it cannot follow optional or default")
		}
		or, err := c.value(attr, at+".or", field, vd.Or)
		if err != nil {
			return nil, err
		}
		or.time, or.layout = v.time, v.layout
		v.or = or
	}
	if v.src.kind == refConst && v.time == 0 && vd.Map == nil {
		if err := checkConst(attr, *vd.Const); err != nil {
			return nil, fault.At(at+".const", "%s", err)
		}
	}
	return v, nil
}

// checkConst refuses a constant the event could never carry.
func checkConst(attr, s string) error {
	switch attr {
	case "id", "source", "type":
		if s == "" {
			return errors.New("must not be empty")
		}
	}
	return nil
}

// credentialHeaders are the request headers that carry a producer's credential: no
// mapping may copy them into an event.
var credentialHeaders = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
	"x-amz-security-token", "x-gitlab-token", "webhook-signature",
}

// credentialHeaderPrefixes are the prefixes of such headers' names.
var credentialHeaderPrefixes = []string{"x-hub-signature"}

func (c *compiler) header(at, name string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(name))
	if h == "" || len(h) > 128 || strings.ContainsAny(h, " \t\r\n:{}") {
		return "", fault.At(at, "must be an HTTP header name")
	}
	secret := slices.Contains(credentialHeaders, h)
	for _, p := range credentialHeaderPrefixes {
		secret = secret || strings.HasPrefix(h, p)
	}
	if secret {
		return "", fault.At(at, "header %q carries a credential: a mapping cannot read it", h)
	}
	if c.headers == nil {
		c.headers = map[string]bool{}
	}
	c.headers[h] = true
	return h, nil
}

// template compiles "literal {ref} literal": a ref is a path ($...), header:name,
// sourceId or hash, with an optional literal prefix ("{.$.action}") that makes it
// optional: the prefix and the value are written when the value is present, nothing
// otherwise. "{{" and "}}" write braces.
func (c *compiler) template(at, s string) ([]piece, error) {
	if len(s) > maxTemplate {
		return nil, fault.At(at, "is %d bytes, over the limit of %d", len(s), maxTemplate)
	}
	var out []piece
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			out = append(out, piece{lit: string(lit)})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				lit = append(lit, '{')
				i++
				continue
			}
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fault.At(at, "has an unclosed '{' at %d", i)
			}
			p, err := c.reference(at, s[i+1:i+end], i)
			if err != nil {
				return nil, err
			}
			flush()
			out = append(out, p)
			i += end
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				lit = append(lit, '}')
				i++
				continue
			}
			return nil, fault.At(at, "has an unmatched '}' at %d: write }} for a brace", i)
		default:
			lit = append(lit, s[i])
		}
	}
	flush()
	return out, nil
}

// reference compiles the inside of a template's braces.
func (c *compiler) reference(at, s string, off int) (piece, error) {
	var p piece
	var name string
	switch {
	case strings.Contains(s, "$"):
		i := strings.IndexByte(s, '$')
		p.prefix, name = s[:i], s[i:]
		pa, msg := parsePath(name)
		if msg != "" {
			return p, fault.At(at, "reference at %d: path %s", off, msg)
		}
		p.ref = ref{kind: refPath, slot: c.m.root.add(pa, &c.m.slots)}
	case strings.Contains(s, "header:"):
		i := strings.Index(s, "header:")
		p.prefix = s[:i]
		h, err := c.header(at, s[i+len("header:"):])
		if err != nil {
			return p, err
		}
		p.ref = ref{kind: refHeader, header: h}
	case strings.HasSuffix(s, "sourceId"):
		p.prefix = strings.TrimSuffix(s, "sourceId")
		p.ref = ref{kind: refSourceID}
	case strings.HasSuffix(s, "hash"):
		p.prefix = strings.TrimSuffix(s, "hash")
		p.ref = ref{kind: refHash}
		c.m.hash = true
	default:
		return p, fault.At(at, "reference {%s} at %d: want {$.path}, {header:name}, {sourceId} or {hash}, optionally after a prefix: {.$.action}", s, off)
	}
	p.isRef = true
	return p, nil
}

// dataSpec compiles what becomes data: the whole payload unless told otherwise.
func (c *compiler) dataSpec(d *dataDoc) error {
	spec := &dataSpec{}
	p := path{}
	if d != nil {
		if d.Path == nil {
			return fault.At("mapping.data.path", "is required")
		}
		var msg string
		if p, msg = parsePath(*d.Path); msg != "" {
			return fault.At("mapping.data.path", "%s", msg)
		}
		spec.optional = d.Optional
		if len(d.Parse) > maxExtensions {
			return fault.At("mapping.data.parse", "has %d paths, over the limit of %d", len(d.Parse), maxExtensions)
		}
		var parsed []path
		for i, s := range d.Parse {
			at := "mapping.data.parse[" + strconv.Itoa(i) + "]"
			q, msg := parsePath(s)
			if msg != "" {
				return fault.At(at, "%s", msg)
			}
			if len(q) == len(p) || !q.under(p) {
				return fault.At(at, "must lie inside the data (%s)", p)
			}
			for _, o := range parsed {
				if q.under(o) || o.under(q) {
					return fault.At(at, "overlaps %s", o)
				}
			}
			parsed = append(parsed, q)
			spec.parse = append(spec.parse, c.m.root.add(q, &c.m.slots))
		}
		if len(d.Set) > maxExtensions {
			return fault.At("mapping.data.set", "has %d members, over the limit of %d", len(d.Set), maxExtensions)
		}
		for _, name := range slices.Sorted(maps.Keys(d.Set)) {
			at := "mapping.data.set." + name
			if d.Set[name] == nil {
				return fault.At(at, "must be an object")
			}
			member := append(append(path{}, p...), step{name: name, index: -1})
			for _, q := range parsed {
				if q.under(member) {
					return fault.At(at, "overlaps %s of data.parse", q)
				}
			}
			v, err := c.value(name, at, fieldData, d.Set[name])
			if err != nil {
				return err
			}
			spec.set = append(spec.set, setMember{name: name, v: v, slot: c.m.root.add(member, &c.m.slots)})
		}
	}
	spec.slot = c.m.root.add(p, &c.m.slots)
	c.m.data = spec
	return nil
}

// kindBits are the JSON kinds checks name.
var kindBits = map[string]uint8{
	"string": 1 << 0, "number": 1 << 1, "integer": 1 << 2, "boolean": 1 << 3,
	"object": 1 << 4, "array": 1 << 5, "null": 1 << 6,
}

func kinds(at string, names []string) (uint8, error) {
	var k uint8
	for i, n := range names {
		b, ok := kindBits[n]
		if !ok {
			return 0, fault.At(at+"["+strconv.Itoa(i)+"]", "must be string, number, integer, boolean, object, array or null")
		}
		k |= b
	}
	return k, nil
}

func (c *compiler) checks(docs []checkDoc) error {
	if len(docs) > maxExtensions {
		return fault.At("mapping.checks", "has %d checks, over the limit of %d", len(docs), maxExtensions)
	}
	for i, d := range docs {
		at := "mapping.checks[" + strconv.Itoa(i) + "]"
		p, msg := parsePath(d.Path)
		if msg != "" {
			return fault.At(at+".path", "%s", msg)
		}
		ck := check{slot: c.m.root.add(p, &c.m.slots), required: d.Required}
		var err error
		if ck.is, err = kinds(at+".is", d.Is); err != nil {
			return err
		}
		if ck.items, err = kinds(at+".items", d.Items); err != nil {
			return err
		}
		if d.OneOf != nil {
			if len(d.OneOf) == 0 || len(d.OneOf) > maxRules {
				return fault.At(at+".oneOf", "must hold 1 to %d strings", maxRules)
			}
			ck.oneOf = d.OneOf
		}
		if !ck.required && ck.is == 0 && ck.items == 0 && ck.oneOf == nil {
			return fault.At(at, "checks nothing: give required, is, oneOf or items")
		}
		c.m.checks = append(c.m.checks, ck)
	}
	return nil
}

func rules(at string, docs []ruleDoc) ([]rule, error) {
	if len(docs) > maxRules {
		return nil, fault.At(at, "has %d rules, over the limit of %d", len(docs), maxRules)
	}
	out := make([]rule, 0, len(docs))
	for i, d := range docs {
		here := at + "[" + strconv.Itoa(i) + "]"
		if !ruleName(d.Name) {
			return nil, fault.At(here+".name", "must be 1 to %d letters, digits, '.', '_' or '-'", maxRuleName)
		}
		if d.Name == "keep" {
			return nil, fault.At(here+".name", `"keep" names what keep rules drop`)
		}
		for _, o := range out {
			if o.name == d.Name {
				return nil, fault.At(here+".name", "%q names two rules", d.Name)
			}
		}
		if d.Pattern == nil {
			return nil, fault.At(here+".pattern", "is required")
		}
		p, err := pattern.Compile(d.Pattern)
		if err != nil {
			return nil, patternError(here+".pattern", err)
		}
		out = append(out, rule{name: d.Name, p: p})
	}
	return out, nil
}

func ruleName(s string) bool {
	if s == "" || len(s) > maxRuleName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// patternError places a pattern compiler's error ("pattern: detail.x: reason") in the
// document.
func patternError(at string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "pattern: ")
	if i := strings.Index(msg, ": "); i > 0 && !strings.ContainsAny(msg[:i], " \"") {
		return fault.At(at+"."+msg[:i], "%s", msg[i+2:])
	}
	return fault.At(at, "%s", msg)
}

// docError turns a decoding error of the document into a fault naming its place.
func docError(doc []byte, err error) error {
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		at := "mapping"
		if p := fault.PointerPath(sem.JSONPointer); p != "" {
			at += "." + p
		}
		switch {
		case errors.Is(sem.Err, json.ErrUnknownName):
			return fault.At(at, "unknown member")
		case sem.JSONKind != 0 && sem.GoType != nil:
			return fault.At(at, "must be %s, not %s", goKind(sem.GoType.String()), jsonobject.KindName(sem.JSONKind))
		case sem.Err != nil:
			return fault.At(at, "%s", sem.Err)
		}
		return fault.At(at, "is malformed")
	}
	e := fault.Text(doc, err)
	if fe, ok := fault.As(e); ok {
		fe.Path = "mapping" + dotted(fe.Path)
		return fe
	}
	return fault.At("mapping", "%v", err)
}

func dotted(p string) string {
	if p == "" || strings.HasPrefix(p, "[") {
		return p
	}
	return "." + p
}

func goKind(t string) string {
	switch {
	case t == "string" || t == "*string":
		return "a string"
	case t == "bool" || t == "*bool":
		return "a boolean"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "*mapping."), strings.HasPrefix(t, "mapping."):
		return "an object"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	}
	return "a JSON value"
}

// Headers returns the lower-case names of the request headers the mapping reads.
func (m *Mapping) Headers() []string { return slices.Clone(m.headers) }

// time formats
const (
	timeNone = iota
	timeAuto
	timeUnix
	timeUnixMS
	timeRFC3339
	timeLayout
)

func timeFormat(s string) (int, string, string) {
	switch s {
	case "auto":
		return timeAuto, "", ""
	case "unix":
		return timeUnix, "", ""
	case "unixms":
		return timeUnixMS, "", ""
	case "rfc3339":
		return timeRFC3339, "", ""
	}
	if len(s) > 64 {
		return 0, "", "is too long for a layout"
	}
	// A layout must hold a year and survive a round trip of a reference time.
	ref := time.Date(2026, 11, 23, 10, 4, 5, 0, time.UTC)
	if !strings.Contains(s, "2006") && !strings.Contains(s, "06") {
		return 0, "", `must be "auto", "unix", "unixms", "rfc3339" or a Go time layout (with a year, "2006")`
	}
	if _, err := time.Parse(s, ref.Format(s)); err != nil {
		return 0, "", fmt.Sprintf("is not a usable Go time layout: %v", err)
	}
	return timeLayout, s, ""
}
