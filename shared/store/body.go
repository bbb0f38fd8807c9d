package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"
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
