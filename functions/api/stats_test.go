package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
)

func (m *memStore) IngestCounts(_ context.Context, since, until time.Time) ([]store.MinuteCount, error) {
	if m.err != nil {
		return nil, m.err
	}
	return []store.MinuteCount{{Minute: since.UTC().Format("2006-01-02T15:04"), Accepted: 3, Rejected: 2}}, nil
}

func TestConsoleFiles(t *testing.T) {
	h := newTestHandler(newMemStore())
	tests := []struct {
		name, route, proxy string
		status             int
		typ, contains      string
	}{
		{"page", "GET /console", "", http.StatusOK, "text/html; charset=utf-8", `<script src="console/app.js"`},
		{"script", "GET /console/{proxy+}", "app.js", http.StatusOK, "text/javascript; charset=utf-8", "sessionStorage"},
		{"style", "GET /console/{proxy+}", "console.css", http.StatusOK, "text/css; charset=utf-8", ":root"},
		{"unknown", "GET /console/{proxy+}", "nope.js", http.StatusNotFound, "text/plain; charset=utf-8", "no such file"},
		{"climbing", "GET /console/{proxy+}", "../handler.go", http.StatusNotFound, "text/plain; charset=utf-8", "no such file"},
		{"go source", "GET /console/{proxy+}", "x.go", http.StatusNotFound, "text/plain; charset=utf-8", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.route, "/console/"+tt.proxy, map[string]string{"proxy": tt.proxy}, "")
			delete(req.Headers, "authorization") // the files need no token
			resp := serve(t, h, req)
			if resp.StatusCode != tt.status || resp.Headers["Content-Type"] != tt.typ || !strings.Contains(resp.Body, tt.contains) {
				t.Fatalf("%s = %d %q %.80q; want %d %q containing %q", tt.route, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, tt.status, tt.typ, tt.contains)
			}
			csp := resp.Headers["Content-Security-Policy"]
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
		})
	}
}

func TestConsoleHasNoInlineScript(t *testing.T) {
	page, err := consoleFiles.ReadFile("console/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "onclick=", "onload=", "style=", "http://", "https://"} {
		if strings.Contains(string(page), bad) {
			t.Errorf("index.html holds %q: the CSP allows no inline script or style, nor other origins", bad)
		}
	}
}

func TestStatsAndPatternNeedTheToken(t *testing.T) {
	h := newTestHandler(newMemStore())
	for _, rk := range []string{"GET /stats", "POST /patterns/test"} {
		req := request(rk, "/x", nil, `{"pattern":{}}`)
		delete(req.Headers, "authorization")
		if resp := serve(t, h, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token = %d; want 401", rk, resp.StatusCode)
		}
	}
}

func TestStats(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)
	resp := serve(t, h, request("GET /stats", "/stats", nil, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /stats = %d %s", resp.StatusCode, resp.Body)
	}
	var out statsOut
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Accepted != 3 || out.Rejected != 2 || len(out.Minutes) != 1 {
		t.Errorf("stats = %+v; want 3 accepted, 2 rejected in one minute", out)
	}
	req := request("GET /stats", "/stats", nil, "")
	req.QueryStringParameters = map[string]string{"since": "3d"}
	if resp := serve(t, h, req); resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"path":"since"`) {
		t.Errorf("GET /stats?since=3d = %d %s; want 400 naming since", resp.StatusCode, resp.Body)
	}
}

func TestPercentiles(t *testing.T) {
	tests := []struct {
		in       []int64
		p50, p99 int64
	}{
		{nil, 0, 0},
		{[]int64{7}, 7, 7},
		{[]int64{5, 1, 3, 2, 4}, 3, 5},
		{func() []int64 {
			v := make([]int64, 100)
			for i := range v {
				v[i] = int64(100 - i)
			}
			return v
		}(), 50, 99},
	}
	for _, tt := range tests {
		got := percentiles(tt.in)
		if got.P50 != tt.p50 || got.P99 != tt.p99 || got.Attempts != len(tt.in) {
			t.Errorf("percentiles(%v) = %+v; want p50 %d p99 %d", tt.in, got, tt.p50, tt.p99)
		}
	}
}

func TestPatternTestRejectsBadPatterns(t *testing.T) {
	h := newTestHandler(newMemStore())
	resp := serve(t, h, request("POST /patterns/test", "/patterns/test", nil, `{"pattern":"{\"type\":\"x\"}"}`))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"path":"pattern"`) {
		t.Errorf("POST /patterns/test with a bad pattern = %d %s; want 400 naming pattern", resp.StatusCode, resp.Body)
	}
}
