package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/infra/local/httpapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// invoker records the payloads it receives and answers with respond, or with
// a 200 response when respond is nil.
type invoker struct {
	mu       sync.Mutex
	payloads [][]byte
	respond  func(ctx context.Context, payload []byte) ([]byte, error)
}

func (f *invoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	f.payloads = append(f.payloads, bytes.Clone(payload))
	f.mu.Unlock()
	if f.respond == nil {
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}
	return f.respond(ctx, payload)
}

// last decodes the last payload received.
func (f *invoker) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.payloads) == 0 {
		t.Fatal("the function was not invoked")
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(f.payloads[len(f.payloads)-1], &ev); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return ev
}

func (f *invoker) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.payloads)
}

func respondWith(out string, err error) func(context.Context, []byte) ([]byte, error) {
	return func(context.Context, []byte) ([]byte, error) { return []byte(out), err }
}

var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func newServer(t *testing.T, routes []httpapi.Route, opts httpapi.Options) *httpapi.Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	if opts.NewRequestID == nil {
		opts.NewRequestID = func() string { return "KKUqmiCAoAMEPfg=" }
	}
	s, err := httpapi.New(routes, opts)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return s
}

func serve(s http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	return rec
}

func TestRouteSelection(t *testing.T) {
	fn := &invoker{}
	keys := []string{
		"POST /events", "GET /events/{id}", "GET /events/latest", "GET /events/{id}/timeline",
		"GET /files/{name}", "ANY /files/{proxy+}", "GET /files/img/{proxy+}",
		"ANY /subscriptions/{id}", "DELETE /subscriptions/{id}", "GET /",
	}
	var routes []httpapi.Route
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		routes = append(routes, httpapi.Route{Method: method, Path: path, Function: "fn", Invoker: fn})
	}
	tests := []struct {
		method, path string
		routeKey     string // "" for 404
		params       map[string]string
	}{
		{"POST", "/events", "POST /events", nil},
		{"GET", "/events", "", nil},
		{"GET", "/events/", "", nil},
		{"GET", "/events/abc", "GET /events/{id}", map[string]string{"id": "abc"}},
		{"GET", "/events/latest", "GET /events/latest", nil},
		{"POST", "/events/latest", "", nil},
		{"GET", "/events/abc/timeline", "GET /events/{id}/timeline", map[string]string{"id": "abc"}},
		{"GET", "/events/abc/other", "", nil},
		{"GET", "/files/a.txt", "GET /files/{name}", map[string]string{"name": "a.txt"}},
		{"PUT", "/files/a.txt", "ANY /files/{proxy+}", map[string]string{"proxy": "a.txt"}},
		{"GET", "/files/dir/a.txt", "ANY /files/{proxy+}", map[string]string{"proxy": "dir/a.txt"}},
		{"GET", "/files/img/x/y.png", "GET /files/img/{proxy+}", map[string]string{"proxy": "x/y.png"}},
		{"POST", "/files/img/x/y.png", "ANY /files/{proxy+}", map[string]string{"proxy": "img/x/y.png"}},
		{"GET", "/files", "", nil},
		{"GET", "/files/", "", nil},
		{"DELETE", "/subscriptions/s1", "DELETE /subscriptions/{id}", map[string]string{"id": "s1"}},
		{"PATCH", "/subscriptions/s1", "ANY /subscriptions/{id}", map[string]string{"id": "s1"}},
		{"GET", "/", "GET /", nil},
		{"GET", "/nothing", "", nil},
		{"GET", "/events/a%2Fb", "", nil}, // %2F decodes to a slash, as in rawPath
		{"GET", "/events/a%20b", "GET /events/{id}", map[string]string{"id": "a b"}},
	}
	s := newServer(t, routes, httpapi.Options{})
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			before := fn.calls()
			rec := serve(s, httptest.NewRequest(tt.method, tt.path, nil))
			if tt.routeKey == "" {
				if rec.Code != http.StatusNotFound || rec.Body.String() != `{"message":"Not Found"}` || fn.calls() != before {
					t.Errorf("response = %d %s (invoked %d); want 404 {\"message\":\"Not Found\"} without invoking", rec.Code, rec.Body, fn.calls()-before)
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d %s; want 200", rec.Code, rec.Body)
			}
			ev := fn.last(t)
			if ev.RouteKey != tt.routeKey || ev.RequestContext.RouteKey != tt.routeKey {
				t.Errorf("routeKey = %q, requestContext.routeKey = %q; want %q", ev.RouteKey, ev.RequestContext.RouteKey, tt.routeKey)
			}
			if !maps.Equal(ev.PathParameters, tt.params) {
				t.Errorf("pathParameters = %v; want %v", ev.PathParameters, tt.params)
			}
		})
	}
}

func TestDefaultRoute(t *testing.T) {
	ingest, fallback := &invoker{}, &invoker{}
	s := newServer(t, []httpapi.Route{
		{Method: "POST", Path: "/events", Invoker: ingest},
		{Path: "$default", Invoker: fallback},
	}, httpapi.Options{})
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/events", nil),
		httptest.NewRequest("PUT", "/anything/at/all?x=1", nil),
	} {
		if rec := serve(s, r); rec.Code != http.StatusOK {
			t.Errorf("%s %s = %d; want 200", r.Method, r.URL, rec.Code)
		}
		if ev := fallback.last(t); ev.RouteKey != "$default" || ev.PathParameters != nil {
			t.Errorf("%s %s: routeKey = %q, pathParameters = %v; want $default and none", r.Method, r.URL, ev.RouteKey, ev.PathParameters)
		}
	}
	serve(s, httptest.NewRequest("POST", "/events", nil))
	if ingest.calls() != 1 || fallback.calls() != 2 {
		t.Errorf("calls = %d, %d; want 1, 2", ingest.calls(), fallback.calls())
	}
}

func TestNewRejectsBadRoutes(t *testing.T) {
	fn := &invoker{}
	tests := []struct {
		name   string
		routes []httpapi.Route
	}{
		{"duplicate", []httpapi.Route{{Method: "GET", Path: "/a", Invoker: fn}, {Method: "get", Path: "/a", Invoker: fn}}},
		{"same shape", []httpapi.Route{{Method: "GET", Path: "/a/{id}", Invoker: fn}, {Method: "GET", Path: "/a/{name}", Invoker: fn}}},
		{"two defaults", []httpapi.Route{{Path: "$default", Invoker: fn}, {Method: "ANY", Path: "$default", Invoker: fn}}},
		{"default with a method", []httpapi.Route{{Method: "GET", Path: "$default", Invoker: fn}}},
		{"no invoker", []httpapi.Route{{Method: "GET", Path: "/a"}}},
		{"bad method", []httpapi.Route{{Method: "FETCH", Path: "/a", Invoker: fn}}},
		{"relative path", []httpapi.Route{{Method: "GET", Path: "a", Invoker: fn}}},
		{"empty segment", []httpapi.Route{{Method: "GET", Path: "/a//b", Invoker: fn}}},
		{"trailing slash", []httpapi.Route{{Method: "GET", Path: "/a/", Invoker: fn}}},
		{"greedy not last", []httpapi.Route{{Method: "GET", Path: "/{proxy+}/a", Invoker: fn}}},
		{"partial variable", []httpapi.Route{{Method: "GET", Path: "/a/x{id}", Invoker: fn}}},
		{"empty variable", []httpapi.Route{{Method: "GET", Path: "/a/{}", Invoker: fn}}},
		{"variable twice", []httpapi.Route{{Method: "GET", Path: "/{id}/{id}", Invoker: fn}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := httpapi.New(tt.routes, httpapi.Options{}); err == nil {
				t.Errorf("New(%v) succeeded; want an error", tt.routes)
			}
		})
	}
	// Different methods, or ANY beside a method, do not conflict.
	if _, err := httpapi.New([]httpapi.Route{
		{Method: "GET", Path: "/a/{id}", Invoker: fn}, {Method: "DELETE", Path: "/a/{id}", Invoker: fn},
		{Method: "ANY", Path: "/a/{id}", Invoker: fn}, {Method: "GET", Path: "/a/b", Invoker: fn},
	}, httpapi.Options{}); err != nil {
		t.Errorf("New() error = %v; want none", err)
	}
}

func TestRequestBodyEncoding(t *testing.T) {
	body := "a=1&b=caf\u00e9"
	tests := []struct {
		contentType string
		base64      bool
	}{
		{"application/json", false},
		{"application/json; charset=utf-8", false},
		{"Application/JSON", false},
		{"text/plain", false},
		{"text/csv; charset=utf-8", false},
		{"application/xml", false},
		{"application/javascript", false},
		{"", true},
		{"application/x-www-form-urlencoded", true},
		{"application/cloudevents+json", true},
		{"application/cloudevents-batch+json", true},
		{"application/octet-stream", true},
		{"multipart/form-data; boundary=x", true},
		{"image/png", true},
	}
	fn := &invoker{}
	s := newServer(t, []httpapi.Route{{Method: "POST", Path: "/events", Invoker: fn}}, httpapi.Options{})
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/events", strings.NewReader(body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			serve(s, r)
			ev := fn.last(t)
			want := body
			if tt.base64 {
				want = "YT0xJmI9Y2Fmw6k="
			}
			if ev.IsBase64Encoded != tt.base64 || ev.Body != want {
				t.Errorf("isBase64Encoded, body = %v, %q; want %v, %q", ev.IsBase64Encoded, ev.Body, tt.base64, want)
			}
		})
	}
	t.Run("no body", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/events", nil)
		r.Header.Set("Content-Type", "application/octet-stream")
		serve(s, r)
		if ev := fn.last(t); ev.IsBase64Encoded || ev.Body != "" {
			t.Errorf("isBase64Encoded, body = %v, %q; want false, empty", ev.IsBase64Encoded, ev.Body)
		}
	})
}

func TestHeadersQueryAndCookies(t *testing.T) {
	fn := &invoker{}
	s := newServer(t, []httpapi.Route{{Method: "GET", Path: "/events", Invoker: fn}}, httpapi.Options{})
	r := httptest.NewRequest("GET", "/events?type=a&type=b&limit=10&q=caf%C3%A9+x&flag", nil)
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("Authorization", "Bearer t")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	serve(s, r)
	ev := fn.last(t)
	if got := ev.Headers["x-multi"]; got != "one,two" {
		t.Errorf(`headers["x-multi"] = %q; want "one,two"`, got)
	}
	if got := ev.Headers["authorization"]; got != "Bearer t" {
		t.Errorf(`headers["authorization"] = %q; want "Bearer t"`, got)
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) || k == "cookie" {
			t.Errorf("header %q: want lower-case names and no cookie header", k)
		}
	}
	if want := []string{"a=1", "b=2", "c=3"}; !slices.Equal(ev.Cookies, want) {
		t.Errorf("cookies = %q; want %q", ev.Cookies, want)
	}
	if ev.RawQueryString != "type=a&type=b&limit=10&q=caf%C3%A9+x&flag" {
		t.Errorf("rawQueryString = %q", ev.RawQueryString)
	}
	wantQuery := map[string]string{"type": "a,b", "limit": "10", "q": "caf\u00e9 x", "flag": ""}
	if !maps.Equal(ev.QueryStringParameters, wantQuery) {
		t.Errorf("queryStringParameters = %v; want %v", ev.QueryStringParameters, wantQuery)
	}
}

func TestResponseMapping(t *testing.T) {
	tests := []struct {
		name       string
		out        string
		status     int
		header     http.Header // expected values of these headers
		body       string
		cookies    []string
		noSniffing bool
	}{
		{name: "status object", out: `{"statusCode":202,"headers":{"content-type":"application/json","x-request":"r1","content-length":"999"},"body":"{\"ids\":[\"e1\"]}"}`,
			status: 202, header: http.Header{"Content-Type": {"application/json"}, "X-Request": {"r1"}, "Content-Length": {"14"}}, body: `{"ids":["e1"]}`},
		{name: "no content type", out: `{"statusCode":200,"body":"<p>hi</p>"}`,
			status: 200, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: `<p>hi</p>`},
		{name: "base64 body", out: `{"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"iVBORw0KGgo=","isBase64Encoded":true}`,
			status: 200, header: http.Header{"Content-Type": {"image/png"}}, body: "\x89PNG\r\n\x1a\n"},
		{name: "cookies", out: `{"statusCode":303,"headers":{"location":"/x","set-cookie":"h=0"},"cookies":["a=1; Path=/; HttpOnly","b=2"]}`,
			status: 303, header: http.Header{"Location": {"/x"}}, cookies: []string{"a=1; Path=/; HttpOnly", "b=2", "h=0"}},
		{name: "multiValueHeaders ignored", out: `{"statusCode":200,"multiValueHeaders":{"x-m":["1","2"]},"body":"x"}`,
			status: 200, header: http.Header{"X-M": nil}, body: "x"},
		{name: "empty 204", out: `{"statusCode":204}`, status: 204, header: http.Header{"Content-Length": nil}},
		{name: "plain object", out: `{"hello":"world"}`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `{"hello":"world"}`},
		{name: "plain string", out: `"Hello from Lambda!"`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `Hello from Lambda!`},
		{name: "plain array", out: `[1,2]`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `[1,2]`},
		{name: "plain null", out: `null`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `null`},
		{name: "invalid JSON", out: `{"statusCode":200`, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "empty output", out: ``, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "statusCode a string", out: `{"statusCode":"200"}`, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "statusCode out of range", out: `{"statusCode":42}`, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "body an object", out: `{"statusCode":200,"body":{"a":1}}`, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "bad base64", out: `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, status: 500, body: `{"message":"Internal Server Error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &invoker{respond: respondWith(tt.out, nil)}
			s := newServer(t, []httpapi.Route{{Method: "GET", Path: "/", Invoker: fn}}, httpapi.Options{})
			rec := serve(s, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d; want %d", rec.Code, tt.status)
			}
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("body = %q; want %q", got, tt.body)
			}
			for k, want := range tt.header {
				if got := rec.Result().Header[k]; !slices.Equal(got, want) {
					t.Errorf("header %s = %q; want %q", k, got, want)
				}
			}
			if got := rec.Result().Header["Set-Cookie"]; !slices.Equal(got, tt.cookies) {
				t.Errorf("Set-Cookie = %q; want %q", got, tt.cookies)
			}
			if got := rec.Header().Get("Apigw-Requestid"); got != "KKUqmiCAoAMEPfg=" {
				t.Errorf("apigw-requestid = %q; want KKUqmiCAoAMEPfg=", got)
			}
		})
	}
}

type functionError struct{ msg string }

func (e *functionError) Error() string { return e.msg }

func TestInvocationErrors(t *testing.T) {
	isFunctionError := func(err error) bool { return errors.As(err, new(*functionError)) }
	tests := []struct {
		name    string
		respond func(context.Context, []byte) ([]byte, error)
		status  int
		body    string
	}{
		{"function error", respondWith(``, &functionError{"errorString: boom"}), 500, `{"message":"Internal Server Error"}`},
		{"invoke failure", respondWith(``, errors.New("connection refused")), 500, `{"message":"Internal Server Error"}`},
		{"integration timeout", func(ctx context.Context, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, 503, `{"message":"Service Unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			s := newServer(t, []httpapi.Route{{Method: "POST", Path: "/events", Function: "ingest", Invoker: &invoker{respond: tt.respond}}},
				httpapi.Options{IsFunctionError: isFunctionError, IntegrationTimeout: 20 * time.Millisecond, AccessLog: &log})
			rec := serve(s, httptest.NewRequest("POST", "/events", strings.NewReader("{}")))
			if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("response = %d %s %q; want %d %s application/json", rec.Code, rec.Body, rec.Header().Get("Content-Type"), tt.status, tt.body)
			}
			if !strings.Contains(log.String(), `"integrationErrorMessage":`) {
				t.Errorf("access log %q; want the integration error", log.String())
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	fn := &invoker{}
	s := newServer(t, []httpapi.Route{{Method: "POST", Path: "/events", Invoker: fn}}, httpapi.Options{})
	big := bytes.Repeat([]byte("x"), httpapi.MaxBodySize+1)
	declared := httptest.NewRequest("POST", "/events", bytes.NewReader(big))
	chunked := httptest.NewRequest("POST", "/events", io.MultiReader(bytes.NewReader(big)))
	chunked.ContentLength = -1
	for name, r := range map[string]*http.Request{"declared": declared, "chunked": chunked} {
		rec := serve(s, r)
		if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != `{"message":"Request Entity Too Large"}` {
			t.Errorf("%s: response = %d %s; want 413", name, rec.Code, rec.Body)
		}
	}
	if fn.calls() != 0 {
		t.Errorf("function invoked %d times; want 0", fn.calls())
	}
	rec := serve(s, httptest.NewRequest("POST", "/events", bytes.NewReader(big[:httpapi.MaxBodySize])))
	if rec.Code != http.StatusOK {
		t.Errorf("10 MB body: status = %d; want 200", rec.Code)
	}
}

func TestStage(t *testing.T) {
	fn := &invoker{}
	s := newServer(t, []httpapi.Route{{Method: "POST", Path: "/events", Invoker: fn}}, httpapi.Options{Stage: "dev"})
	if rec := serve(s, httptest.NewRequest("POST", "/events", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("POST /events = %d; want 404 (no stage prefix)", rec.Code)
	}
	if rec := serve(s, httptest.NewRequest("POST", "/devx/events", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("POST /devx/events = %d; want 404", rec.Code)
	}
	if rec := serve(s, httptest.NewRequest("POST", "/dev/events", nil)); rec.Code != http.StatusOK {
		t.Fatalf("POST /dev/events = %d; want 200", rec.Code)
	}
	if ev := fn.last(t); ev.RawPath != "/dev/events" || ev.RequestContext.Stage != "dev" || ev.RouteKey != "POST /events" {
		t.Errorf("rawPath, stage, routeKey = %q, %q, %q; want /dev/events, dev, POST /events", ev.RawPath, ev.RequestContext.Stage, ev.RouteKey)
	}
}

func TestAccessLog(t *testing.T) {
	var log bytes.Buffer
	s := newServer(t, []httpapi.Route{{Method: "POST", Path: "/events", Function: "ingest", Invoker: &invoker{}}}, httpapi.Options{AccessLog: &log})
	serve(s, httptest.NewRequest("POST", "/events", strings.NewReader("{}")))
	serve(s, httptest.NewRequest("GET", "/missing", nil))
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	want := []string{
		`{"requestId":"KKUqmiCAoAMEPfg=","ip":"192.0.2.1","requestTime":"14/Mar/2026:15:09:26 +0000","httpMethod":"POST","path":"/events","routeKey":"POST /events","status":200,"protocol":"HTTP/1.1","responseLength":2,"responseLatency":0,"integrationLatency":0,"function":"ingest"}`,
		`{"requestId":"KKUqmiCAoAMEPfg=","ip":"192.0.2.1","requestTime":"14/Mar/2026:15:09:26 +0000","httpMethod":"GET","path":"/missing","status":404,"protocol":"HTTP/1.1","responseLength":23,"responseLatency":0}`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("access log =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestOverTheWire runs the emulator behind a real HTTP server.
func TestOverTheWire(t *testing.T) {
	fn := &invoker{respond: respondWith(`{"statusCode":201,"headers":{"content-type":"application/json"},"cookies":["s=1"],"body":"{\"ok\":true}"}`, nil)}
	s, err := httpapi.New([]httpapi.Route{{Method: "POST", Path: "/events", Invoker: fn}}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/events?x=1", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || string(body) != `{"ok":true}` || resp.Header.Get("Set-Cookie") != "s=1" || len(resp.Header.Get("Apigw-Requestid")) != 16 {
		t.Errorf("response = %d %s %v", resp.StatusCode, body, resp.Header)
	}
	ev := fn.last(t)
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	if ev.Headers["x-forwarded-port"] != port || ev.Headers["content-length"] != "7" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" ||
		ev.RequestContext.DomainName != "127.0.0.1" || ev.Body != `{"a":1}` || ev.RequestContext.RequestID != resp.Header.Get("Apigw-Requestid") {
		t.Errorf("event = %+v", ev)
	}
}

// TestRequestEventGolden pins the whole event of one request.
func TestRequestEventGolden(t *testing.T) {
	fn := &invoker{}
	s := newServer(t, []httpapi.Route{{Method: "GET", Path: "/events/{id}", Invoker: fn}}, httpapi.Options{APIID: "a1b2c3d4e5"})
	r := httptest.NewRequest("GET", "http://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/events/evt%2D1?include=timeline&include=data&pretty", strings.NewReader(`{"note":"a body on a GET"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "curl/8.5.0")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Authorization", "Bearer ehk_test")
	r.Header.Add("X-Forwarded-For", "198.51.100.7")
	r.Header.Set("Cookie", "session=abc; theme=dark")
	serve(s, r)
	var got bytes.Buffer
	if err := json.Indent(&got, fn.payloads[0], "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	golden := filepath.Join("testdata", "request.golden.json")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("event =\n%s\nwant (%s)\n%s", got.Bytes(), golden, want)
	}
}
