package auth

import (
	"strings"
	"testing"
)

func TestBearer(t *testing.T) {
	tests := []struct{ header, want string }{
		{"Bearer abc", "abc"},
		{"bearer  abc ", "abc"},
		{"Basic abc", ""},
		{"Bearer", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Bearer(tc.header); got != tc.want {
			t.Errorf("Bearer(%q) = %q; want %q", tc.header, got, tc.want)
		}
	}
}

func TestTokenAndHash(t *testing.T) {
	a, b := NewToken(ProducerPrefix), NewToken(ProducerPrefix)
	if a == b || !strings.HasPrefix(a, ProducerPrefix) || len(a) != len(ProducerPrefix)+43 {
		t.Fatalf("NewToken = %q, %q", a, b)
	}
	h := Hash(a)
	if !MatchHash(a, h) || !MatchHash(a, strings.ToUpper(h)) {
		t.Error("MatchHash rejects the right token")
	}
	if MatchHash(b, h) || MatchHash("", h) || MatchHash(a, "") {
		t.Error("MatchHash accepts a wrong or empty token")
	}
}
