// Package cloudevent is eventhub's canonical event: a CloudEvents 1.0 event in the JSON
// format, with its validation and the key it is stored under.
package cloudevent

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// SpecVersion is the only CloudEvents version eventhub accepts.
const SpecVersion = "1.0"

// Event is a CloudEvent. Extensions holds every attribute that is not a context
// attribute defined by the spec, with its JSON value (string, number or boolean).
// Extensions and Data hold valid JSON, as Parse, FromFields' and FromMembers'
// callers and the adapters read it: MarshalJSON does not read them again.
type Event struct {
	SpecVersion     string
	ID              string
	Source          string
	Type            string
	Subject         string
	Time            string
	DataContentType string
	DataSchema      string
	Extensions      map[string]json.RawMessage
	// Data is the JSON value of "data"; DataBase64 the text of "data_base64". At most one
	// is set.
	Data       json.RawMessage
	DataBase64 string
}

// Parse decodes and validates one CloudEvent in the structured JSON format. Errors are
// *fault.Error values naming the attribute or locating the syntax error; an object
// that repeats a member name, at any depth, is refused.
func Parse(data []byte) (*Event, error) {
	o, err := jsonobject.Decode(data)
	if err != nil {
		return nil, err
	}
	var buf [32]jsonobject.Member
	return FromMembers(o.AppendMembers(buf[:0]), "")
}

// FromFields builds and validates an event from its decoded top-level members. prefix is
// prepended to paths in errors (for events inside a batch).
func FromFields(fields map[string]json.RawMessage, prefix string) (*Event, error) {
	var m members
	for name, raw := range fields {
		m.set([]byte(name), raw)
	}
	return m.event(prefix)
}

// FromMembers is FromFields for the members of an object in the order sent, as
// jsonobject reads them (a repeated name keeps its last value).
func FromMembers(ms []jsonobject.Member, prefix string) (*Event, error) {
	var m members
	var ext [16]member
	m.ext = ext[:0]
	for _, f := range ms {
		m.set(f.Name, f.Value)
	}
	return m.event(prefix)
}

func (m *members) event(prefix string) (*Event, error) {
	e := &Event{}
	str := func(i int, required bool) (string, error) {
		name, raw := attrNames[i], m.attrs[i]
		if raw == nil || string(raw) == "null" {
			if required {
				return "", fault.At(prefix+name, "required attribute is missing")
			}
			return "", nil
		}
		if jsontext.Value(raw).Kind() != '"' {
			return "", fault.At(prefix+name, "must be a string")
		}
		s := string(jsonobject.Unquote(raw))
		if required && s == "" {
			return "", fault.At(prefix+name, "must not be empty")
		}
		return s, nil
	}
	var err error
	if e.SpecVersion, err = str(attrSpecVersion, true); err != nil {
		return nil, err
	}
	if e.SpecVersion != SpecVersion {
		return nil, fault.At(prefix+"specversion", "unsupported CloudEvents version %q: want %q", e.SpecVersion, SpecVersion)
	}
	for _, a := range [...]struct {
		attr     int
		dst      *string
		required bool
	}{
		{attrID, &e.ID, true}, {attrSource, &e.Source, true}, {attrType, &e.Type, true},
		{attrSubject, &e.Subject, false}, {attrTime, &e.Time, false},
		{attrDataContentType, &e.DataContentType, false}, {attrDataSchema, &e.DataSchema, false},
		{attrDataBase64, &e.DataBase64, false},
	} {
		if *a.dst, err = str(a.attr, a.required); err != nil {
			return nil, err
		}
	}
	e.Data = m.attrs[attrData]
	if len(m.ext) > 0 {
		e.Extensions = make(map[string]json.RawMessage, len(m.ext))
		for _, x := range m.ext {
			e.Extensions[x.name] = x.raw
		}
	}
	if err := e.validate(prefix); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate checks the event against the CloudEvents 1.0 rules.
func (e *Event) Validate() error { return e.validate("") }

func (e *Event) validate(prefix string) error {
	switch {
	case e.SpecVersion != SpecVersion:
		return fault.At(prefix+"specversion", "unsupported CloudEvents version %q: want %q", e.SpecVersion, SpecVersion)
	case e.ID == "":
		return fault.At(prefix+"id", "required attribute is missing")
	case e.Source == "":
		return fault.At(prefix+"source", "required attribute is missing")
	case e.Type == "":
		return fault.At(prefix+"type", "required attribute is missing")
	}
	if !plainReference(e.Source) {
		if _, err := url.Parse(e.Source); err != nil {
			return fault.At(prefix+"source", "must be a URI-reference: %v", err)
		}
	}
	if e.Time != "" && !plainTimestamp(e.Time) {
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			return fault.At(prefix+"time", "must be an RFC 3339 timestamp, got %q", e.Time)
		}
	}
	if e.DataSchema != "" {
		if u, err := url.Parse(e.DataSchema); err != nil || !u.IsAbs() {
			return fault.At(prefix+"dataschema", "must be an absolute URI")
		}
	}
	if e.Data != nil && e.DataBase64 != "" {
		return fault.At(prefix+"data_base64", "must not be present together with data")
	}
	for name, raw := range e.Extensions {
		if !validName(name) {
			return fault.At(prefix+name, "extension attribute names must be lower-case letters and digits")
		}
		switch firstByte(raw) {
		case '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		default:
			return fault.At(prefix+name, "extension attributes must be a string, number or boolean")
		}
	}
	return nil
}

// plainTimestamp reports whether s is a timestamp that time.Parse(time.RFC3339Nano)
// accepts without looking further: what its RFC 3339 fast path reads, 2006-01-02T15:04:05
// with the fields in range, optional fractional seconds, and Z or a ±hh:mm offset.
func plainTimestamp(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	num := func(s string, max int) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, n <= max
	}
	year, ok1 := num(s[0:4], 9999)
	month, ok2 := num(s[5:7], 12)
	day, ok3 := num(s[8:10], 31)
	_, ok4 := num(s[11:13], 23)
	_, ok5 := num(s[14:16], 59)
	_, ok6 := num(s[17:19], 59)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	if day > days {
		return false
	}
	rest := s[19:]
	if len(rest) >= 2 && rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' {
		n := 2
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		rest = rest[n:]
	}
	if rest == "Z" {
		return true
	}
	if len(rest) != len("-07:00") || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return false
	}
	_, okh := num(rest[1:3], 23)
	_, okm := num(rest[4:6], 59)
	return okh && okm
}

// plainReference reports whether s is a URI reference that url.Parse accepts without
// looking further: a relative path of letters, digits and "-._~/" (no scheme, as
// there is no ':'; no authority, as it does not start with "//"; no escapes, query or
// fragment).
func plainReference(s string) bool {
	if s == "" || strings.HasPrefix(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !plainURIByte[s[i]] {
			return false
		}
	}
	return true
}

var plainURIByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~/" {
		t[c] = true
	}
	return t
}()

func firstByte(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// MarshalJSON writes the event in the structured JSON format with a stable member order:
// the spec's attributes, the extensions by name, then data, without whitespace. JSON
// values are copied as they are unless they have whitespace to remove.
func (e *Event) MarshalJSON() ([]byte, error) {
	// The size without escapes.
	size := 2
	for _, a := range [...]struct {
		name int
		v    string
	}{
		{len(`,"specversion":""`), e.SpecVersion}, {len(`,"id":""`), e.ID}, {len(`,"source":""`), e.Source},
		{len(`,"type":""`), e.Type}, {len(`,"subject":""`), e.Subject}, {len(`,"time":""`), e.Time},
		{len(`,"datacontenttype":""`), e.DataContentType}, {len(`,"dataschema":""`), e.DataSchema},
		{len(`,"data_base64":""`), e.DataBase64},
	} {
		if a.v != "" {
			size += a.name + len(a.v)
		}
	}
	if e.Data != nil {
		size += len(`,"data":`) + len(e.Data)
	}
	for n, v := range e.Extensions {
		size += len(n) + len(v) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	// str writes a member with its name as AppendQuote quotes it.
	str := func(quotedName, v string) {
		if v == "" {
			return
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, quotedName...)
		b = append(b, ':')
		b = jsonobject.AppendQuote(b, v)
	}
	raw := func(name string, v []byte) error {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = jsonobject.AppendQuote(b, name)
		b = append(b, ':')
		var err error
		b, err = jsonobject.AppendCompact(b, v)
		return err
	}
	str(`"specversion"`, e.SpecVersion)
	str(`"id"`, e.ID)
	str(`"source"`, e.Source)
	str(`"type"`, e.Type)
	str(`"subject"`, e.Subject)
	str(`"time"`, e.Time)
	str(`"datacontenttype"`, e.DataContentType)
	str(`"dataschema"`, e.DataSchema)
	var names [16]string
	sorted := names[:0]
	for n := range e.Extensions {
		sorted = append(sorted, n)
	}
	if len(sorted) > 1 {
		slices.Sort(sorted)
	}
	for _, n := range sorted {
		if err := raw(n, e.Extensions[n]); err != nil {
			return nil, fmt.Errorf("extension %s: %w", n, err)
		}
	}
	if e.Data != nil {
		if err := raw("data", e.Data); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	str(`"data_base64"`, e.DataBase64)
	b = append(b, '}')
	return b, nil
}

// UnmarshalJSON decodes and validates an event.
func (e *Event) UnmarshalJSON(data []byte) error {
	ev, err := Parse(data)
	if err != nil {
		return err
	}
	*e = *ev
	return nil
}

// Extension returns the string value of an extension attribute.
func (e *Event) Extension(name string) (string, bool) {
	raw, ok := e.Extensions[name]
	if !ok {
		return "", false
	}
	if v := jsontext.Value(bytes.TrimSpace(raw)); v.Kind() == '"' && v.IsValid() {
		return string(jsonobject.Unquote(v)), true
	}
	return strings.TrimSpace(string(raw)), true
}

// Key is the id eventhub stores the event under: the same source and id always give the
// same key, so a producer's resend is stored once.
func Key(source, id string) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	var key [4 + 26]byte // evt_ and 16 bytes in unpadded base32
	copy(key[:], "evt_")
	keyEncoding.Encode(key[4:], h.Sum(sum[:0])[:16])
	return string(key[:])
}

// keyEncoding is base32 (RFC 4648) in lower case, without padding.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Key returns the event's storage key.
func (e *Event) Key() string { return Key(e.Source, e.ID) }

// ValidKey reports whether s has the shape of a key made by Key.
func ValidKey(s string) bool {
	if len(s) != 30 || !strings.HasPrefix(s, "evt_") {
		return false
	}
	for _, c := range s[4:] {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
