package webhook

import (
	"strings"
	"testing"
	"time"
)

func BenchmarkSign(b *testing.B) {
	body := []byte(`{"specversion":"1.0","id":"1","source":"/bench","type":"t","data":"` + strings.Repeat("x", 1000) + `"}`)
	at := time.Unix(1700000000, 0)
	for _, n := range []int{1, 2} { // 2: during a secret rotation
		secrets := make([]string, n)
		for i := range secrets {
			secrets[i] = NewSecret()
		}
		b.Run(map[int]string{1: "secrets=1", 2: "secrets=2"}[n], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Sign(secrets, "msg_2b3c4d5e6f7g8h9i", at, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
