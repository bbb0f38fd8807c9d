package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
)

// alertFolder is the store's alert side: folding events into alerts, and the dedupe
// keys producer sources declare.
type alertFolder interface {
	FoldAlert(ctx context.Context, sig store.Signal) (*store.Alert, error)
	SourceDedupeKeys(ctx context.Context, sourceID string) ([]string, error)
}

// fold folds a stored event into its alert when it has dedupe keys: those it carries
// in data.dedupe_keys (BlueKing), else those its producer source declares. Folding is
// idempotent, so a repeated delivery does not count twice.
func (h *handler) fold(ctx context.Context, ev *cloudevent.Event, key, sourceID string, receivedAt time.Time) error {
	if h.alerts == nil {
		return nil
	}
	data := decodeData(ev.Data)
	names, values := carriedKeys(data)
	if names == nil && values == nil && sourceID != "" {
		var err error
		if names, err = h.sourceKeys.get(ctx, h.alerts, sourceID, h.now()); err != nil {
			return err
		}
	}
	sig := signalOf(ev, data, names, values, receivedAt)
	if sig == nil {
		return nil
	}
	sig.SourceID = sourceID
	sig.EventKey = key
	a, err := h.alerts.FoldAlert(ctx, *sig)
	if errors.Is(err, store.ErrAlreadyFolded) {
		return nil
	}
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "folded into alert", "eventKey", key, "alertId", a.ID, "count", a.Count, "status", a.Status)
	return nil
}

func decodeData(raw json.RawMessage) map[string]any {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// carriedKeys reads data.dedupe_keys: a list of field names, or an object that gives
// the key values themselves.
func carriedKeys(data map[string]any) (names []string, values map[string]string) {
	switch dk := data["dedupe_keys"].(type) {
	case []any:
		for _, n := range dk {
			if s, ok := n.(string); ok && s != "" {
				names = append(names, s)
			}
		}
	case map[string]any:
		values = make(map[string]string, len(dk))
		for k, v := range dk {
			values[k] = text(v)
		}
	}
	return names, values
}

// MaxAlertSkew is how far ahead of the time eventhub received it an event's own time
// may place it in its alert: a producer's clock that runs ahead, or a time far in the
// future, counts as the time of receipt plus MaxAlertSkew. So a RECOVERED event
// cannot close its alert later than that, and cannot make the events that follow it
// "late" (counted without reopening the alert) for longer than that.
const MaxAlertSkew = 5 * time.Minute

// signalOf returns what the event says about an alert, or nil when it has no dedupe
// keys. A key names a field of data ("alert_name", or a path such as "tags.host"), or
// else a CloudEvents attribute ("subject", an extension); a missing one counts as "".
// Its time is the event's, at most MaxAlertSkew after receivedAt.
func signalOf(ev *cloudevent.Event, data map[string]any, names []string, values map[string]string, receivedAt time.Time) *store.Signal {
	if len(names) == 0 && len(values) == 0 {
		return nil
	}
	if len(names)+len(values) > maxAlertKeys {
		return nil // not an alert's keys: nothing to fold
	}
	keys := make(map[string]string, len(names)+len(values))
	for k, v := range values {
		keys[bounded(k)] = bounded(v)
	}
	if values == nil {
		for _, n := range names {
			keys[bounded(n)] = bounded(lookup(ev, data, n))
		}
	}
	sig := &store.Signal{
		Source: ev.Source,
		Keys:   keys,
		Name:   bounded(text(data["alert_name"])),
		Status: store.AlertStatus(text(data["status"])),
		At:     receivedAt,
	}
	if n, err := strconv.Atoi(text(data["severity"])); err == nil {
		sig.Severity = n
	}
	if t, err := time.Parse(time.RFC3339Nano, ev.Time); err == nil {
		sig.At = t
	} else if t, ok := eventTime(data["time"]); ok {
		sig.At = t
	}
	if limit := receivedAt.Add(MaxAlertSkew); !receivedAt.IsZero() && sig.At.After(limit) {
		sig.At = limit
	}
	return sig
}

// Bounds on what an alert keeps of an event, so that its item always fits the store:
// at most maxAlertKeys keys, each name and value at most maxAlertText bytes (a longer
// one is kept as its digest, which still tells values apart).
const (
	maxAlertKeys = 16
	maxAlertText = 512
)

func bounded(s string) string {
	if len(s) <= maxAlertText {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func lookup(ev *cloudevent.Event, data map[string]any, name string) string {
	if v, ok := data[name]; ok {
		return text(v)
	}
	var cur any = data
	for part := range strings.SplitSeq(name, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any: // BlueKing tags as [{"key": ..., "value": ...}]
			cur = nil
			for _, el := range c {
				if kv, ok := el.(map[string]any); ok && kv["key"] == part {
					cur = kv["value"]
				}
			}
		default:
			cur = nil
		}
	}
	if cur != nil {
		return text(cur)
	}
	switch name {
	case "source":
		return ev.Source
	case "type":
		return ev.Type
	case "subject":
		return ev.Subject
	}
	if v, ok := ev.Extension(name); ok {
		return v
	}
	return ""
}

// text is a JSON value as a key: strings as they are, numbers as written, others as JSON.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// eventTime reads BlueKing's time: Unix seconds or milliseconds, or RFC 3339.
func eventTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil || n <= 0 {
			return time.Time{}, false
		}
		if n > 1e12 {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// keyCache keeps the sources' declared dedupe keys for a while, so that a warm
// function reads each source once per ttl rather than once per event.
type keyCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]cachedKeys
}

type cachedKeys struct {
	keys []string
	at   time.Time
}

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, entries: map[string]cachedKeys{}}
}

func (c *keyCache) get(ctx context.Context, st alertFolder, sourceID string, now time.Time) ([]string, error) {
	if c == nil {
		return st.SourceDedupeKeys(ctx, sourceID)
	}
	c.mu.Lock()
	e, ok := c.entries[sourceID]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.keys, nil
	}
	keys, err := st.SourceDedupeKeys(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[sourceID] = cachedKeys{keys: keys, at: now}
	c.mu.Unlock()
	return keys, nil
}
