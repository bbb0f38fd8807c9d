package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// api is a fake eventhub API that records requests and answers with answer.
type api struct {
	*httptest.Server
	reqs   []*http.Request
	bodies []string
	answer func(r *http.Request) (int, string)
}

func newAPI(t *testing.T, answer func(r *http.Request) (int, string)) *api {
	a := &api{answer: answer}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.reqs = append(a.reqs, r)
		a.bodies = append(a.bodies, string(b))
		status, body := a.answer(r)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *api) env(name string) string {
	return map[string]string{"EVENTHUB_API": a.URL, "EVENTHUB_ADMIN_TOKEN": "eha_admin", "EVENTHUB_TOKEN": "ehp_producer"}[name]
}

func runCLI(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSendBuildsACloudEvent(t *testing.T) {
	a := newAPI(t, func(*http.Request) (int, string) { return 202, `{"accepted":1,"rejected":0,"ids":["evt_x"]}` })
	code, out, errOut := runCLI(t, a.env, "send", "-type", "order.created", "-source", "/shop", "-id", "o-1", "-subject", "s", "-data", `{"total":42}`)
	if code != 0 || out != "evt_x\n" {
		t.Fatalf("send = %d %q %q; want 0 and the id", code, out, errOut)
	}
	r := a.reqs[0]
	if r.Method != "POST" || r.URL.Path != "/events" || r.Header.Get("Authorization") != "Bearer ehp_producer" || r.Header.Get("Content-Type") != "application/cloudevents+json" {
		t.Errorf("request %s %s auth %q type %q; want POST /events with the producer token", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(a.bodies[0]), &ev); err != nil || ev["specversion"] != "1.0" || ev["id"] != "o-1" || ev["type"] != "order.created" ||
		ev["source"] != "/shop" || ev["subject"] != "s" || ev["data"].(map[string]any)["total"] != 42.0 {
		t.Errorf("body = %s; want the CloudEvent", a.bodies[0])
	}
}

func TestAPIErrorsAreShown(t *testing.T) {
	a := newAPI(t, func(*http.Request) (int, string) {
		return 400, `{"error":{"code":"invalid","message":"must be a whole number from 1 to 100","path":"limit"}}`
	})
	code, _, errOut := runCLI(t, a.env, "list", "-limit", "0")
	if code != 1 || !strings.Contains(errOut, "HTTP 400 invalid: limit: must be a whole number") {
		t.Errorf("list = %d %q; want exit 1 with the API's reason", code, errOut)
	}
	if got := a.reqs[0].URL.Query().Get("limit"); got != "0" || a.reqs[0].Header.Get("Authorization") != "Bearer eha_admin" {
		t.Errorf("query limit %q, auth %q; want the flag passed with the admin token", got, a.reqs[0].Header.Get("Authorization"))
	}
}

func TestUsageErrors(t *testing.T) {
	a := newAPI(t, func(*http.Request) (int, string) { return 200, `{}` })
	for _, args := range [][]string{{}, {"frobnicate"}, {"get"}, {"get", "a", "b"}, {"send"}, {"send", "-type", "t", "-data", "{"}, {"replay"}, {"list", "-bogus"}, {"tail", "-since", "soon"}} {
		if code, _, _ := runCLI(t, a.env, args...); code != 2 {
			t.Errorf("eventhub %v exit = %d; want 2", args, code)
		}
	}
	if len(a.reqs) != 0 {
		t.Errorf("usage errors made %d requests", len(a.reqs))
	}
	noAPI := func(string) string { return "" }
	t.Chdir(t.TempDir())
	if code, _, errOut := runCLI(t, noAPI, "list"); code != 2 || !strings.Contains(errOut, "EVENTHUB_API") {
		t.Errorf("without EVENTHUB_API: %d %q; want exit 2 naming it", code, errOut)
	}
}

func TestConfigFromLocalEnv(t *testing.T) {
	a := newAPI(t, func(*http.Request) (int, string) { return 200, `{"events":[]}` })
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".eventhub"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := "# written by `make run`\nexport EVENTHUB_ADMIN_TOKEN=eha_file\nexport EVENTHUB_API=" + a.URL + "\nexport EVENTHUB_TOKEN=ehp_file\n"
	if err := os.WriteFile(filepath.Join(dir, ".eventhub", "local.env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "functions", "api")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub) // found one directory up, and further
	code, out, errOut := runCLI(t, func(string) string { return "" }, "list")
	if code != 0 || !strings.HasPrefix(out, "RECEIVED") {
		t.Fatalf("list = %d %q %q", code, out, errOut)
	}
	if got := a.reqs[0].Header.Get("Authorization"); got != "Bearer eha_file" {
		t.Errorf("auth = %q; want the token from local.env", got)
	}
}

func TestGetPrintsTheTimeline(t *testing.T) {
	doc := `{"id":"evt_x","status":"stored","event":{"specversion":"1.0","id":"o-1","source":"/shop","type":"order.created"},
		"receivedAt":"2026-11-23T10:00:00.000Z","storedAt":"2026-11-23T10:00:00.020Z","duplicates":1,
		"timeline":[{"at":"2026-11-23T10:00:00Z","stage":"received","message":"accepted from source src_1"},
		{"at":"2026-11-23T10:00:01Z","stage":"attempt","subscriptionId":"sub_1","attempt":1,"status":500,"latencyMs":12,"outcome":"retry scheduled"},
		{"at":"2026-11-23T10:00:02Z","stage":"replay","subscriptionId":"sub_1","replayId":"rpl_1","status":200,"latencyMs":3,"outcome":"delivered"}],
		"deliveries":[{"subscriptionId":"sub_1","webhookId":"msg_1","status":"pending","attempts":1,"nextAt":"2026-11-23T10:00:06Z"}]}`
	a := newAPI(t, func(r *http.Request) (int, string) { return 200, doc })
	code, out, _ := runCLI(t, a.env, "get", "evt_x")
	if code != 0 || a.reqs[0].URL.Path != "/events/evt_x" {
		t.Fatalf("get = %d, path %s", code, a.reqs[0].URL.Path)
	}
	for _, want := range []string{"evt_x  stored", "order.created", "duplicates  1", "sub_1 #1  HTTP 500  12ms  retry scheduled", "replay rpl_1  HTTP 200  3ms  delivered", "webhook-id msg_1"} {
		if !strings.Contains(out, want) {
			t.Errorf("get printed:\n%s\nwant %q", out, want)
		}
	}
	code, out, _ = runCLI(t, a.env, "get", "evt_x", "-json")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("get -json = %d %q; want the JSON", code, out)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-23T09:00:00Z": now.Add(-time.Hour),
		"15m":                  now.Add(-15 * time.Minute),
		"2d":                   now.Add(-48 * time.Hour),
	} {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWhen("soon", now); err == nil {
		t.Error("parseWhen(soon) succeeded")
	}
}
