package rawjson

import (
	"os"
	"testing"
)

// benchDoc is the largest bench sample of make bench: a Huawei Cloud Config
// notification of about 2.5 KB, indented.
func benchDoc(b *testing.B) []byte {
	raw, err := os.ReadFile("../adapter/huaweiconfig/testdata/seed_resource_changed.input")
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkValid(b *testing.B) {
	raw := benchDoc(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if !Valid(raw) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkAppendCompact(b *testing.B) {
	for _, tc := range []struct {
		name string
		raw  []byte
	}{{"indented", benchDoc(b)}, {"compact", AppendCompactValid(nil, benchDoc(b))}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.raw)))
			b.ReportAllocs()
			buf := make([]byte, 0, len(tc.raw))
			for b.Loop() {
				if _, ok := AppendCompact(buf[:0], tc.raw); !ok {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkAppendCanonical(b *testing.B) {
	raw := AppendCompactValid(nil, benchDoc(b))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	buf := make([]byte, 0, len(raw))
	for b.Loop() {
		if _, ok := AppendCanonical(buf[:0], raw); !ok {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkObject(b *testing.B) {
	raw := benchDoc(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Object(raw); !ok {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkAppendMembers(b *testing.B) {
	raw := benchDoc(b)
	ms, _ := Object(raw)
	detail := ms[0].Value
	b.SetBytes(int64(len(detail)))
	b.ReportAllocs()
	var buf [16]Member
	for b.Loop() {
		if _, ok := AppendMembers(buf[:0], detail); !ok {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkAppendCompactValid(b *testing.B) {
	raw := benchDoc(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	buf := make([]byte, 0, len(raw)+8)
	for b.Loop() {
		AppendCompactValid(buf[:0], raw)
	}
}
