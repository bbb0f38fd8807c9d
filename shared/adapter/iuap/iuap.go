// Package iuap reads the events of the yonyou iuap event center's send API
// (sendEventMsg.do): its form fields, and the HMAC-SHA256 signature eventhub asks
// iuap producers to add.
package iuap

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/adapter/member"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
)

// Source is the CloudEvents source prefix of iuap events: "iuap/<appId>".
const Source = "iuap"

// Field length limits from the send API's documentation, in characters.
var limits = map[string]int{"sourceID": 20, "eventType": 40, "tenantCode": 8}

// Parse reads an iuap event: a JSON object of the request's form fields and of its
// appId and ts query parameters, every value a string.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := member.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject maps the fields: a digest of appId, ts and the fields → id (iuap events
// have no id of their own; a resent request is stored once), "iuap/<appId>" → source,
// "<sourceID>:<eventType>" → type, tenantCode → subject, ts (Unix milliseconds) →
// time, and every field → data, userObject decoded when it is a JSON object or array.
func FromObject(o *member.Object) (*cloudevent.Event, error) {
	vals := map[string]string{}
	for _, name := range o.Names() {
		v, err := o.String(name, false)
		if err != nil {
			return nil, err
		}
		vals[name] = v
	}
	for _, name := range []string{"sourceID", "eventType"} {
		if _, err := o.String(name, true); err != nil {
			return nil, err
		}
	}
	for name, max := range limits {
		if n := utf8.RuneCountInString(vals[name]); n > max {
			return nil, fault.At(name, "is %d characters long; the limit is %d", n, max)
		}
	}
	when := ""
	if ts := vals["ts"]; ts != "" {
		ms, err := parseMillis(ts)
		if err != nil || ms > maxMillis {
			return nil, fault.At("ts", "must be Unix milliseconds, got %q", ts)
		}
		t := time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
		when = t
	}
	set := map[string]json.RawMessage{}
	if structured, ok := member.Embedded(vals["userObject"]); ok {
		set["userObject"] = structured
	}
	names := append([]string(nil), o.Names()...)
	sort.Strings(names)
	parts := make([]string, 0, 2*len(names))
	for _, n := range names {
		parts = append(parts, n, vals[n])
	}
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              "iuap-" + member.Digest(parts...),
		Source:          Source,
		Type:            vals["sourceID"] + ":" + vals["eventType"],
		Subject:         vals["tenantCode"],
		Time:            when,
		DataContentType: "application/json",
		Data:            o.Build(set, nil),
	}
	if app := vals["appId"]; app != "" {
		ev.Source = Source + "/" + app
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// StringToSign is what an iuap producer signs: the appId and ts query parameters, then
// the form fields sorted by name, as name=value lines (values as sent, not encoded):
//
//	appId=<appId>\nts=<ts>\n<name>=<value>\n...
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

// Sign returns the hex HMAC-SHA256 of the string to sign under key.
func Sign(key, appID, ts string, form map[string]string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(StringToSign(appID, ts, form)))
	return hex.EncodeToString(m.Sum(nil))
}

// maxMillis is the end of year 9999 in Unix milliseconds.
const maxMillis = 253402300799999

// MaxSkew is how far ts may be from the time of receipt.
const MaxSkew = 5 * time.Minute

// Verify checks a request's signature (hex or base64) against each key in turn, in
// constant time, and its ts (Unix milliseconds) against now. Errors are Unauthorized
// faults that say what is wrong without revealing the expected signature.
func Verify(keys []string, appID, ts, signature string, form map[string]string, now time.Time) error {
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
	msg := []byte(StringToSign(appID, ts, form))
	match := false
	for _, k := range keys {
		if k == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(k))
		m.Write(msg)
		if hmac.Equal(m.Sum(nil), got) {
			match = true
		}
	}
	if !match {
		return &fault.Error{Code: fault.Unauthorized, Path: "sign", Message: "signature does not match"}
	}
	return nil
}

func parseMillis(s string) (int64, error) {
	var n int64
	if s == "" || len(s) > 15 {
		return 0, fault.New(fault.Invalid, "bad ts")
	}
	for _, c := range s {
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
