// Package member reads the members of a producer's JSON object with errors that name
// the JSON path of what is wrong, and derives ids from content for producers that send
// none.
package member

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/rawjson"
)

// Object is a decoded JSON object: its members in the order they were sent, each name
// once.
type Object struct {
	path  string // JSON path of the object itself, "" at the top
	raw   []byte // the text the members are in
	spans []rawjson.Span
	// text is the object's JSON text when it is what Compose writes without sets: no
	// whitespace, and names that AppendString writes as they are.
	text []byte
}

// member returns member i.
func (o *Object) member(i int) rawjson.Member { return o.spans[i].Member(o.raw) }

// name returns the name of member i.
func (o *Object) name(i int) []byte { return o.raw[o.spans[i].NameStart:o.spans[i].NameEnd] }

// Decode reads one JSON object. It rejects empty input, invalid UTF-8, malformed JSON
// (located by offset, line and column), JSON that is not an object, and objects that
// repeat a member name (a repeated "id" would make the event ambiguous).
func Decode(raw []byte) (*Object, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object")
	}
	return decode(bytes.Clone(raw), "", true) // the members are slices of the copy
}

// decodeObject splits a valid JSON object into its members.
func decodeObject(raw []byte, path string) (*Object, error) {
	return decode(raw, path, false)
}

// decode splits the JSON object raw into its members, reading it once with jsontext,
// which checks its syntax and UTF-8 on the way. A repeated name is located at the
// value it names again.
func decode(raw []byte, path string, top bool) (*Object, error) {
	r := readers.Get().(*reader)
	defer r.put()
	r.buf = *bytes.NewBuffer(raw)
	dec := &r.dec
	dec.Reset(&r.buf, allowDuplicates)
	if k := dec.PeekKind(); k != '{' {
		v, err := dec.ReadValue()
		if err == nil && top {
			_, err = dec.ReadToken()
			if errors.Is(err, io.EOF) {
				err = nil
			}
		}
		if err != nil {
			return nil, fault.Text(raw, err)
		}
		return nil, fault.At("$", "must be a JSON object, not %s", kindOf(v))
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fault.Text(raw, err)
	}
	var buf [32]rawjson.Span
	spans := buf[:0]
	var names []string // unescaped, once a name has escapes
	for {
		before := int(dec.InputOffset())
		tok, err := dec.ReadToken() // a name, or the end: a token is cheaper than a value
		if err != nil {
			return nil, fault.Text(raw, err)
		}
		if tok.Kind() == '}' {
			break
		}
		nameEnd := int32(dec.InputOffset())
		name := raw[nameStart(raw, before):nameEnd]
		v, err := dec.ReadValue()
		if err != nil {
			return nil, fault.Text(raw, err)
		}
		end := int32(dec.InputOffset())
		sp := rawjson.Span{NameStart: nameEnd - int32(len(name)) + 1, NameEnd: nameEnd - 1, ValueStart: end - int32(len(v)), ValueEnd: end}
		sp.Spaced = (v[0] == '{' || v[0] == '[') && bytes.ContainsAny(v, " \t\n\r")
		if names == nil && bytes.IndexByte(name, '\\') >= 0 {
			names = make([]string, 0, len(spans)+1)
			for _, p := range spans {
				names = append(names, string(raw[p.NameStart:p.NameEnd]))
			}
		}
		if names != nil {
			n, _ := jsontext.AppendUnquote(nil, name)
			names = append(names, string(n))
		}
		if repeated(raw, spans, sp, names) {
			n := string(raw[sp.NameStart:sp.NameEnd])
			if names != nil {
				n = names[len(names)-1]
			}
			e := fault.At(joinPath(path, n), "member appears more than once")
			e.Offset, e.Line, e.Column = fault.Locate(raw, int(sp.ValueStart))
			return nil, e
		}
		spans = append(spans, sp)
	}
	if top {
		if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
			if err == nil {
				off := int(dec.InputOffset())
				e := fault.New(fault.Invalid, "malformed JSON: invalid character after top-level value")
				e.Offset, e.Line, e.Column = fault.Locate(raw, off)
				return nil, e
			}
			return nil, fault.Text(raw, err)
		}
	}
	if names != nil {
		return unescaped(path, raw, spans, names), nil
	}
	o := newObject(path, raw, spans)
	if text := bytes.TrimSpace(raw); composed(raw, len(text), spans) {
		o.text = text
	}
	return o, nil
}

// nameStart is where the name read after offset off begins: past whitespace and the
// separator.
func nameStart(raw []byte, off int) int {
	for off < len(raw) && raw[off] != '"' {
		off++
	}
	return off
}

// reader is a jsontext decoder kept for the next object: a new one costs more than a
// small event's reading.
type reader struct {
	dec jsontext.Decoder
	buf bytes.Buffer
}

// allowDuplicates lets decode locate a repeated name itself, as the slow path did.
var allowDuplicates = jsontext.AllowDuplicateNames(true)

var readers = sync.Pool{New: func() any { return new(reader) }}

func (r *reader) put() {
	r.buf = bytes.Buffer{}
	r.dec.Reset(&r.buf) // drops the object's bytes
	readers.Put(r)
}

// repeated reports whether the member sp names one of spans again (names holds the
// unescaped names when one has escapes, sp's last).
func repeated(raw []byte, spans []rawjson.Span, sp rawjson.Span, names []string) bool {
	if names != nil {
		return slices.Contains(names[:len(names)-1], names[len(names)-1])
	}
	n := raw[sp.NameStart:sp.NameEnd]
	for _, p := range spans {
		if string(raw[p.NameStart:p.NameEnd]) == string(n) {
			return true
		}
	}
	return false
}

// unescaped is the Object of members whose names had escapes: the names, unescaped,
// and the values, one after the other, are its text.
func unescaped(path string, raw []byte, spans []rawjson.Span, names []string) *Object {
	o := &Object{path: path}
	for i, p := range spans {
		sp := rawjson.Span{NameStart: int32(len(o.raw)), Spaced: true}
		o.raw = append(o.raw, names[i]...)
		sp.NameEnd, sp.ValueStart = int32(len(o.raw)), int32(len(o.raw))
		o.raw = append(o.raw, raw[p.ValueStart:p.ValueEnd]...)
		sp.ValueEnd = int32(len(o.raw))
		o.spans = append(o.spans, sp)
	}
	return o
}

// newObject returns an Object with a copy of spans, in one allocation for up to 16.
func newObject(path string, raw []byte, spans []rawjson.Span) *Object {
	switch n := len(spans); {
	case n <= 2:
		x := &struct {
			Object
			buf [2]rawjson.Span
		}{}
		x.path, x.raw, x.spans = path, raw, append(x.buf[:0:n], spans...)
		return &x.Object
	case n <= 4:
		x := &struct {
			Object
			buf [4]rawjson.Span
		}{}
		x.path, x.raw, x.spans = path, raw, append(x.buf[:0:n], spans...)
		return &x.Object
	case n <= 6:
		x := &struct {
			Object
			buf [6]rawjson.Span
		}{}
		x.path, x.raw, x.spans = path, raw, append(x.buf[:0:n], spans...)
		return &x.Object
	case n <= 8:
		x := &struct {
			Object
			buf [8]rawjson.Span
		}{}
		x.path, x.raw, x.spans = path, raw, append(x.buf[:0:n], spans...)
		return &x.Object
	case n <= 12:
		x := &struct {
			Object
			buf [12]rawjson.Span
		}{}
		x.path, x.raw, x.spans = path, raw, append(x.buf[:0:n], spans...)
		return &x.Object
	case n <= 16:
		x := &struct {
			Object
			buf [16]rawjson.Span
		}{}
		x.path, x.raw, x.spans = path, raw, append(x.buf[:0:n], spans...)
		return &x.Object
	}
	return &Object{path: path, raw: raw, spans: slices.Clone(spans)}
}

// composed reports whether the object of spans in raw, its text n bytes long, is
// already what Compose writes for it: no whitespace (its length is that of the members
// without any, and no value has any) and names that AppendString copies as they are.
func composed(raw []byte, n int, spans []rawjson.Span) bool {
	n -= 2 + max(len(spans)-1, 0) // braces and commas
	for _, sp := range spans {
		if sp.Spaced {
			return false
		}
		for _, c := range raw[sp.NameStart:sp.NameEnd] {
			if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
		}
		n -= int(sp.NameEnd-sp.NameStart) + 3 + int(sp.ValueEnd-sp.ValueStart) // quotes and colon
	}
	return n == 0
}

func kindOf(v []byte) string {
	switch v[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	}
	return "a number"
}

// Path returns the JSON path of a member of o.
func (o *Object) join(name string) string { return joinPath(o.path, name) }

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Path returns the JSON path of the member name.
func (o *Object) Path(name string) string { return o.join(name) }

// Names returns the member names in the order they were sent.
func (o *Object) Names() []string {
	names := make([]string, len(o.spans))
	for i := range o.spans {
		names[i] = string(o.name(i))
	}
	return names
}

// Fields returns the members by name.
func (o *Object) Fields() map[string]json.RawMessage {
	fields := make(map[string]json.RawMessage, len(o.spans))
	for i := range o.spans {
		m := o.member(i)
		fields[string(m.Name)] = m.Value
	}
	return fields
}

// Members returns the members in the order they were sent, as slices of the object's
// bytes (which the caller must not change).
func (o *Object) Members() []rawjson.Member { return o.AppendMembers(nil) }

// AppendMembers appends the members to dst, as Members returns them.
func (o *Object) AppendMembers(dst []rawjson.Member) []rawjson.Member {
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
			return o.raw[sp.ValueStart:sp.ValueEnd], true
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

// String returns a string member. A required member must be present and non-empty.
func (o *Object) String(name string, required bool) (string, error) {
	t, err := o.Text(name, required)
	return string(t), err
}

// Text is String without the copy: the text of a string member, unescaped; a slice of
// the object's bytes (which the caller must not change) when it has no escapes.
func (o *Object) Text(name string, required bool) ([]byte, error) {
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return nil, o.missing(name)
		}
		return nil, nil
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

// Unquote returns the text of the valid JSON string raw, unescaped: raw without its
// quotes when it has no escapes, as json.Unmarshal into a string reads it otherwise.
func Unquote(raw []byte) []byte {
	t := raw[1 : len(raw)-1]
	if bytes.IndexByte(t, '\\') < 0 && utf8.Valid(t) {
		return t
	}
	if u, ok := rawjson.AppendUnquote(make([]byte, 0, len(raw)), raw); ok {
		return u
	}
	s, _ := rawjson.String(raw) // not reached for a valid string
	return []byte(s)
}

// Scalar returns a member that may be sent as a string or as a number (producers
// disagree with their own documentation), as text. Numbers keep their JSON spelling.
func (o *Object) Scalar(name string, required bool) (string, error) {
	t, err := o.ScalarText(name, required)
	return string(t), err
}

// ScalarText is Scalar without the copy, as Text is String.
func (o *Object) ScalarText(name string, required bool) ([]byte, error) {
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return nil, o.missing(name)
		}
		return nil, nil
	}
	switch {
	case raw[0] == '"':
		return o.Text(name, required)
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
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
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return nil, o.missing(name)
		}
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fault.At(o.join(name), "must be an object, not %s", kindOf(raw))
	}
	return decodeObject(raw, o.join(name))
}

// Strings returns a member that must be an array of strings.
func (o *Object) Strings(name string, required bool) ([]string, error) {
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return nil, o.missing(name)
		}
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, fault.At(o.join(name), "must be an array of strings, not %s", kindOf(raw))
	}
	var buf [16][]byte
	items := rawjson.AppendElements(buf[:0], raw)
	out := make([]string, len(items))
	for i, it := range items {
		if len(it) == 0 || it[0] != '"' {
			return nil, fault.At(fmt.Sprintf("%s[%d]", o.join(name), i), "must be a string, not %s", kindOf(it))
		}
		out[i] = string(Unquote(it))
	}
	return out, nil
}

// Time reads a timestamp member sent as an RFC 3339 string, or as Unix seconds (a
// number or a string of digits; values of 10^12 and more are taken as milliseconds, as
// some producers send them), and returns it in RFC 3339.
func (o *Object) Time(name string, required bool) (string, error) {
	var buf [64]byte
	t, err := o.AppendTime(buf[:0], name, required)
	return string(t), err
}

// AppendTime appends what Time returns.
func (o *Object) AppendTime(dst []byte, name string, required bool) ([]byte, error) {
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return dst, o.missing(name)
		}
		return dst, nil
	}
	s, err := o.ScalarText(name, required)
	if err != nil {
		return dst, err
	}
	if len(s) == 0 {
		return dst, nil
	}
	t, err := AppendParseTime(dst, s)
	if err != nil {
		return dst, fault.At(o.join(name), "%v, got %s", err, raw)
	}
	return t, nil
}

// Unix seconds between 1970 and 9999.
const maxUnix = 253402300799

// ParseTime reads an RFC 3339 timestamp or Unix seconds or milliseconds and returns it
// in RFC 3339 (UTC for Unix times, the producer's own offset otherwise).
func ParseTime(s string) (string, error) {
	var buf [64]byte
	t, err := AppendParseTime(buf[:0], []byte(s))
	if err != nil {
		return "", err
	}
	if string(t) == s {
		return s, nil // already as it is written
	}
	return string(t), nil
}

// AppendParseTime appends what ParseTime returns for text.
func AppendParseTime(dst, text []byte) ([]byte, error) {
	s := bytes.TrimSpace(text)
	// An RFC 3339 timestamp has at least 20 characters, the first four the year's.
	if len(s) >= 20 && s[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
			return t.AppendFormat(dst, time.RFC3339Nano), nil
		}
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("must be an RFC 3339 timestamp or Unix seconds")
	}
	if f >= 1e12 {
		f /= 1000
	}
	if f < 0 || f > maxUnix {
		return dst, fmt.Errorf("must be a Unix time between 1970 and 9999")
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return AppendRFC3339(dst, t), nil
}

// AppendRFC3339 appends t.Format(time.RFC3339Nano) for a time in UTC.
func AppendRFC3339(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if t.Location() != time.UTC || year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	dst = append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// Build writes a JSON object with the members of o in their order, replacing or
// appending the members in set (in the order of names), and leaving out those in drop.
func (o *Object) Build(set map[string]json.RawMessage, appendOrder []string, drop ...string) json.RawMessage {
	size := 2 + 4*len(o.spans)
	for _, sp := range o.spans {
		size += int(sp.NameEnd-sp.NameStart) + int(sp.ValueEnd-sp.ValueStart)
	}
	for name, v := range set {
		size += len(name) + 4 + len(v)
	}
	b := make([]byte, 1, size+8) // AppendCompactValid's slack
	b[0] = '{'
	dropped := func(name []byte) bool {
		for _, d := range drop {
			if d == string(name) {
				return true
			}
		}
		return false
	}
	for i := range o.spans {
		m := o.member(i)
		if dropped(m.Name) {
			continue
		}
		if v, ok := set[string(m.Name)]; ok {
			b = appendMember(b, m.Name, v)
			continue
		}
		b = appendValid(b, m)
	}
	for _, name := range appendOrder {
		if _, sent := o.get(name); !sent {
			b = appendMember(b, name, set[name])
		}
	}
	return append(b, '}')
}

// Set is a member that Compose writes.
type Set struct {
	Name  string
	Value json.RawMessage
}

// Compose writes a JSON object with the members of o in their order, each member of
// sets in place of the member of its name, or after the members of o, in order, if o
// has none: Build(set, names of sets).
//
// The result may share memory with o; it must not be changed.
func (o *Object) Compose(sets ...Set) json.RawMessage {
	if len(sets) == 0 && o.text != nil {
		return o.text
	}
	size := 2 + 4*len(o.spans)
	for _, sp := range o.spans {
		size += int(sp.NameEnd-sp.NameStart) + int(sp.ValueEnd-sp.ValueStart)
	}
	for _, x := range sets {
		size += len(x.Name) + 4 + len(x.Value)
	}
	b := make([]byte, 1, size+8) // AppendCompactValid's slack
	b[0] = '{'
members:
	for i := range o.spans {
		m := o.member(i)
		for _, x := range sets {
			if x.Name == string(m.Name) {
				b = appendMember(b, m.Name, x.Value)
				continue members
			}
		}
		b = appendValid(b, m)
	}
	for _, x := range sets {
		if _, sent := o.get(x.Name); !sent {
			b = appendMember(b, x.Name, x.Value)
		}
	}
	return append(b, '}')
}

// appendValid appends a member of an object (its value valid JSON) to the object b.
func appendValid(b []byte, m rawjson.Member) []byte {
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = rawjson.AppendString(b, m.Name)
	b = append(b, ':')
	if !m.Spaced {
		return append(b, m.Value...)
	}
	return rawjson.AppendCompactValid(b, m.Value)
}

// appendMember appends a member to the object b, its value compacted.
func appendMember[S string | []byte](b []byte, name S, v json.RawMessage) []byte {
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = rawjson.AppendString(b, name)
	b = append(b, ':')
	if c, ok := rawjson.AppendCompact(b, v); ok {
		return c
	}
	buf := bytes.NewBuffer(b)
	_ = json.Compact(buf, v) // every value here is valid JSON
	return buf.Bytes()
}

// Embedded returns the JSON a string member carries when it is itself a JSON object
// or array (producers that send "metadata" or "userObject" as a JSON string), and
// false when it is anything else, which stays a string.
func Embedded(s string) (json.RawMessage, bool) {
	return EmbeddedText([]byte(s))
}

// EmbeddedText is Embedded for a string's text.
func EmbeddedText(s []byte) (json.RawMessage, bool) {
	t := bytes.TrimSpace(s)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	if c, ok := rawjson.AppendCompact(make([]byte, 0, len(t)), t); ok {
		return c, true
	}
	if !json.Valid(t) {
		return nil, false
	}
	var b bytes.Buffer
	_ = json.Compact(&b, t)
	return b.Bytes(), true
}

// Digest returns a stable id made from parts: the hex of their SHA-256, 32 characters.
func Digest(parts ...string) string {
	var buf [32]byte
	return string(AppendDigest(buf[:0], parts...))
}

// AppendDigest appends Digest(parts...).
func AppendDigest(dst []byte, parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	var sum [sha256.Size]byte
	if n <= 512 {
		var buf [512]byte
		b := buf[:0]
		for _, p := range parts {
			b = append(b, p...)
			b = append(b, 0)
		}
		sum = sha256.Sum256(b)
	} else {
		h := sha256.New()
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		h.Sum(sum[:0])
	}
	return hex.AppendEncode(dst, sum[:16])
}

// ContentID returns an id derived from a JSON value's content: member order and
// insignificant whitespace do not change it.
func ContentID(raw []byte) string {
	var buf [32]byte
	return string(AppendContentID(buf[:0], raw))
}

// AppendContentID appends ContentID(raw).
func AppendContentID(dst, raw []byte) []byte {
	scratch := getScratch()
	defer putScratch(scratch)
	if canon, ok := rawjson.AppendCanonical((*scratch)[:0], raw); ok { // what the lines below write
		*scratch = canon
		return appendDigestOwned(dst, canon)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return AppendDigestOf(dst, raw)
	}
	canon, err := json.Marshal(v) // map keys sorted
	if err != nil {
		return AppendDigestOf(dst, raw)
	}
	return AppendDigestOf(dst, canon)
}

// AppendContentID appends the ContentID of the object: ContentID(o.Compose()),
// without writing the object first.
func (o *Object) AppendContentID(dst []byte) []byte {
	scratch := getScratch()
	defer putScratch(scratch)
	var membersBuf [32]rawjson.Member
	if canon, ok := rawjson.AppendCanonicalObject((*scratch)[:0], o.AppendMembers(membersBuf[:0])); ok {
		*scratch = canon
		return appendDigestOwned(dst, canon)
	}
	return AppendContentID(dst, o.Compose())
}

// appendDigestOwned is AppendDigestOf for a b that may be appended to.
func appendDigestOwned(dst, b []byte) []byte {
	sum := sha256.Sum256(append(b, 0)) // Digest's separator
	return hex.AppendEncode(dst, sum[:16])
}

// scratchPool holds the buffers content ids are written in.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getScratch() *[]byte { return scratchPool.Get().(*[]byte) }

func putScratch(b *[]byte) {
	if cap(*b) <= 1<<20 {
		*b = (*b)[:0]
		scratchPool.Put(b)
	}
}

// AppendDigestOf appends Digest(string(b)): with parts joined by 0 bytes, it is
// AppendDigest(dst, parts...) without them in separate strings.
func AppendDigestOf(dst, b []byte) []byte {
	if len(b) < 256 {
		var buf [256]byte
		return appendDigestOwned(dst, append(buf[:0], b...))
	}
	scratch := getScratch()
	defer putScratch(scratch)
	*scratch = append((*scratch)[:0], b...)
	return appendDigestOwned(dst, *scratch)
}

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

// Quote returns s as a JSON string.
func Quote(s string) json.RawMessage {
	return rawjson.AppendString(nil, s)
}
