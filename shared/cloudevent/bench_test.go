package cloudevent

import (
	"encoding/json"
	"testing"

	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// The ~1 KB MSE event that the pattern benchmarks and make bench use.
var benchEvent = []byte(patterntest.MSEEvent)

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if _, err := Parse(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	ev, err := Parse(benchEvent)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if _, err := ev.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseMarshal is what normalizing a CloudEvent costs: producer bytes to
// the canonical event's bytes.
func BenchmarkParseMarshal(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		ev, err := Parse(benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ev.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Key("acs.mse", "5d7c4e2a-8f3b-4a6e-9c1d-2b7e8f9a0c3d")
	}
}

// BenchmarkDecodeAny is the reference point: encoding/json decoding the same bytes
// into map[string]any, without any validation.
func BenchmarkDecodeAny(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(benchEvent, &m); err != nil {
			b.Fatal(err)
		}
	}
}
