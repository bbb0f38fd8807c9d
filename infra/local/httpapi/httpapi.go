// Package httpapi emulates an Amazon API Gateway HTTP API with Lambda proxy integrations (payload format 2.0).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Invoker runs one synchronous invocation of a function and returns its
// response payload. infra/local/lambda's functions satisfy it.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f(ctx, payload).
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Route is an HTTP API route with a Lambda proxy integration. Method is an
// HTTP method or "ANY"; Path is a path template such as "/events/{id}" or
// "/files/{proxy+}", or "$default" for the route that catches every request
// no other route matches. Function names the function in logs.
type Route struct {
	Method, Path string
	Function     string
	Invoker      Invoker
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// IsFunctionError tells a function error (the handler failed, crashed or
	// timed out) from a failure to invoke; both answer 500, they are logged
	// differently. Default: no error is a function error.
	IsFunctionError func(error) bool
	Logger          *slog.Logger     // default discards
	Now             func() time.Time // default time.Now
	APIID           string           // default "local"
	Stage           string           // default "$default"; another stage prefixes every path with "/STAGE"
	AccessLog       io.Writer        // one JSON line per request, if set

	Account            string        // requestContext.accountId; default "000000000000"
	NewRequestID       func() string // default: random, in API Gateway's format
	IntegrationTimeout time.Duration // default 30s, HTTP APIs' maximum
}

// Limits of HTTP APIs.
const (
	MaxBodySize               = 10 << 20 // request payload quota, 10 MB
	DefaultIntegrationTimeout = 30 * time.Second
)

// Server serves HTTP API requests by invoking the routes' functions.
type Server struct {
	routes   []*route
	fallback *route // the $default route, or nil

	isFunctionError func(error) bool
	log             *slog.Logger
	now             func() time.Time
	apiID, stage    string
	account         string
	newRequestID    func() string
	timeout         time.Duration

	accessMu  sync.Mutex
	accessLog io.Writer
}

// New returns a server of routes. It rejects an invalid route (bad method or
// path template, no invoker) and routes that conflict: the same method and
// path up to the names of path variables, or two $default routes.
func New(routes []Route, opts Options) (*Server, error) {
	s := &Server{
		isFunctionError: opts.IsFunctionError,
		log:             opts.Logger,
		now:             opts.Now,
		apiID:           opts.APIID,
		stage:           opts.Stage,
		account:         opts.Account,
		newRequestID:    opts.NewRequestID,
		timeout:         opts.IntegrationTimeout,
		accessLog:       opts.AccessLog,
	}
	if s.isFunctionError == nil {
		s.isFunctionError = func(error) bool { return false }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.apiID == "" {
		s.apiID = "local"
	}
	if s.stage == "" {
		s.stage = defaultRouteKey
	}
	if s.account == "" {
		s.account = "000000000000"
	}
	if s.newRequestID == nil {
		s.newRequestID = newRequestID
	}
	if s.timeout <= 0 {
		s.timeout = DefaultIntegrationTimeout
	}
	shapes := map[string]*route{}
	for _, r := range routes {
		rt, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
		}
		if prev, ok := shapes[rt.shape()]; ok {
			return nil, fmt.Errorf("route %s conflicts with route %s", rt.key, prev.key)
		}
		shapes[rt.shape()] = rt
		if rt.key == defaultRouteKey {
			s.fallback = rt
			continue
		}
		s.routes = append(s.routes, rt)
	}
	return s, nil
}

// newRequestID returns an id shaped like API Gateway's ("KKUqmiCAoAMEPfg="):
// 11 random bytes in standard base64.
func newRequestID() string {
	var b [11]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return base64.StdEncoding.EncodeToString(b[:])
}
