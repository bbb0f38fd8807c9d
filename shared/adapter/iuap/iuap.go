// Package iuap reads the events of the yonyou iuap event center's send API
// (sendEventMsg.do): its form fields, and the HMAC-SHA256 signature eventhub asks
// iuap producers to add.
package iuap

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// Source is the CloudEvents source prefix of iuap events: "iuap/<appId>".
const Source = "iuap"

// Field length limits from the send API's documentation, in characters.
var limits = [...]struct {
	name string
	max  int
}{{"sourceID", 20}, {"eventType", 40}, {"tenantCode", 8}}

// Parse reads an iuap event: a JSON object of the request's form fields and of its
// appId and ts query parameters, every value a string.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := jsonobject.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject maps the fields: a digest of appId, ts and the fields → id (iuap events
// have no id of their own; a resent request is stored once), "iuap/<appId>" → source,
// "<sourceID>:<eventType>" → type, tenantCode → subject, ts (Unix milliseconds) →
// time, and every field → data, userObject decoded when it is a JSON object or array.
func FromObject(o *jsonobject.Object) (*cloudevent.Event, error) {
	var msBuf [8]jsonobject.Member
	ms := o.AppendMembers(msBuf[:0])
	var textBuf [8][]byte
	texts := textBuf[:0] // of each field, in order; null is ""
	for _, m := range ms {
		switch m.Value[0] {
		case '"':
			texts = append(texts, jsonobject.Unquote(m.Value))
		case 'n':
			texts = append(texts, nil)
		default:
			_, err := o.Text(string(m.Name), false)
			return nil, err
		}
	}
	field := func(name string) []byte {
		for k := range ms {
			if string(ms[k].Name) == name {
				return texts[k]
			}
		}
		return nil
	}
	for _, name := range []string{"sourceID", "eventType"} {
		if len(bytes.TrimSpace(field(name))) == 0 { // missing, null or blank: Text says which
			if _, err := o.Text(name, true); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range limits {
		if n := utf8.RuneCount(field(l.name)); n > l.max {
			return nil, fault.At(l.name, "is %d characters long; the limit is %d", n, l.max)
		}
	}
	var when time.Time
	if ts := field("ts"); len(ts) > 0 {
		ms, err := parseMillis(ts)
		if err != nil || ms > maxMillis {
			return nil, fault.At("ts", "must be Unix milliseconds, got %q", ts)
		}
		when = time.UnixMilli(ms).UTC()
	}
	// Required by the send API (seed 003), and what subscriptions of a tenant select.
	if len(bytes.TrimSpace(field("tenantCode"))) == 0 {
		if _, err := o.Text("tenantCode", true); err != nil {
			return nil, err
		}
		return nil, fault.At("tenantCode", "must not be blank")
	}
	var setBuf [1]jsonobject.Set
	sets := setBuf[:0]
	if structured, ok := jsonobject.EmbeddedText(field("userObject")); ok {
		sets = append(sets, jsonobject.Set{Name: "userObject", Value: structured})
	}

	// The id: the digest of the fields sorted by name, as name and value parts.
	var orderBuf [8]int
	order := orderBuf[:0]
	for k := range ms {
		j := len(order)
		order = append(order, k)
		for ; j > 0 && string(ms[order[j-1]].Name) > string(ms[k].Name); j-- {
			order[j] = order[j-1]
		}
		order[j] = k
	}
	var partBuf [256]byte
	parts := partBuf[:0]
	for i, k := range order {
		if i > 0 {
			parts = append(parts, 0)
		}
		parts = append(parts, ms[k].Name...)
		parts = append(parts, 0)
		parts = append(parts, texts[k]...)
	}
	// The event's strings, made with one allocation.
	var strBuf [192]byte
	t := append(strBuf[:0], "iuap-"...)
	t = jsonobject.AppendDigestOwned(t, parts)
	idEnd := len(t)
	t = append(append(append(t, field("sourceID")...), ':'), field("eventType")...)
	typeEnd := len(t)
	t = append(t, field("tenantCode")...)
	subjectEnd := len(t)
	if !when.IsZero() {
		t = when.AppendFormat(t, time.RFC3339Nano)
	}
	timeEnd := len(t)
	if app := field("appId"); len(app) > 0 {
		t = append(append(t, Source+"/"...), app...)
	}
	all := string(t)
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              all[:idEnd],
		Source:          all[timeEnd:],
		Type:            all[idEnd:typeEnd],
		Subject:         all[typeEnd:subjectEnd],
		Time:            all[subjectEnd:timeEnd],
		DataContentType: "application/json",
		Data:            o.Compose(sets...),
	}
	if ev.Source == "" {
		ev.Source = Source
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// StringToSign is what an iuap producer signs in the first scheme: the appId and ts
// query parameters, then the form fields sorted by name, as name=value lines (values
// decoded, not URL-encoded):
//
//	appId=<appId>\nts=<ts>\n<name>=<value>\n...
//
// The lines are read back unambiguously only when no name holds anything but
// letters, digits and '_' and no value a line break: Verify accepts a signature of
// this string only for such a form (Canonical). StringToSignV2 signs the request's
// bytes and has no such limit.
func StringToSign(appID, ts string, form map[string]string) string {
	names := make([]string, 0, len(form))
	for n := range form {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("appId=" + appID + "\nts=" + ts + "\n")
	for _, n := range names {
		b.WriteString(n + "=" + form[n] + "\n")
	}
	return b.String()
}

// Sign returns the hex HMAC-SHA256 of the first scheme's string to sign under key.
func Sign(key, appID, ts string, form map[string]string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(StringToSign(appID, ts, form)))
	return hex.EncodeToString(m.Sum(nil))
}

// StringToSignV2 is what an iuap producer signs in the second scheme: a version line,
// the appId and ts query parameters, each on its line, then the request body exactly
// as sent (the URL-encoded form, byte for byte):
//
//	v2\n<appId>\n<ts>\n<body>
//
// appId holds no line break (letters, digits, '_', '.', '-') and ts only digits, so
// the string names one request: nothing can be moved between its parts.
func StringToSignV2(appID, ts string, body []byte) []byte {
	b := make([]byte, 0, 4+len(appID)+len(ts)+2+len(body))
	b = append(append(append(append(append(b, "v2\n"...), appID...), '\n'), ts...), '\n')
	return append(b, body...)
}

// SignV2 returns the hex HMAC-SHA256 of the second scheme's string to sign under key.
func SignV2(key, appID, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(StringToSignV2(appID, ts, body))
	return hex.EncodeToString(m.Sum(nil))
}

// Canonical reports whether a form can be signed in the first scheme: every field
// name letters, digits and '_', no value with a line break. (Any other form could
// be cut into different fields with the same string to sign.)
func Canonical(form map[string]string) bool {
	for k, v := range form {
		if k == "" || strings.ContainsAny(v, "\r\n") {
			return false
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
				return false
			}
		}
	}
	return true
}

// maxMillis is the end of year 9999 in Unix milliseconds.
const maxMillis = 253402300799999

// MaxSkew is how far ts may be from the time of receipt.
const MaxSkew = 5 * time.Minute

// Verify checks a request's signature (hex or base64) against each key in turn, in
// constant time, in both schemes: over the request's body (StringToSignV2), or over
// its form fields (StringToSign) when the form is Canonical. It checks its ts (Unix
// milliseconds) against now. Errors are Unauthorized faults that say what is wrong
// without revealing the expected signature.
func Verify(keys []string, appID, ts, signature string, form map[string]string, body []byte, now time.Time) error {
	if ts == "" {
		return &fault.Error{Code: fault.Unauthorized, Path: "ts", Message: "missing ts query parameter (Unix milliseconds)"}
	}
	ms, err := parseMillis(ts)
	if err != nil {
		return &fault.Error{Code: fault.Unauthorized, Path: "ts", Message: "ts must be Unix milliseconds"}
	}
	skew := now.Sub(time.UnixMilli(ms))
	if skew > MaxSkew || skew < -MaxSkew {
		return &fault.Error{Code: fault.Unauthorized, Path: "ts", Message: "ts is " + skew.Round(time.Second).String() + " away from the time of receipt; the limit is 5m0s"}
	}
	if signature == "" {
		return &fault.Error{Code: fault.Unauthorized, Path: "sign", Message: "missing signature: send the hex HMAC-SHA256 in the sign header"}
	}
	got, ok := decodeSignature(signature)
	if !ok {
		return &fault.Error{Code: fault.Unauthorized, Path: "sign", Message: "signature must be hex or base64 of 32 bytes"}
	}
	msgs := [][]byte{StringToSignV2(appID, ts, body)}
	canonical := Canonical(form)
	if canonical {
		msgs = append(msgs, []byte(StringToSign(appID, ts, form)))
	}
	match := false
	for _, k := range keys {
		if k == "" {
			continue
		}
		for _, msg := range msgs {
			m := hmac.New(sha256.New, []byte(k))
			m.Write(msg)
			if hmac.Equal(m.Sum(nil), got) {
				match = true
			}
		}
	}
	if !match {
		msg := "signature does not match"
		if !canonical {
			msg += ": a form whose field names hold other than letters, digits and '_', or whose values hold line breaks, is verified only over the request body (v2\\n<appId>\\n<ts>\\n<body>)"
		}
		return &fault.Error{Code: fault.Unauthorized, Path: "sign", Message: msg}
	}
	return nil
}

func parseMillis[S string | []byte](s S) (int64, error) {
	var n int64
	if len(s) == 0 || len(s) > 15 {
		return 0, fault.New(fault.Invalid, "bad ts")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fault.New(fault.Invalid, "bad ts")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func decodeSignature(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}
