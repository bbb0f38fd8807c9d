package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/eventhub/eventhub/shared/fault"
)

// Event bodies of compressFrom bytes or more are stored deflated (attribute bodyz)
// when that saves at least compressGain bytes; smaller ones as text (body). DynamoDB
// bills a write by the item's size in 1 KB steps, and JSON events shrink to about half:
// a 1-3 KB event then often costs one write unit less, and its storage half.
const (
	compressFrom = 512
	compressGain = 64
)

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression)
	return w
}}

var inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// packBody returns how to store an event body: as text, or deflated.
func packBody(body []byte) (text string, packed []byte) {
	if len(body) < compressFrom {
		return string(body), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, err := w.Write(body)
	if err == nil {
		err = w.Close()
	}
	deflaters.Put(w)
	if err != nil || buf.Len()+compressGain > len(body) {
		return string(body), nil
	}
	return "", buf.Bytes()
}

// unpackBody returns a stored event body.
func unpackBody(text string, packed []byte) (json.RawMessage, error) {
	if packed == nil {
		return json.RawMessage(text), nil
	}
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(packed), nil); err != nil {
		return nil, fmt.Errorf("inflate event body: %w", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inflate event body: %w", err)
	}
	return out, nil
}

// DynamoDB's limits that an event's item must keep: 400 KB for the item, 2,048 bytes for
// a partition key value (the source and type are in the index keys gsi1pk and gsi2pk).
const (
	maxItem         = 400 * 1024
	maxPartitionKey = 2048
	// itemReserve is what an event item holds besides its body, subject and index keys:
	// attribute names, times, ids, counters, with room to spare.
	itemReserve = 2048
)

// Limits on the attributes of a stored event, for the checks at ingest.
const (
	MaxSource = maxPartitionKey - len(pkBySource)
	MaxType   = maxPartitionKey - len(pkByType)
)

// CheckFits reports whether an event can be stored: its source and type fit their index
// keys, and its item, with body the event as stored (deflated when that is smaller),
// fits DynamoDB's 400 KB. The error is a fault.TooLarge naming the attribute, or the
// event when its body is what does not fit. Ingest and normalize check it, so that no
// accepted event fails for ever in persist.
func CheckFits(source, typ, subject string, body []byte) error {
	switch {
	case len(source) > MaxSource:
		return &fault.Error{Code: fault.TooLarge, Path: "source", Message: fmt.Sprintf("source is %d bytes; the limit is %d", len(source), MaxSource)}
	case len(typ) > MaxType:
		return &fault.Error{Code: fault.TooLarge, Path: "type", Message: fmt.Sprintf("type is %d bytes; the limit is %d", len(typ), MaxType)}
	}
	fixed := itemReserve + len(pkBySource) + len(source) + len(pkByType) + len(typ) + len(subject)
	if fixed+len(body) <= maxItem {
		return nil
	}
	text, packed := packBody(body)
	stored := len(text) + len(packed)
	if fixed+stored <= maxItem {
		return nil
	}
	if len(subject) > maxItem/2 {
		return &fault.Error{Code: fault.TooLarge, Path: "subject", Message: fmt.Sprintf("subject is %d bytes; an event's item is limited to %d KB", len(subject), maxItem/1024)}
	}
	return fault.New(fault.TooLarge, "event is %d bytes (%d as stored); the store holds at most about %d bytes of an event, after compression", len(body), stored, maxItem-fixed)
}
