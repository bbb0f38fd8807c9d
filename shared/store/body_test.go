package store

import (
	"bytes"
	"strings"
	"testing"
)

func TestPackBody(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		packed bool
	}{
		{name: "small: text", body: `{"specversion":"1.0","id":"1","source":"/s","type":"t"}`},
		{name: "empty", body: ""},
		{name: "large JSON: deflated", body: `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"items":[` + strings.Repeat(`{"sku":"A-1","qty":1},`, 60) + `{}]}}`, packed: true},
		{name: "just under the threshold: text", body: `{"data":"` + strings.Repeat("x", compressFrom-12) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, packed := packBody([]byte(tc.body))
			if (packed != nil) != tc.packed {
				t.Fatalf("packed = %v; want %v", packed != nil, tc.packed)
			}
			if packed != nil && len(packed)+compressGain > len(tc.body) {
				t.Errorf("packed %d bytes of %d: not worth it", len(packed), len(tc.body))
			}
			got, err := unpackBody(text, packed)
			if err != nil || !bytes.Equal(got, []byte(tc.body)) {
				t.Errorf("unpackBody = %.60s, %v; want the body back", got, err)
			}
		})
	}
	if _, err := unpackBody("", []byte("not deflate")); err == nil {
		t.Errorf("unpackBody(garbage) = nil error")
	}
}

func FuzzPackBody(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add(bytes.Repeat([]byte(`{"k":"v"},`), 100))
	f.Fuzz(func(t *testing.T, body []byte) {
		text, packed := packBody(body)
		got, err := unpackBody(text, packed)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("round trip of %d bytes: %v", len(body), err)
		}
	})
}

func BenchmarkPackBody(b *testing.B) {
	body := []byte(benchEvent().Event)
	b.ReportAllocs()
	for b.Loop() {
		packBody(body)
	}
}
