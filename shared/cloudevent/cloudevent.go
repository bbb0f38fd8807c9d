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
	"sort"
	"strings"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
)

// SpecVersion is the only CloudEvents version eventhub accepts.
const SpecVersion = "1.0"

// Event is a CloudEvent. Extensions holds every attribute that is not a context
// attribute defined by the spec, with its JSON value (string, number or boolean).
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

var core = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true, "data": true, "data_base64": true,
}

// Parse decodes and validates one CloudEvent in the structured JSON format. Errors are
// *fault.Error values naming the attribute or locating the syntax error.
func Parse(data []byte) (*Event, error) {
	var fields map[string]json.RawMessage
	if err := decodeObject(data, &fields); err != nil {
		return nil, err
	}
	return FromFields(fields, "")
}

func decodeObject(data []byte, v *map[string]json.RawMessage) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fault.New(fault.Invalid, "empty body: expected a JSON object")
	}
	if err := fault.UTF8(data); err != nil {
		return err
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return fault.JSON(data, json.Unmarshal(data, new(any)))
		}
		return fault.At("$", "must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fault.JSON(data, err)
	}
	return nil
}

// FromFields builds and validates an event from its decoded top-level members. prefix is
// prepended to paths in errors (for events inside a batch).
func FromFields(fields map[string]json.RawMessage, prefix string) (*Event, error) {
	e := &Event{}
	str := func(name string, required bool) (string, error) {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			if required {
				return "", fault.At(prefix+name, "required attribute is missing")
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fault.At(prefix+name, "must be a string")
		}
		if required && s == "" {
			return "", fault.At(prefix+name, "must not be empty")
		}
		return s, nil
	}
	var err error
	if e.SpecVersion, err = str("specversion", true); err != nil {
		return nil, err
	}
	if e.SpecVersion != SpecVersion {
		return nil, fault.At(prefix+"specversion", "unsupported CloudEvents version %q: want %q", e.SpecVersion, SpecVersion)
	}
	for _, a := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{"id", &e.ID, true}, {"source", &e.Source, true}, {"type", &e.Type, true},
		{"subject", &e.Subject, false}, {"time", &e.Time, false},
		{"datacontenttype", &e.DataContentType, false}, {"dataschema", &e.DataSchema, false},
		{"data_base64", &e.DataBase64, false},
	} {
		if *a.dst, err = str(a.name, a.required); err != nil {
			return nil, err
		}
	}
	if raw, ok := fields["data"]; ok {
		e.Data = raw
	}
	for name, raw := range fields {
		if core[name] {
			continue
		}
		if e.Extensions == nil {
			e.Extensions = make(map[string]json.RawMessage)
		}
		e.Extensions[name] = raw
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
	if _, err := url.Parse(e.Source); err != nil {
		return fault.At(prefix+"source", "must be a URI-reference: %v", err)
	}
	if e.Time != "" {
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

// MarshalJSON writes the event in the structured JSON format with a stable member order.
func (e *Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	member := func(name string, raw []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(raw)
	}
	str := func(name, v string) {
		if v == "" {
			return
		}
		raw, _ := json.Marshal(v)
		member(name, raw)
	}
	str("specversion", e.SpecVersion)
	str("id", e.ID)
	str("source", e.Source)
	str("type", e.Type)
	str("subject", e.Subject)
	str("time", e.Time)
	str("datacontenttype", e.DataContentType)
	str("dataschema", e.DataSchema)
	names := make([]string, 0, len(e.Extensions))
	for n := range e.Extensions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var c bytes.Buffer
		if err := json.Compact(&c, e.Extensions[n]); err != nil {
			return nil, fmt.Errorf("extension %s: %w", n, err)
		}
		member(n, c.Bytes())
	}
	if e.Data != nil {
		var c bytes.Buffer
		if err := json.Compact(&c, e.Data); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		member("data", c.Bytes())
	}
	str("data_base64", e.DataBase64)
	b.WriteByte('}')
	return b.Bytes(), nil
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
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
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
	return "evt_" + strings.ToLower(keyEncoding.EncodeToString(h.Sum(nil)[:16]))
}

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

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
