// Package trace carries an invocation's X-Ray trace context along the pipeline
// without an instrumentation library: the trace header Lambda hands each invocation
// goes onto the bus entries the function puts (so that EventBridge continues the
// trace in the next function), and its trace id into log lines, metric lines and
// timeline entries.
package trace

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strings"
)

// lambdaKey is the context key under which aws-lambda-go passes the invocation's
// Lambda-Runtime-Trace-Id header to the handler (lambda/invoke_loop.go). It is a plain
// string there, so it must be a plain string here.
const lambdaKey = "x-amzn-trace-id"

// MaxHeader is the longest trace header PutEvents takes (PutEventsRequestEntry.TraceHeader).
const MaxHeader = 500

// Header returns the invocation's X-Ray trace header, such as
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", or ""
// outside an invocation.
func Header(ctx context.Context) string {
	h, _ := ctx.Value(lambdaKey).(string)
	return h
}

// With returns a context carrying header as the invocation's trace header, as
// aws-lambda-go's does: for tests and tools that call handlers directly.
func With(ctx context.Context, header string) context.Context {
	return context.WithValue(ctx, lambdaKey, header) //nolint:staticcheck // aws-lambda-go's key is a plain string
}

// ID returns the trace id of the invocation (the Root of its trace header), or "".
func ID(ctx context.Context) string { return Root(Header(ctx)) }

// Root returns the Root field of a trace header ("1-5759e988-bd862e3fe1be46a994272793").
func Root(header string) string {
	for header != "" {
		var field string
		field, header, _ = strings.Cut(header, ";")
		if v, ok := strings.CutPrefix(strings.TrimSpace(field), "Root="); ok {
			return v
		}
	}
	return ""
}

// Sampled reports whether the header asks for the trace to be recorded (Sampled=1).
func Sampled(header string) bool {
	for header != "" {
		var field string
		field, header, _ = strings.Cut(header, ";")
		if v, ok := strings.CutPrefix(strings.TrimSpace(field), "Sampled="); ok {
			return v == "1"
		}
	}
	return false
}

// Sample makes the sampling decision of a trace that starts here: a header already
// sampled (Sampled=1, by a traced caller) stays so; otherwise the trace is sampled
// when its Root falls in the fraction rate of all roots, the same way for every
// retry of the request. It returns header with Sampled set accordingly, or header
// unchanged when it has no Root.
//
// Lambda's own decision for a function no traced caller invokes (1 request a second
// and 5% of the rest) cannot be configured; a function that starts traces runs with
// PassThrough tracing and decides here instead, so that what X-Ray records, and
// bills, is the fraction rate of requests (docs/operating.md, "Traces").
func Sample(header string, rate float64) string {
	root := Root(header)
	if root == "" || Sampled(header) {
		return header
	}
	h := fnv.New64a()
	h.Write([]byte(root))
	keep := float64(h.Sum64()>>11)/(1<<53) < rate
	flag := "Sampled=0"
	if keep {
		flag = "Sampled=1"
	}
	fields := strings.Split(header, ";")
	found := false
	for i, f := range fields {
		if strings.HasPrefix(strings.TrimSpace(f), "Sampled=") {
			fields[i], found = flag, true
		}
	}
	if !found {
		fields = append(fields, flag)
	}
	return strings.Join(fields, ";")
}

// Propagated is the header to put on an outgoing bus entry: the invocation's own, or
// "" when there is none or it is over PutEvents' limit.
func Propagated(ctx context.Context) string {
	h := Header(ctx)
	if len(h) > MaxHeader || Root(h) == "" {
		return ""
	}
	return h
}

// LogHandler wraps a slog handler so that every record logged with a context of an
// invocation carries its trace id (traceId).
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("traceId", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }
