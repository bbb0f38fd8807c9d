package pattern

import (
	"fmt"
	"testing"

	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

const mseEvent = patterntest.MSEEvent

func realisticPatterns(n int, seed int64) []string { return patterntest.Realistic(n, seed) }

func BenchmarkSetMatch(b *testing.B) {
	event := []byte(mseEvent)
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("patterns=%d", n), func(b *testing.B) {
			s := NewSet()
			for i, p := range realisticPatterns(n, 1) {
				if err := s.Add(fmt.Sprintf("sub-%05d", i), []byte(p)); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.Match(event); err != nil { // build the index
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(event)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Match(event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const benchPattern = `{"source":["acs.mse"],"type":["mse:Agent:OutlierEjection","mse:Gateway:RouteChanged"],
  "subject":[{"prefix":"acs.mse:cn-hangzhou:"}],
  "data":{"severity":[{"anything-but":"INFO"}],"ejectionRatio":[{"numeric":[">",0.1,"<=",1]}],
          "instances":{"ip":[{"cidr":"192.168.0.0/16"}]},"labels":{"env":[{"equals-ignore-case":"PROD"}]}}}`

func BenchmarkCompile(b *testing.B) {
	p := []byte(benchPattern)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	p, err := Compile([]byte(benchPattern))
	if err != nil {
		b.Fatal(err)
	}
	event := []byte(mseEvent)
	if ok, err := p.Match(event); err != nil || !ok {
		b.Fatalf("Match = %v, %v", ok, err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Match(event); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetRebuild(b *testing.B) {
	pats := realisticPatterns(1000, 1)
	s := NewSet()
	for i, p := range pats {
		if err := s.Add(fmt.Sprintf("sub-%05d", i), []byte(p)); err != nil {
			b.Fatal(err)
		}
	}
	event := []byte(mseEvent)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Remove("sub-00000") // invalidate
		_ = s.Add("sub-00000", []byte(pats[0]))
		if _, err := s.Match(event); err != nil {
			b.Fatal(err)
		}
	}
}
