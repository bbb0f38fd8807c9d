package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// fieldExtension marks a value that fills an extension attribute, fieldData one that
// writes a member of the data.
const (
	fieldExtension = -1
	fieldData      = -2
)

// A value is where one attribute comes from.
type value struct {
	attr     string // the attribute's name, for errors
	field    int    // index in specAttrs, or fieldExtension
	src      ref    // unless isTmpl
	tmpl     []piece
	isTmpl   bool
	vmap     map[string]string
	def      string
	hasDef   bool
	optional bool
	time     int
	layout   string
	or       *value // tried when the value is absent
	asNumber bool   // data.set writes the text as a JSON number
}

const (
	refPath = iota + 1
	refHeader
	refConst
	refHash
	refSourceID
)

type ref struct {
	kind   int
	slot   int    // refPath
	header string // refHeader
	text   string // refConst
}

// piece is a template's literal text or reference.
type piece struct {
	lit    string
	isRef  bool
	prefix string // written before the value; a reference with a prefix is optional
	ref    ref
}

type dataSpec struct {
	slot     int
	parse    []int
	set      []setMember // by name
	optional bool
}

// setMember is a member data.set writes: in place when the data has it, appended
// otherwise.
type setMember struct {
	name string
	v    *value
	slot int // the member's own slot
}

// span is where a path's value lies in the payload; end 0 means absent.
type span struct{ start, end int }

// run is the state of one Apply.
type run struct {
	m     *Mapping
	in    Input
	spans []span
	buf   []byte
	name  []byte
	hash  string
	last  *ref
	edits []edit
	// decided is, for each attribute of the mapping in order, the reference that
	// decided its value, to name in an error of the event's validation.
	decided []*ref
	dec     jsontext.Decoder
	rd      bytes.Buffer
}

var runs = sync.Pool{New: func() any { return new(run) }}

// Apply maps one payload. Errors are *fault.Error values whose Path names the payload
// member ("$.alerts[0].startsAt") or header ("header:x-github-event") that is wrong,
// and whose message names the attribute that failed.
func (m *Mapping) Apply(in Input) (Result, error) {
	r := runs.Get().(*run)
	defer func() {
		if cap(r.buf) <= 64<<10 {
			r.in, r.hash, r.decided = Input{}, "", r.decided[:0]
			r.rd.Reset()
			r.dec.Reset(&r.rd)
			runs.Put(r)
		}
	}()
	r.m, r.in = m, in
	if cap(r.spans) < len(m.slots) {
		r.spans = make([]span, len(m.slots))
	}
	r.spans = r.spans[:len(m.slots)]
	clear(r.spans)
	if err := r.scan(); err != nil {
		return Result{}, err
	}
	for _, d := range m.drop {
		ok, err := d.p.Match(in.Body)
		if err != nil {
			return Result{}, fault.At("$", "malformed JSON: %v", err)
		}
		if ok {
			return Result{Dropped: d.name}, nil
		}
	}
	if len(m.keep) > 0 {
		kept := false
		for _, k := range m.keep {
			ok, err := k.p.Match(in.Body)
			if err != nil {
				return Result{}, fault.At("$", "malformed JSON: %v", err)
			}
			if ok {
				kept = true
				break
			}
		}
		if !kept {
			return Result{Dropped: "keep"}, nil
		}
	}
	if err := r.check(); err != nil {
		return Result{}, err
	}
	ev, err := r.event()
	if err != nil {
		return Result{}, err
	}
	return Result{Event: ev}, nil
}

// scan reads the payload once, recording where each path of the mapping lies.
func (r *run) scan() error {
	body := r.in.Body
	r.rd = *bytes.NewBuffer(body)
	r.dec.Reset(&r.rd)
	if err := r.walk(r.m.root); err != nil {
		return textError(body, err)
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err != nil {
			return textError(body, err)
		}
		e := fault.New(fault.Invalid, "malformed JSON: more than one value")
		e.Offset, e.Line, e.Column = fault.Locate(body, int(r.dec.InputOffset()))
		return e
	}
	return nil
}

// textError is fault.Text with the path written as Apply's errors write paths.
func textError(body []byte, err error) error {
	err = fault.Text(body, err)
	if e, ok := fault.As(err); ok && e.Path != "" {
		e.Path = "$" + dotted(e.Path)
	}
	return err
}

func (r *run) walk(n *node) error {
	d := &r.dec
	if n.names == nil && n.elems == nil {
		if n.slot < 0 {
			return d.SkipValue()
		}
		v, err := d.ReadValue()
		if err != nil {
			return err
		}
		end := int(d.InputOffset())
		r.spans[n.slot] = span{end - len(v), end}
		return nil
	}
	start := int(d.InputOffset())
	switch d.PeekKind() {
	case '{':
		if n.names == nil {
			if err := d.SkipValue(); err != nil {
				return err
			}
			break
		}
		if _, err := d.ReadToken(); err != nil {
			return err
		}
		for d.PeekKind() == '"' {
			name, err := d.ReadValue()
			if err != nil {
				return err
			}
			var child *node
			if bytes.IndexByte(name, '\\') < 0 {
				child = n.names[string(name[1:len(name)-1])]
			} else if r.name, err = jsontext.AppendUnquote(r.name[:0], name); err == nil {
				child = n.names[string(r.name)]
			}
			if child == nil {
				err = d.SkipValue()
			} else {
				err = r.walk(child)
			}
			if err != nil {
				return err
			}
		}
		if _, err := d.ReadToken(); err != nil {
			return err
		}
	case '[':
		if n.elems == nil {
			if err := d.SkipValue(); err != nil {
				return err
			}
			break
		}
		if _, err := d.ReadToken(); err != nil {
			return err
		}
		for i := 0; d.PeekKind() != ']'; i++ {
			if d.PeekKind() == 0 {
				_, err := d.ReadToken()
				return err
			}
			var err error
			if child := n.elems[i]; child != nil {
				err = r.walk(child)
			} else {
				err = d.SkipValue()
			}
			if err != nil {
				return err
			}
		}
		if _, err := d.ReadToken(); err != nil {
			return err
		}
	default:
		if err := d.SkipValue(); err != nil {
			return err
		}
	}
	if n.slot >= 0 {
		end := int(d.InputOffset())
		for start < end && strings.IndexByte(" \t\r\n:,", r.in.Body[start]) >= 0 {
			start++
		}
		r.spans[n.slot] = span{start, end}
	}
	return nil
}

// check is what a mapping asks of a payload member besides the attributes it fills.
type check struct {
	slot     int
	required bool
	is       uint8 // kindBits; 0 allows any
	oneOf    []string
	items    uint8 // kinds the elements of an array may have
}

// check runs the mapping's checks.
func (r *run) check() error {
	for _, c := range r.m.checks {
		sp := r.spans[c.slot]
		where := r.m.slots[c.slot]
		if sp.end == 0 {
			if c.required {
				return fault.At(where, "required field is missing")
			}
			continue
		}
		raw := jsontext.Value(r.in.Body[sp.start:sp.end])
		if c.is != 0 {
			if err := isKind(where, raw, c.is); err != nil {
				return err
			}
		}
		if c.oneOf != nil {
			r.buf = r.buf[:0]
			ok := raw[0] == '"'
			if ok {
				r.buf, _ = jsontext.AppendUnquote(r.buf, raw)
				ok = slices.Contains(c.oneOf, string(r.buf))
			}
			if !ok {
				return fault.At(where, "must be %s, got %s", alternatives(c.oneOf), raw)
			}
		}
		if c.items != 0 && raw[0] == '[' {
			d := jsontext.NewDecoder(bytes.NewReader(raw))
			d.ReadToken()
			for i := 0; d.PeekKind() != ']'; i++ {
				v, err := d.ReadValue()
				if err != nil {
					return textError(raw, err)
				}
				if err := isKind(where+"["+strconv.Itoa(i)+"]", v, c.items); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// isKind checks that raw has one of the kinds.
func isKind(where string, raw jsontext.Value, want uint8) error {
	var got uint8
	switch raw[0] {
	case '"':
		got = kindBits["string"]
	case 't', 'f':
		got = kindBits["boolean"]
	case 'n':
		got = kindBits["null"]
	case '{':
		got = kindBits["object"]
	case '[':
		got = kindBits["array"]
	default:
		got = kindBits["number"]
		if bytes.IndexAny(raw, ".eE") < 0 {
			got |= kindBits["integer"]
		}
	}
	if got&want != 0 {
		return nil
	}
	var names []string
	for _, n := range [...]string{"string", "number", "integer", "boolean", "object", "array", "null"} {
		if want&kindBits[n] != 0 {
			names = append(names, article(n))
		}
	}
	return fault.At(where, "must be %s, not %s", strings.Join(names, " or "), jsonobject.KindName(raw.Kind()))
}

func article(kind string) string {
	switch kind {
	case "integer", "object", "array":
		return "an " + kind
	case "null":
		return "null"
	}
	return "a " + kind
}

// alternatives writes "A, B or C".
func alternatives(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// event builds and validates the event.
func (r *run) event() (*cloudevent.Event, error) {
	m := r.m
	ev := &cloudevent.Event{SpecVersion: cloudevent.SpecVersion}
	fields := [...]*string{&ev.ID, &ev.Source, &ev.Type, &ev.Subject, &ev.Time, &ev.DataContentType, &ev.DataSchema}
	r.decided = r.decided[:0]
	for _, v := range m.attrs {
		text, ok, err := r.value(v)
		if err != nil {
			return nil, err
		}
		r.decided = append(r.decided, r.last)
		if !ok {
			continue
		}
		if v.field == fieldExtension {
			if ev.Extensions == nil {
				ev.Extensions = make(map[string]json.RawMessage, len(m.attrs))
			}
			q, _ := jsontext.AppendQuote(nil, text)
			ev.Extensions[v.attr] = q
			continue
		}
		*fields[v.field] = text
	}
	if ev.ID == "" && m.idFallback {
		ev.ID = r.contentHash()
	}
	data, err := r.data()
	if err != nil {
		return nil, err
	}
	if data != nil {
		ev.Data = data
		if ev.DataContentType == "" {
			ev.DataContentType = "application/json"
		}
	}
	if err := ev.Validate(); err != nil {
		if e, ok := fault.As(err); ok {
			attr := e.Path
			e.Message, e.Path = attr+": "+e.Message, "$"
			for i, v := range m.attrs {
				if v.attr == attr {
					e.Path = r.where(r.decided[i])
					break
				}
			}
		}
		return nil, err
	}
	return ev, nil
}

// value evaluates one attribute: its text, or ok false when it is optional and absent.
// r.last is left at the reference that decided it.
func (r *run) value(v *value) (string, bool, error) {
	r.buf = r.buf[:0]
	var decided *ref // the reference that decided, for errors
	present := true
	if v.isTmpl {
		for i := range v.tmpl {
			p := &v.tmpl[i]
			if !p.isRef {
				r.buf = append(r.buf, p.lit...)
				continue
			}
			mark := len(r.buf)
			r.buf = append(r.buf, p.prefix...)
			ok, err := r.ref(v, p.ref)
			if err != nil {
				return "", false, err
			}
			if decided == nil {
				decided = &p.ref
			}
			if !ok || (p.prefix != "" && len(r.buf) == mark+len(p.prefix)) {
				if p.prefix != "" {
					r.buf = r.buf[:mark]
					continue
				}
				present, decided = false, &p.ref
				break
			}
		}
	} else {
		var err error
		if present, err = r.ref(v, v.src); err != nil {
			return "", false, err
		}
		decided = &v.src
	}
	if present && v.field == 0 && len(r.buf) == 0 && r.m.idFallback {
		present = false // an empty id falls back as a missing one does
	}
	r.last = decided
	if !present && v.or != nil {
		return r.value(v.or)
	}
	if !present {
		switch {
		case v.hasDef:
			r.buf = append(r.buf[:0], v.def...)
		case v.optional || (v.field == 0 && r.m.idFallback):
			return "", false, nil
		default:
			return "", false, fault.At(r.where(decided), "%s: required value is missing", v.attr)
		}
	} else if v.vmap != nil {
		if to, ok := v.vmap[string(r.buf)]; ok {
			r.buf = append(r.buf[:0], to...)
		} else if v.hasDef {
			r.buf = append(r.buf[:0], v.def...)
		} else {
			return "", false, fault.At(r.where(decided), "%s: %q is not one of the values the map knows", v.attr, r.buf)
		}
	}
	if v.time != timeNone && len(r.buf) > 0 {
		t, err := appendTime(nil, r.buf, v.time, v.layout)
		if err != nil {
			return "", false, fault.At(r.where(decided), "%s: %v, got %q", v.attr, err, r.buf)
		}
		return string(t), true, nil
	}
	if len(r.buf) == 0 && v.field >= 0 && v.field <= 2 {
		return "", false, fault.At(r.where(decided), "%s: must not be empty", v.attr)
	}
	return string(r.buf), true, nil
}

// where names a reference in errors.
func (r *run) where(f *ref) string {
	if f == nil {
		return "$"
	}
	switch f.kind {
	case refPath:
		return r.m.slots[f.slot]
	case refHeader:
		return "header:" + f.header
	}
	return "$"
}

// ref appends the text of a reference to r.buf and reports whether it is present.
func (r *run) ref(v *value, f ref) (bool, error) {
	switch f.kind {
	case refConst:
		r.buf = append(r.buf, f.text...)
	case refSourceID:
		r.buf = append(r.buf, r.in.SourceID...)
	case refHash:
		r.buf = append(r.buf, r.contentHash()...)
	case refHeader:
		h, ok := r.in.Headers[f.header]
		if !ok {
			for k, val := range r.in.Headers {
				if strings.EqualFold(k, f.header) {
					h, ok = val, true
					break
				}
			}
		}
		if !ok {
			return false, nil
		}
		if !utf8.ValidString(h) {
			return false, fault.At("header:"+f.header, "%s: must be valid UTF-8", v.attr)
		}
		r.buf = append(r.buf, h...)
	case refPath:
		sp := r.spans[f.slot]
		if sp.end == 0 {
			return false, nil
		}
		raw := r.in.Body[sp.start:sp.end]
		switch raw[0] {
		case '"':
			if bytes.IndexByte(raw, '\\') < 0 {
				r.buf = append(r.buf, raw[1:len(raw)-1]...)
			} else {
				var err error
				if r.buf, err = jsontext.AppendUnquote(r.buf, raw); err != nil {
					return false, fault.At(r.m.slots[f.slot], "%s: %v", v.attr, err)
				}
			}
		case 'n':
			return false, nil
		case '{':
			return false, fault.At(r.m.slots[f.slot], "%s: must be a string, number or boolean, not an object", v.attr)
		case '[':
			return false, fault.At(r.m.slots[f.slot], "%s: must be a string, number or boolean, not an array", v.attr)
		default:
			r.buf = append(r.buf, raw...)
		}
	}
	return true, nil
}

// data returns the event's data: the value at the data path, with the members named
// by parse decoded from the JSON text they carry and the members of set written.
func (r *run) data() (json.RawMessage, error) {
	d := r.m.data
	sp := r.spans[d.slot]
	if sp.end == 0 {
		if d.optional {
			return nil, nil
		}
		return nil, fault.At(r.m.slots[d.slot], "data: required value is missing")
	}
	body := r.in.Body
	whole := json.RawMessage(body[sp.start:sp.end])
	if len(d.parse) == 0 && len(d.set) == 0 {
		return whole, nil
	}
	edits := r.edits[:0]
	for _, slot := range d.parse {
		p := r.spans[slot]
		if p.end == 0 || body[p.start] != '"' {
			continue
		}
		text, err := jsontext.AppendUnquote(nil, body[p.start:p.end])
		if err != nil {
			continue
		}
		// As the adapters do: JSON text that repeats a name stays a string.
		v, ok := jsonobject.EmbeddedText(text)
		if !ok {
			continue
		}
		edits = append(edits, edit{p.start, p.end, v})
	}
	var tail []byte // members set appends
	if len(d.set) > 0 && whole[0] != '{' {
		return nil, fault.At(r.m.slots[d.slot], "data: must be an object to set members in it")
	}
	for _, m := range d.set {
		text, ok, err := r.value(m.v)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var raw []byte
		if m.v.asNumber {
			if v := jsontext.Value(text); v.Kind() != '0' || !v.IsValid() {
				return nil, fault.At(r.where(&m.v.src), "%s: must be a number, got %q", m.name, text)
			}
			raw = []byte(text)
		} else {
			raw, _ = jsontext.AppendQuote(nil, text)
		}
		if p := r.spans[m.slot]; p.end != 0 {
			edits = append(edits, edit{p.start, p.end, raw})
			continue
		}
		if len(tail) > 0 || bytes.ContainsFunc(whole[1:len(whole)-1], notSpace) {
			tail = append(tail, ',')
		}
		tail, _ = jsontext.AppendQuote(tail, m.name)
		tail = append(tail, ':')
		tail = append(tail, raw...)
	}
	r.edits = edits
	if len(edits) == 0 && tail == nil {
		return whole, nil
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	out := make([]byte, 0, len(whole)+len(tail)+64)
	at := sp.start
	for _, e := range edits {
		out = append(out, body[at:e.start]...)
		out = append(out, e.with...)
		at = e.end
	}
	if tail == nil {
		return append(out, body[at:sp.end]...), nil
	}
	out = append(out, body[at:sp.end-1]...)
	out = append(out, tail...)
	return append(out, '}'), nil
}

// edit replaces body[start:end] in the data.
type edit struct {
	start, end int
	with       []byte
}

func notSpace(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' }

// contentHash is the id of a payload that has none: the content id eventhub's generic
// events have always had (jsonobject.ContentID), which neither white space, member
// order nor the escapes a JSON encoder chooses change, so that the same payload is the
// same id at ingest, off the bus in normalize, and sent again by the producer.
func (r *run) contentHash() string {
	if r.hash == "" {
		r.hash = jsonobject.ContentID(r.in.Body)
	}
	return r.hash
}

// appendRFC3339 appends t, parsed from s, as RFC 3339 writes it: s itself when it is
// already written so (in UTC, "Z", fractions without trailing zeros).
func appendRFC3339(dst []byte, t time.Time, s string) []byte {
	if n := len(s); n >= 20 && s[n-1] == 'Z' && s[n-2] != '0' && (s[n-2] != '.' || n == 20) && (n == 20 || s[19] == '.') {
		return append(dst, s...)
	}
	return t.AppendFormat(dst, time.RFC3339Nano)
}

// appendTime reads text in the format and appends it in RFC 3339.
func appendTime(dst, text []byte, format int, layout string) ([]byte, error) {
	s := string(bytes.TrimSpace(text))
	switch format {
	case timeRFC3339:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return dst, fmt.Errorf("must be an RFC 3339 timestamp")
		}
		return appendRFC3339(dst, t, s), nil
	case timeLayout:
		t, err := time.Parse(layout, s)
		if err != nil {
			return dst, fmt.Errorf("must be a time in the layout %q", layout)
		}
		return t.AppendFormat(dst, time.RFC3339Nano), nil
	case timeAuto:
		if len(s) >= 20 && s[4] == '-' {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return appendRFC3339(dst, t, s), nil
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		switch format {
		case timeUnix:
			return dst, fmt.Errorf("must be Unix seconds")
		case timeUnixMS:
			return dst, fmt.Errorf("must be Unix milliseconds")
		}
		return dst, fmt.Errorf("must be an RFC 3339 timestamp or Unix seconds")
	}
	if format == timeUnixMS || (format == timeAuto && f >= 1e12) {
		f /= 1000
	}
	return jsonobject.AppendUnix(dst, f)
}
