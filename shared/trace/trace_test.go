package trace

import (
	"bytes"
	"context"
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
