package trace

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRootAndSampled(t *testing.T) {
	tests := []struct {
		header, root string
		sampled      bool
	}{
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "1-5759e988-bd862e3fe1be46a994272793", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:0", "1-5759e988-bd862e3fe1be46a994272793", false},
		{"Parent=53995c3f42cd8ad8; Root=1-abc-def", "1-abc-def", false},
		{"Sampled=1", "", true},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := Root(tc.header); got != tc.root {
			t.Errorf("Root(%q) = %q; want %q", tc.header, got, tc.root)
		}
		if got := Sampled(tc.header); got != tc.sampled {
			t.Errorf("Sampled(%q) = %v; want %v", tc.header, got, tc.sampled)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if Header(ctx) != "" || ID(ctx) != "" || Propagated(ctx) != "" {
		t.Error("a context without a trace header yields one")
	}
	h := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	ctx = With(ctx, h)
	if Header(ctx) != h || ID(ctx) != "1-5759e988-bd862e3fe1be46a994272793" || Propagated(ctx) != h {
		t.Errorf("Header, ID, Propagated = %q, %q, %q", Header(ctx), ID(ctx), Propagated(ctx))
	}
	long := With(context.Background(), h+";Junk="+strings.Repeat("x", MaxHeader))
	if Propagated(long) != "" {
		t.Error("a header over PutEvents' limit is propagated")
	}
	// The key aws-lambda-go uses (lambda/invoke_loop.go).
	lambdaCtx := context.WithValue(context.Background(), "x-amzn-trace-id", h) //nolint:staticcheck // aws-lambda-go's key
	if Header(lambdaCtx) != h {
		t.Errorf("Header of aws-lambda-go's context = %q; want %q", Header(lambdaCtx), h)
	}
}

func TestLogHandlerAddsTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("functionName", "f")
	log.InfoContext(With(context.Background(), "Root=1-abc-def;Sampled=0"), "stored", "eventKey", "k")
	log.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"traceId":"1-abc-def"`) || !strings.Contains(lines[0], `"functionName":"f"`) {
		t.Errorf("logged %q; want the trace id and the logger's attributes on the first line", lines)
	}
	if strings.Contains(lines[1], "traceId") {
		t.Errorf("logged %q; want no trace id outside an invocation", lines[1])
	}
}

func TestSample(t *testing.T) {
	const sampled = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	if got := Sample(sampled, 0); got != sampled {
		t.Errorf("Sample(sampled, 0) = %q; want the caller's decision kept", got)
	}
	if got := Sample("Parent=1", 1); got != "Parent=1" {
		t.Errorf("Sample(no root) = %q; want it unchanged", got)
	}
	if got := Sample("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8", 1); got != sampled {
		t.Errorf("Sample(rate 1) = %q; want %q", got, sampled)
	}
	// Over many roots, the fraction sampled is the rate; the decision is the same
	// every time for one root.
	for _, rate := range []float64{0, 0.01, 0.25} {
		n := 0
		const total = 20000
		for i := range total {
			h := fmt.Sprintf("Root=1-67890abc-%024x;Parent=53995c3f42cd8ad8;Sampled=0", i*7919)
			got := Sample(h, rate)
			if got != Sample(h, rate) {
				t.Fatalf("Sample(%q) is not deterministic", h)
			}
			if !strings.HasPrefix(got, "Root=1-67890abc-") || !strings.Contains(got, ";Parent=53995c3f42cd8ad8;") {
				t.Fatalf("Sample(%q) = %q; want the other fields kept", h, got)
			}
			if Sampled(got) {
				n++
			}
		}
		if f := float64(n) / total; f < rate*0.8 || f > rate*1.2+0.001 {
			t.Errorf("rate %v: sampled %v of the traces", rate, f)
		}
	}
}
