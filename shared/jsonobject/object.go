// Package jsonobject reads a producer's JSON object once, with jsontext, into its
// members; gives them typed, with errors that name the JSON path of what is wrong;
// writes the object again with members replaced; and derives ids from content.
package jsonobject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/fault"
)

// Member is one member of an object: its name (unescaped) and its value's JSON text.
// Spaced reports whether the value has whitespace between its tokens.
type Member struct {
	Name   []byte
	Value  json.RawMessage
	Spaced bool
}

// span is where a member is in an object's text: raw[nameStart:nameEnd] is its name
// (unescaped) and raw[valueStart:valueEnd] its value. It holds no pointers.
type span struct {
	nameStart, nameEnd, valueStart, valueEnd int32
	spaced                                   bool
}

// Object is a decoded JSON object: its members in the order they were sent, each name
// once.
type Object struct {
	path  string // JSON path of the object itself, "" at the top
	raw   []byte // the text the members are in
	spans []span
	// text is the object's JSON text when it is what Compose writes without sets: no
	// whitespace, and names that AppendQuote writes as they are.
	text []byte
	// unescaped is set when raw is not the object's JSON text but its names, unescaped,
	// and its values, one after the other (a name had escapes).
	unescaped bool
	buf       [8]span // spans of a small object, in the same allocation
}

func (o *Object) member(i int) Member {
	s := o.spans[i]
	return Member{Name: o.raw[s.nameStart:s.nameEnd], Value: o.raw[s.valueStart:s.valueEnd], Spaced: s.spaced}
}

func (o *Object) name(i int) []byte { return o.raw[o.spans[i].nameStart:o.spans[i].nameEnd] }

// Decode reads one JSON object. It refuses empty input, invalid UTF-8, malformed JSON
// (located by offset, line and column), JSON that is not an object, and objects, at
// any depth, that repeat a member name (a repeated "id" would make the event
// ambiguous, and a repeated name in data would let two readers see different events).
// The object keeps slices of a copy of raw.
func Decode(raw []byte) (*Object, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object")
	}
	return DecodeShared(bytes.Clone(raw))
}

// DecodeShared is Decode without the copy: the object, and what is made of it, keep
// slices of raw, which the caller must not change afterwards.
func DecodeShared(raw []byte) (*Object, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object")
	}
	return decode(raw, "", true)
}

// reader is a jsontext decoder kept for the next object: a new one costs more than a
// small event's reading.
type reader struct {
	dec jsontext.Decoder
	buf bytes.Buffer
}

var readers = sync.Pool{New: func() any { return new(reader) }}

func getReader(raw []byte, opts ...jsontext.Options) *reader {
	r := readers.Get().(*reader)
	r.buf = *bytes.NewBuffer(raw)
	r.dec.Reset(&r.buf, opts...)
	return r
}

// allowDuplicates reads text already read with duplicate names refused, or whose
// reader finds them itself.
var allowDuplicates = jsontext.AllowDuplicateNames(true)

// put returns the reader to the pool. It keeps the bytes it read until its next use
// or the pool's cleaning at a garbage collection: resetting it costs more.
func (r *reader) put() { readers.Put(r) }

// decode splits the JSON object raw into its members; top reads raw as a whole
// document (nothing may follow the object), else as a valid value of the member at
// path.
func decode(raw []byte, path string, top bool) (*Object, error) {
	var r *reader
	if top {
		r = getReader(raw)
	} else {
		r = getReader(raw, allowDuplicates) // read before, and found to repeat none
	}
	defer r.put()
	dec := &r.dec
	if k := dec.PeekKind(); k != '{' {
		v, err := dec.ReadValue()
		if err == nil && top {
			err = end(dec, raw)
		}
		if err != nil {
			return nil, textError(raw, err)
		}
		return nil, fault.At(joinPath(path, "$"), "must be a JSON object, not %s", kindOf(v))
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, textError(raw, err)
	}
	o := &Object{path: path, raw: raw}
	spans := o.buf[:0]
	var names []string // unescaped, once a name has escapes
	for {
		before := int(dec.InputOffset())
		tok, err := dec.ReadToken() // a name, or the end: a token is cheaper than a value
		if err != nil {
			return nil, textError(raw, err)
		}
		if tok.Kind() == '}' {
			break
		}
		nameEnd := int32(dec.InputOffset())
		name := raw[nameStart(raw, before):nameEnd]
		escaped := bytes.IndexByte(name, '\\') >= 0
		if names == nil && escaped {
			names = make([]string, 0, len(spans)+1)
			for _, p := range spans {
				names = append(names, string(raw[p.nameStart:p.nameEnd]))
			}
		}
		if names != nil {
			names = append(names, tok.String()) // before the token is invalidated
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, textError(raw, err)
		}
		end := int32(dec.InputOffset())
		sp := span{nameStart: nameEnd - int32(len(name)) + 1, nameEnd: nameEnd - 1, valueStart: end - int32(len(v)), valueEnd: end}
		sp.spaced = (v[0] == '{' || v[0] == '[') && spaced(v)
		spans = append(spans, sp)
	}
	if top {
		if err := end(dec, raw); err != nil {
			return nil, textError(raw, err)
		}
	}
	o.spans = spans
	if names != nil {
		o.unescape(names)
		return o, nil
	}
	if text := bytes.TrimSpace(raw); composed(raw, len(text), spans) {
		o.text = text
	}
	return o, nil
}

// end reads the end of the document: nothing but whitespace may follow the value.
func end(dec *jsontext.Decoder, raw []byte) error {
	_, err := dec.ReadToken()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		e := fault.New(fault.Invalid, "malformed JSON: invalid character after top-level value")
		e.Offset, e.Line, e.Column = fault.Locate(raw, int(dec.InputOffset()))
		return e
	}
	return err
}

// textError is fault.Text, with a repeated name reported as the other members'
// errors are: at the member's path, located at its value.
func textError(raw []byte, err error) error {
	var syn *jsontext.SyntacticError
	if !errors.As(err, &syn) || syn.Err != jsontext.ErrDuplicateName {
		return fault.Text(raw, err)
	}
	path := fault.PointerPath(syn.JSONPointer)
	if syn.JSONPointer.LastToken() == "" { // the name "", which a path shows quoted
		path = joinPath(fault.PointerPath(syn.JSONPointer.Parent()), `""`)
	}
	e := fault.At(path, "member appears more than once")
	e.Offset, e.Line, e.Column = fault.Locate(raw, valueAfterName(raw, int(syn.ByteOffset)))
	return e
}

// valueAfterName returns where the value of the member whose (valid) name starts at
// raw[off] starts: past the name, the colon and whitespace.
func valueAfterName(raw []byte, off int) int {
	i := off + 1
	for i < len(raw) && raw[i] != '"' {
		if raw[i] == '\\' {
			i++
		}
		i++
	}
	i++
	for i < len(raw) && (raw[i] == ':' || isSpace(raw[i])) {
		i++
	}
	return min(i, len(raw))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameStart is where the name read after offset off begins: past whitespace and the
// separator.
func nameStart(raw []byte, off int) int {
	for off < len(raw) && raw[off] != '"' {
		off++
	}
	return off
}

// unescape makes o's text the names, unescaped, and the values, one after the other.
func (o *Object) unescape(names []string) {
	var raw []byte
	spans := make([]span, len(o.spans))
	for i, p := range o.spans {
		sp := span{nameStart: int32(len(raw)), spaced: true}
		raw = append(raw, names[i]...)
		sp.nameEnd, sp.valueStart = int32(len(raw)), int32(len(raw))
		raw = append(raw, o.raw[p.valueStart:p.valueEnd]...)
		sp.valueEnd = int32(len(raw))
		spans[i] = sp
	}
	o.raw, o.spans, o.unescaped = raw, spans, true
}

// composed reports whether the object of spans in raw, its text n bytes long, is
// already what Compose writes for it: no whitespace (its length is that of the members
// without any, and no value has any) and names that AppendQuote copies as they are.
func composed(raw []byte, n int, spans []span) bool {
	n -= 2 + max(len(spans)-1, 0) // braces and commas
	for _, sp := range spans {
		if sp.spaced || !plain(raw[sp.nameStart:sp.nameEnd]) {
			return false
		}
		n -= int(sp.nameEnd-sp.nameStart) + 3 + int(sp.valueEnd-sp.valueStart) // quotes and colon
	}
	return n == 0
}

func kindOf(v []byte) string { return KindName(jsontext.Value(v).Kind()) }

// KindName names a kind of JSON value for an error message: "a string", "null", ...
func KindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "a JSON value"
}

func (o *Object) join(name string) string { return joinPath(o.path, name) }

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Path returns the JSON path of the member name.
func (o *Object) Path(name string) string { return o.join(name) }

// Members returns the members in the order they were sent, as slices of the object's
// bytes (which the caller must not change).
func (o *Object) Members() []Member { return o.AppendMembers(nil) }

// AppendMembers appends the members to dst, as Members returns them.
func (o *Object) AppendMembers(dst []Member) []Member {
	for i := range o.spans {
		dst = append(dst, o.member(i))
	}
	return dst
}

// get returns a member's JSON value, null included.
func (o *Object) get(name string) (json.RawMessage, bool) {
	for i := range o.spans {
		if string(o.name(i)) == name {
			sp := o.spans[i]
			return o.raw[sp.valueStart:sp.valueEnd], true
		}
	}
	return nil, false
}

// Has reports whether the member is present and not null.
func (o *Object) Has(name string) bool {
	raw, ok := o.get(name)
	return ok && string(raw) != "null"
}

// Raw returns a member's JSON value; null counts as absent.
func (o *Object) Raw(name string) (json.RawMessage, bool) {
	raw, ok := o.get(name)
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

func (o *Object) missing(name string) error {
	return fault.At(o.join(name), "required field is missing")
}

// required returns a member's JSON value, or nil, with an error if it is required.
func (o *Object) required(name string, required bool) (json.RawMessage, error) {
	raw, ok := o.Raw(name)
	if !ok && required {
		return nil, o.missing(name)
	}
	return raw, nil
}

// Text returns the text of a string member, unescaped: a slice of the object's bytes
// (which the caller must not change) when it has no escapes. A required member must
// be present and not blank.
func (o *Object) Text(name string, required bool) ([]byte, error) {
	raw, err := o.required(name, required)
	if raw == nil {
		return nil, err
	}
	if raw[0] != '"' {
		return nil, fault.At(o.join(name), "must be a string, not %s", kindOf(raw))
	}
	t := Unquote(raw)
	if required && len(bytes.TrimSpace(t)) == 0 {
		return nil, fault.At(o.join(name), "must not be empty")
	}
	return t, nil
}

// Unquote returns the text of a valid JSON string: raw without its quotes when it has
// no escapes.
func Unquote(raw []byte) []byte {
	if t := raw[1 : len(raw)-1]; bytes.IndexByte(t, '\\') < 0 {
		return t
	}
	u, _ := jsontext.AppendUnquote(make([]byte, 0, len(raw)), raw)
	return u
}

// ScalarText returns a member that may be sent as a string or as a number (producers
// disagree with their own documentation), as text, as Text does. Numbers keep their
// JSON spelling.
func (o *Object) ScalarText(name string, required bool) ([]byte, error) {
	raw, err := o.required(name, required)
	if raw == nil {
		return nil, err
	}
	switch jsontext.Value(raw).Kind() {
	case '"':
		return o.Text(name, required)
	case '0':
		return raw, nil
	}
	return nil, fault.At(o.join(name), "must be a string or a number, not %s", kindOf(raw))
}

// Int returns an integer member sent as a JSON number or a string of digits.
func (o *Object) Int(name string, required bool) (n int64, present bool, err error) {
	t, err := o.ScalarText(name, required)
	if err != nil || len(t) == 0 {
		return 0, false, err
	}
	n, perr := strconv.ParseInt(string(bytes.TrimSpace(t)), 10, 64)
	if perr != nil {
		raw, _ := o.get(name)
		return 0, false, fault.At(o.join(name), "must be an integer, got %s", raw)
	}
	return n, true, nil
}

// Object returns a member that must be a JSON object.
func (o *Object) Object(name string, required bool) (*Object, error) {
	raw, err := o.required(name, required)
	if raw == nil {
		return nil, err
	}
	if raw[0] != '{' {
		return nil, fault.At(o.join(name), "must be an object, not %s", kindOf(raw))
	}
	return decode(raw, o.join(name), false)
}

// Strings returns a member that must be an array of strings.
func (o *Object) Strings(name string, required bool) ([]string, error) {
	raw, err := o.required(name, required)
	if raw == nil {
		return nil, err
	}
	if raw[0] != '[' {
		return nil, fault.At(o.join(name), "must be an array of strings, not %s", kindOf(raw))
	}
	r := getReader(raw, allowDuplicates)
	defer r.put()
	var out []string
	if _, err := r.dec.ReadToken(); err != nil {
		return nil, textError(raw, err)
	}
	for i := 0; r.dec.PeekKind() != ']'; i++ {
		v, err := r.dec.ReadValue()
		if err != nil {
			return nil, textError(raw, err)
		}
		if v[0] != '"' {
			return nil, fault.At(fmt.Sprintf("%s[%d]", o.join(name), i), "must be a string, not %s", kindOf(v))
		}
		out = append(out, string(Unquote(v)))
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
