package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// result is the response to one request, and what the access log says of it.
type result struct {
	status     int
	header     http.Header
	body       []byte
	routeKey   string
	function   string
	integLat   time.Duration // integration latency, -1 when nothing was invoked
	integError string        // why the integration failed, if it did
}

func gatewayError(status int, message string) *result {
	body, _ := json.Marshal(struct { // a string field: cannot fail
		Message string `json:"message"`
	}{message})
	return &result{
		status:   status,
		header:   http.Header{"Content-Type": {"application/json"}},
		body:     body,
		integLat: -1,
	}
}

// ServeHTTP routes the request, invokes the route's function with a payload
// format 2.0 event and maps the function's response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	requestID := s.newRequestID()
	res := s.handle(r, requestID, start)

	h := w.Header()
	for k, v := range res.header {
		h[k] = v
	}
	h.Set("Apigw-Requestid", requestID)
	bodyAllowed := res.status != http.StatusNoContent && res.status != http.StatusNotModified
	if bodyAllowed {
		h.Set("Content-Length", strconv.Itoa(len(res.body)))
	}
	w.WriteHeader(res.status)
	if bodyAllowed && r.Method != http.MethodHead {
		_, _ = w.Write(res.body) // the client went away; nothing to do
	}
	s.logAccess(r, requestID, start, res)
}

func (s *Server) handle(r *http.Request, requestID string, start time.Time) *result {
	if r.ContentLength > MaxBodySize {
		return gatewayError(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	rawPath := decodePath(r.URL.EscapedPath())
	path := rawPath
	if s.stage != defaultRouteKey {
		rest, ok := strings.CutPrefix(rawPath, "/"+s.stage)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			return gatewayError(http.StatusNotFound, "Not Found")
		}
		if path = rest; path == "" {
			path = "/"
		}
	}
	rt, params := s.route(r.Method, path)
	if rt == nil {
		return gatewayError(http.StatusNotFound, "Not Found")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		s.log.WarnContext(r.Context(), "read request body", "requestId", requestID, "err", err)
		return gatewayError(http.StatusBadRequest, "Bad Request")
	}
	if len(body) > MaxBodySize {
		return gatewayError(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}

	payload, err := encodeEvent(s.event(r, rt, params, rawPath, body, requestID, start))
	if err != nil { // unreachable: the event is plain data
		return gatewayError(http.StatusInternalServerError, "Internal Server Error")
	}

	// Like API Gateway, finish the invocation even if the client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.timeout)
	defer cancel()
	invStart := s.now()
	out, err := rt.Invoker.Invoke(ctx, payload)
	integLat := s.now().Sub(invStart)

	var res *result
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.log.ErrorContext(r.Context(), "integration timed out", "requestId", requestID, "routeKey", rt.key, "function", rt.Function, "timeout", s.timeout)
		res = gatewayError(http.StatusServiceUnavailable, "Service Unavailable")
		res.integError = "integration timeout"
	case err != nil && s.isFunctionError(err):
		s.log.WarnContext(r.Context(), "function error", "requestId", requestID, "routeKey", rt.key, "function", rt.Function, "err", err)
		res = gatewayError(http.StatusInternalServerError, "Internal Server Error")
		res.integError = err.Error()
	case err != nil:
		s.log.ErrorContext(r.Context(), "invoke function", "requestId", requestID, "routeKey", rt.key, "function", rt.Function, "err", err)
		res = gatewayError(http.StatusInternalServerError, "Internal Server Error")
		res.integError = err.Error()
	default:
		var ignored []string
		res, ignored, err = mapResponse(out)
		if err != nil {
			s.log.ErrorContext(r.Context(), "malformed Lambda proxy response", "requestId", requestID, "routeKey", rt.key, "function", rt.Function, "err", err)
			res = gatewayError(http.StatusInternalServerError, "Internal Server Error")
			res.integError = err.Error()
		} else if len(ignored) > 0 {
			s.log.WarnContext(r.Context(), "payload format 2.0 ignores these response fields", "requestId", requestID, "function", rt.Function, "fields", ignored)
		}
	}
	res.routeKey, res.function, res.integLat = rt.key, rt.Function, integLat
	return res
}

// route selects the most specific route matching the request, else the
// $default route, else nil.
func (s *Server) route(method, path string) (*route, map[string]string) {
	var (
		best       *route
		bestParams map[string]string
	)
	for _, rt := range s.routes {
		if !rt.isAny && rt.Method != method {
			continue
		}
		params, ok := rt.match(path)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(rt, best) {
			best, bestParams = rt, params
		}
	}
	if best == nil && s.fallback != nil {
		return s.fallback, nil
	}
	return best, bestParams
}

// event builds the payload format 2.0 event of a request.
func (s *Server) event(r *http.Request, rt *route, params map[string]string, rawPath string, body []byte, requestID string, start time.Time) events.APIGatewayV2HTTPRequest {
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}

	// Header names are lower-cased and repeated headers joined with commas;
	// cookies move to their own field.
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(values, ",")
	}
	// What net/http takes out of the header map, and what API Gateway adds.
	headers["host"] = r.Host
	if r.ContentLength > 0 {
		headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	headers["x-forwarded-port"] = localPort(r)
	if headers["x-amzn-trace-id"] == "" {
		sum := sha256.Sum256([]byte(requestID))
		headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%s", start.Unix(), hex.EncodeToString(sum[:12]))
	}

	// Repeated query parameters are joined with commas.
	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery) // keep what parses, as API Gateway does
		query = make(map[string]string, len(values))
		for k, v := range values {
			query[k] = strings.Join(v, ",")
		}
	}

	domain := r.Host
	if host, _, err := net.SplitHostPort(domain); err == nil {
		domain = host
	}
	prefix := domain
	if net.ParseIP(domain) == nil {
		prefix, _, _ = strings.Cut(domain, ".")
	}

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.key,
			AccountID:    s.account,
			Stage:        s.stage,
			RequestID:    requestID,
			APIID:        s.apiID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    start.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// wireEvent is the event as API Gateway sends it: events.APIGatewayV2HTTPRequest
// with requestContext.authentication left out unless there is one (the
// library's struct would always send an empty client certificate).
type wireEvent struct {
	events.APIGatewayV2HTTPRequest
	RequestContext wireContext `json:"requestContext"`
}

type wireContext struct {
	events.APIGatewayV2HTTPRequestContext
	Authentication *events.APIGatewayV2HTTPRequestContextAuthentication `json:"authentication,omitempty"`
}

// encodeEvent encodes ev as JSON, without escaping <, > and & as
// encoding/json does by default.
func encodeEvent(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	w := wireEvent{APIGatewayV2HTTPRequest: ev, RequestContext: wireContext{APIGatewayV2HTTPRequestContext: ev.RequestContext}}
	if ev.RequestContext.Authentication != (events.APIGatewayV2HTTPRequestContextAuthentication{}) {
		w.RequestContext.Authentication = &ev.RequestContext.Authentication
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// localPort is the port the request came in on.
func localPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

// isText reports whether HTTP APIs pass a request body of this content type to
// the function as text. They do for text/*, application/json,
// application/xml and application/javascript; every other body is
// base64-encoded, including one without Content-Type and, unlike what one
// might expect, application/x-www-form-urlencoded and application/*+json.
// (AWS does not document the list; this is the behaviour observed on the
// service, see ministackorg/ministack#766.)
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(contentType), ";")
		mt = strings.TrimSpace(mt)
	}
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/xml", mt == "application/javascript":
		return true
	}
	return false
}

// decodePath turns the escaped request path into rawPath as HTTP APIs do:
// every percent-escape is decoded except %25, so that "a%252F" stays "a%252F".
func decodePath(escaped string) string {
	if !strings.Contains(escaped, "%") {
		return escaped
	}
	var b strings.Builder
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' && i+2 < len(escaped) {
			if v, err := strconv.ParseUint(escaped[i+1:i+3], 16, 8); err == nil && v != '%' {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// hopHeaders are response headers a function cannot set: the gateway owns them.
var hopHeaders = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true, "Upgrade": true}

// mapResponse maps a function's response as payload format 2.0 does. An object
// with a statusCode is the response: statusCode, headers, cookies (one
// Set-Cookie each), body and isBase64Encoded. Any other valid JSON is the body
// of a 200 application/json response (a JSON string is the body unquoted).
// It also names the members payload format 2.0 ignores, if present.
func mapResponse(out []byte) (*result, []string, error) {
	out = bytes.TrimSpace(out)
	if !json.Valid(out) {
		return nil, nil, errors.New("the response is not valid JSON")
	}
	var members map[string]json.RawMessage
	if out[0] == '{' {
		if err := json.Unmarshal(out, &members); err != nil {
			return nil, nil, err
		}
	}
	if _, ok := members["statusCode"]; !ok {
		body := out
		if out[0] == '"' {
			var s string
			if err := json.Unmarshal(out, &s); err != nil {
				return nil, nil, err
			}
			body = []byte(s)
		}
		return &result{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body}, nil, nil
	}

	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, nil, fmt.Errorf("decode the response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		return nil, nil, fmt.Errorf("statusCode %d is not an HTTP status", resp.StatusCode)
	}
	var ignored []string
	if _, ok := members["multiValueHeaders"]; ok && len(resp.MultiValueHeaders) > 0 {
		ignored = append(ignored, "multiValueHeaders")
	}
	h := http.Header{}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	for k, v := range resp.Headers {
		k = http.CanonicalHeaderKey(k)
		switch {
		case hopHeaders[k]:
		case k == "Set-Cookie":
			h.Add(k, v)
		default:
			h.Set(k, v)
		}
	}
	if h.Get("Content-Type") == "" {
		// What HTTP APIs answer when the function names no content type.
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return nil, nil, fmt.Errorf("body is not valid base64: %w", err)
		}
	}
	return &result{status: resp.StatusCode, header: h, body: body}, ignored, nil
}

// accessLine is one access-log record, named after API Gateway's $context
// variables; latencies are in milliseconds.
type accessLine struct {
	RequestID          string `json:"requestId"`
	IP                 string `json:"ip"`
	RequestTime        string `json:"requestTime"`
	HTTPMethod         string `json:"httpMethod"`
	Path               string `json:"path"`
	RouteKey           string `json:"routeKey,omitempty"`
	Status             int    `json:"status"`
	Protocol           string `json:"protocol"`
	ResponseLength     int    `json:"responseLength"`
	ResponseLatency    int64  `json:"responseLatency"`
	IntegrationLatency *int64 `json:"integrationLatency,omitempty"`
	Function           string `json:"function,omitempty"`
	IntegrationError   string `json:"integrationErrorMessage,omitempty"`
}

func (s *Server) logAccess(r *http.Request, requestID string, start time.Time, res *result) {
	if s.accessLog == nil {
		return
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	line := accessLine{
		RequestID:        requestID,
		IP:               ip,
		RequestTime:      start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		HTTPMethod:       r.Method,
		Path:             r.URL.Path,
		RouteKey:         res.routeKey,
		Status:           res.status,
		Protocol:         r.Proto,
		ResponseLength:   len(res.body),
		ResponseLatency:  s.now().Sub(start).Milliseconds(),
		Function:         res.function,
		IntegrationError: res.integError,
	}
	if res.integLat >= 0 {
		ms := res.integLat.Milliseconds()
		line.IntegrationLatency = &ms
	}
	b, err := json.Marshal(line)
	if err != nil { // unreachable: plain data
		return
	}
	s.accessMu.Lock()
	defer s.accessMu.Unlock()
	if _, err := s.accessLog.Write(append(b, '\n')); err != nil {
		s.log.WarnContext(r.Context(), "write access log", "err", err)
	}
}
