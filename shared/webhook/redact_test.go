package webhook

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example.com/in", "https://hooks.example.com/in"},
		{"https://hooks.example.com:8443/in?key=s3cr3t&team=a", "https://hooks.example.com:8443/in?key=redacted&team=redacted"},
		{"https://hooks.example.com/in?s3cr3t", "https://hooks.example.com/in?redacted"},
		{"https://hooks.example.com/in?a=1;b=s3cr3t", "https://hooks.example.com/in?a=redacted&b=redacted"},
		{"https://user:s3cr3t@hooks.example.com/in", "https://redacted@hooks.example.com/in"},
		{"https://s3cr3t@hooks.example.com/in", "https://redacted@hooks.example.com/in"},
		{"https://hooks.example.com/in#s3cr3t", "https://hooks.example.com/in"},
		{"https://hooks.example.com/in?", "https://hooks.example.com/in"},
		{"http://[::1]:80/in?k=s3cr3t", "http://[::1]:80/in?k=redacted"},
		{"%zz://s3cr3t", "(unreadable URL)"},
	}
	for _, tc := range tests {
		got := RedactURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactURL(%q) = %q; want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cr3t") {
			t.Errorf("RedactURL(%q) = %q keeps the secret", tc.in, got)
		}
	}
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://a/b?c=d", "https://u:p@h/x?y#z", "http://h?k", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := RedactURL(raw)
		if got == "(unreadable URL)" {
			return
		}
		in, _ := url.Parse(raw)
		out, err := url.Parse(got)
		if err != nil {
			t.Fatalf("RedactURL(%q) = %q, which does not parse: %v", raw, got, err)
		}
		if in.User != nil && (out.User == nil || out.User.String() != Redacted) {
			t.Errorf("RedactURL(%q) = %q keeps user info", raw, got)
		}
		q := out.RawQuery
		for _, p := range strings.Split(q, "&") {
			if q != "" && p != Redacted && !strings.HasSuffix(p, "="+Redacted) {
				t.Errorf("RedactURL(%q) = %q keeps query value %q", raw, got, p)
			}
		}
	})
}
