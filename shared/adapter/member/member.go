// Package member reads the members of a producer's JSON object with errors that name
// the JSON path of what is wrong, and derives ids from content for producers that send
// none.
package member

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
)

// Object is a decoded JSON object: its members in the order they were sent.
type Object struct {
	path   string // JSON path of the object itself, "" at the top
	names  []string
	fields map[string]json.RawMessage
}

// Decode reads one JSON object. It rejects empty input, invalid UTF-8, malformed JSON
// (located by offset, line and column), JSON that is not an object, and objects that
// repeat a member name (a repeated "id" would make the event ambiguous).
func Decode(raw []byte) (*Object, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object")
	}
	if err := fault.UTF8(raw); err != nil {
		return nil, err
	}
	if !json.Valid(raw) {
		return nil, fault.JSON(raw, json.Unmarshal(raw, new(any)))
	}
	if trimmed[0] != '{' {
		return nil, fault.At("$", "must be a JSON object, not %s", kindOf(trimmed))
	}
	return decodeObject(raw, "")
}

// decodeObject splits a valid JSON object into its members.
func decodeObject(raw []byte, path string) (*Object, error) {
	o := &Object{path: path, fields: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, fault.JSON(raw, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fault.JSON(raw, err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fault.JSON(raw, err)
		}
		if _, dup := o.fields[name]; dup {
			e := fault.At(o.join(name), "member appears more than once")
			e.Offset, e.Line, e.Column = fault.Locate(raw, int(dec.InputOffset())-len(v))
			return nil, e
		}
		o.names = append(o.names, name)
		o.fields[name] = v
	}
	if _, err := dec.Token(); err != nil && err != io.EOF { // '}'
		return nil, fault.JSON(raw, err)
	}
	return o, nil
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
func (o *Object) join(name string) string {
	if o.path == "" {
		return name
	}
	return o.path + "." + name
}

// Path returns the JSON path of the member name.
func (o *Object) Path(name string) string { return o.join(name) }

// Names returns the member names in the order they were sent.
func (o *Object) Names() []string { return o.names }

// Fields returns the members by name.
func (o *Object) Fields() map[string]json.RawMessage { return o.fields }

// Has reports whether the member is present and not null.
func (o *Object) Has(name string) bool {
	raw, ok := o.fields[name]
	return ok && string(raw) != "null"
}

// Raw returns a member's JSON value; null counts as absent.
func (o *Object) Raw(name string) (json.RawMessage, bool) {
	raw, ok := o.fields[name]
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
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return "", o.missing(name)
		}
		return "", nil
	}
	if raw[0] != '"' {
		return "", fault.At(o.join(name), "must be a string, not %s", kindOf(raw))
	}
	var s string
	_ = json.Unmarshal(raw, &s) // a valid JSON string
	if required && strings.TrimSpace(s) == "" {
		return "", fault.At(o.join(name), "must not be empty")
	}
	return s, nil
}

// Scalar returns a member that may be sent as a string or as a number (producers
// disagree with their own documentation), as text. Numbers keep their JSON spelling.
func (o *Object) Scalar(name string, required bool) (string, error) {
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return "", o.missing(name)
		}
		return "", nil
	}
	switch {
	case raw[0] == '"':
		return o.String(name, required)
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		return string(raw), nil
	}
	return "", fault.At(o.join(name), "must be a string or a number, not %s", kindOf(raw))
}

// Int returns an integer member sent as a JSON number or a string of digits.
func (o *Object) Int(name string, required bool) (n int64, present bool, err error) {
	s, err := o.Scalar(name, required)
	if err != nil || s == "" {
		return 0, false, err
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if perr != nil {
		return 0, false, fault.At(o.join(name), "must be an integer, got %s", o.fields[name])
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
	var items []json.RawMessage
	_ = json.Unmarshal(raw, &items)
	out := make([]string, len(items))
	for i, it := range items {
		if len(it) == 0 || it[0] != '"' {
			return nil, fault.At(fmt.Sprintf("%s[%d]", o.join(name), i), "must be a string, not %s", kindOf(it))
		}
		_ = json.Unmarshal(it, &out[i])
	}
	return out, nil
}

// Time reads a timestamp member sent as an RFC 3339 string, or as Unix seconds (a
// number or a string of digits; values of 10^12 and more are taken as milliseconds, as
// some producers send them), and returns it in RFC 3339.
func (o *Object) Time(name string, required bool) (string, error) {
	raw, ok := o.Raw(name)
	if !ok {
		if required {
			return "", o.missing(name)
		}
		return "", nil
	}
	s, err := o.Scalar(name, required)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return "", fault.At(o.join(name), "%v, got %s", err, raw)
	}
	return t, nil
}

// Unix seconds between 1970 and 9999.
const maxUnix = 253402300799

// ParseTime reads an RFC 3339 timestamp or Unix seconds or milliseconds and returns it
// in RFC 3339 (UTC for Unix times, the producer's own offset otherwise).
func ParseTime(s string) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Format(time.RFC3339Nano), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("must be an RFC 3339 timestamp or Unix seconds")
	}
	if f >= 1e12 {
		f /= 1000
	}
	if f < 0 || f > maxUnix {
		return "", fmt.Errorf("must be a Unix time between 1970 and 9999")
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return t.Format(time.RFC3339Nano), nil
}

// Build writes a JSON object with the members of o in their order, replacing or
// appending the members in set (in the order of names), and leaving out those in drop.
func (o *Object) Build(set map[string]json.RawMessage, appendOrder []string, drop ...string) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	write := func(name string, v json.RawMessage) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		_ = json.Compact(&b, v) // every value here is valid JSON
	}
	dropped := func(name string) bool {
		for _, d := range drop {
			if d == name {
				return true
			}
		}
		return false
	}
	for _, name := range o.names {
		if dropped(name) {
			continue
		}
		if v, ok := set[name]; ok {
			write(name, v)
			continue
		}
		write(name, o.fields[name])
	}
	for _, name := range appendOrder {
		if _, sent := o.fields[name]; !sent {
			write(name, set[name])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Embedded returns the JSON a string member carries when it is itself a JSON object
// or array (producers that send "metadata" or "userObject" as a JSON string), and
// false when it is anything else, which stays a string.
func Embedded(s string) (json.RawMessage, bool) {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') || !json.Valid([]byte(t)) {
		return nil, false
	}
	var b bytes.Buffer
	_ = json.Compact(&b, []byte(t))
	return b.Bytes(), true
}

// Digest returns a stable id made from parts: the hex of their SHA-256, 32 characters.
func Digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// ContentID returns an id derived from a JSON value's content: member order and
// insignificant whitespace do not change it.
func ContentID(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Digest(string(raw))
	}
	canon, err := json.Marshal(v) // map keys sorted
	if err != nil {
		return Digest(string(raw))
	}
	return Digest(string(canon))
}

// Quote returns s as a JSON string.
func Quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
