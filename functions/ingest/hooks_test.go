package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/inbound"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

const (
	ghSecret = "ehs_github-secret-0123456789"
	glSecret = "ehs_gitlab-secret-0123456789"
	swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

var hookSources = map[string]*store.Source{
	"src_gh":  {ID: "src_gh", Format: inbound.GitHub, Enabled: true, InboundSecret: ghSecret, PrevInboundSecret: "ehs_previous-secret-0123", PrevInboundSecretUntil: now.Add(1), Owns: &ownership.Set{}},
	"src_gl":  {ID: "src_gl", Format: inbound.GitLab, Enabled: true, InboundSecret: glSecret, Owns: &ownership.Set{}},
	"src_sw":  {ID: "src_sw", Format: inbound.StandardWebhooks, Enabled: true, InboundSecret: swSecret, Owns: &ownership.Set{}},
	"src_off": {ID: "src_off", Format: inbound.GitHub, Enabled: false, InboundSecret: ghSecret, Owns: &ownership.Set{}},
	"src_1":   testSources[token],
}

func newHookHandler(pub *fakeBus) *handler {
	h := newTestHandler(pub)
	h.byID = appFunc(knownSources(hookSources))
	return h
}

func hook(sourceID string, headers map[string]string, body string) apigw.Request {
	hs := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		hs[k] = v
	}
	return apigw.Request{
		RouteKey:       routeHooks,
		RawPath:        "/hooks/" + sourceID,
		PathParameters: map[string]string{"sourceId": sourceID},
		Headers:        hs,
		Body:           body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  routeHooks,
			RequestID: "req-hook",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/hooks/" + sourceID},
		},
	}
}

// TestHookRefusals: on /hooks/{sourceId} a request is refused with one 401, the same
// whether the source exists or not, whenever its credential is missing, malformed or
// wrong, is another source's, or is a bearer token for a source that verifies
// signatures; nothing is published.
func TestHookRefusals(t *testing.T) {
	body := `{"zen":"Design for failure."}`
	gh := inbound.Sign(inbound.GitHub, ghSecret, "", now, []byte(body))
	sw := inbound.Sign(inbound.StandardWebhooks, swSecret, "msg_1", now, []byte(body))
	cases := []struct {
		name    string
		source  string
		headers map[string]string
	}{
		{"unknown source with a good signature", "src_nope", gh},
		{"unknown source with a token", "src_nope", map[string]string{"authorization": "Bearer " + token}},
		{"github without signature", "src_gh", nil},
		{"github with the bearer token of another source", "src_gh", map[string]string{"authorization": "Bearer " + token}},
		{"github signature of another body", "src_gh", inbound.Sign(inbound.GitHub, ghSecret, "", now, []byte(body+" "))},
		{"github signature with another secret", "src_gh", inbound.Sign(inbound.GitHub, glSecret, "", now, []byte(body))},
		{"github malformed signature", "src_gh", map[string]string{inbound.HeaderGitHubSignature: "sha256=xyz"}},
		{"github sha1 signature", "src_gh", map[string]string{"x-hub-signature": "sha1=0000000000000000000000000000000000000000"}},
		{"github signature for gitlab source", "src_gl", gh},
		{"gitlab wrong token", "src_gl", map[string]string{inbound.HeaderGitLabToken: glSecret + "x"}},
		{"gitlab the secret as bearer", "src_gl", map[string]string{"authorization": "Bearer " + glSecret}},
		{"standard webhooks stale", "src_sw", inbound.Sign(inbound.StandardWebhooks, swSecret, "msg_1", now.Add(-10*60e9), []byte(body))},
		{"standard webhooks other id", "src_sw", map[string]string{inbound.HeaderWebhookID: "msg_2", inbound.HeaderWebhookTime: sw[inbound.HeaderWebhookTime], inbound.HeaderWebhookSig: sw[inbound.HeaderWebhookSig]}},
		{"bearer source without token", "src_1", nil},
		{"bearer source with another's token", "src_1", map[string]string{"authorization": "Bearer ehp_disabled"}},
		{"bearer source with a signature", "src_1", gh},
		{"overlong id", strings.Repeat("s", 300), gh},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			resp, err := newHookHandler(pub).handle(context.Background(), hook(tc.source, tc.headers, body))
			if err != nil {
				t.Fatal(err)
			}
			r := decodeReply(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || r.Error == nil || r.Error.Message != errHook.Message {
				t.Errorf("status %d, %s; want 401 with the one /hooks message", resp.StatusCode, resp.Body)
			}
			for _, s := range []string{ghSecret, glSecret, swSecret, token} {
				if strings.Contains(resp.Body, s) {
					t.Errorf("the answer names a secret: %s", resp.Body)
				}
			}
			if len(pub.entries) != 0 {
				t.Errorf("published %d entries; want none", len(pub.entries))
			}
		})
	}
}

// TestHookDisabled: a disabled source's producer that authenticates is told so (403).
func TestHookDisabled(t *testing.T) {
	body := `{"zen":"x"}`
	resp, err := newHookHandler(&fakeBus{}).handle(context.Background(), hook("src_off", inbound.Sign(inbound.GitHub, ghSecret, "", now, []byte(body)), body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status = %d %s; want 403", resp.StatusCode, resp.Body)
	}
}

// TestHookBearer: a source without an inbound verifier posts to its own /hooks URL
// with its token, like to /events.
func TestHookBearer(t *testing.T) {
	pub := &fakeBus{}
	resp, err := newHookHandler(pub).handle(context.Background(), hook("src_1", map[string]string{"authorization": "Bearer " + token, "content-type": "application/cloudevents+json"}, ce("hook-1")))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || len(pub.events) != 1 || pub.events[0].Hub.SourceID != "src_1" {
		t.Fatalf("status %d %s, %d entries; want 202 and one Event Received of src_1", resp.StatusCode, resp.Body, len(pub.events))
	}
}

// TestHookRotatedSecret: a warm ingest that cached a source before its secret was
// rotated reads it again before refusing the new secret's signature.
func TestHookRotatedSecret(t *testing.T) {
	body := []byte(`{"zen":"x"}`)
	old := *hookSources["src_gh"]
	rotated := old
	rotated.InboundSecret = "ehs_rotated-secret-0123456789"
	h := newHookHandler(&fakeBus{})
	h.byID = staleApps{cached: &old, fresh: &rotated}
	req := hook("src_gh", inbound.Sign(inbound.GitHub, rotated.InboundSecret, "", now, body), string(body))
	if src, err := h.hookSource(context.Background(), &req, body); err != nil || src.InboundSecret != rotated.InboundSecret {
		t.Errorf("hookSource with the rotated secret = %v, %v; want the fresh source", src, err)
	}
	req = hook("src_gh", inbound.Sign(inbound.GitHub, "ehs_never-the-secret-000", "", now, body), string(body))
	if _, err := h.hookSource(context.Background(), &req, body); err != errHook {
		t.Errorf("hookSource with a wrong secret = %v; want errHook", err)
	}
}

// countingApps is staleApps that counts the reads past the cache.
type countingApps struct {
	staleApps
	fresh *int
}

func (c countingApps) Fresh(ctx context.Context, key string) (*store.Source, error) {
	*c.fresh++
	return c.staleApps.Fresh(ctx, key)
}

// TestHookForgedSignaturesReadOncePerSecond: wrong signatures are refused, and read
// the source past the cache at most once a second, however many arrive.
func TestHookForgedSignaturesReadOncePerSecond(t *testing.T) {
	body := []byte(`{"zen":"x"}`)
	src := *hookSources["src_gh"]
	reads := 0
	at := now
	h := newHookHandler(&fakeBus{})
	h.now = func() time.Time { return at }
	h.byID = countingApps{staleApps{cached: &src, fresh: &src}, &reads}
	for _, tc := range []struct {
		after time.Duration
		reads int
	}{{0, 1}, {0, 1}, {500 * time.Millisecond, 1}, {1100 * time.Millisecond, 2}, {1200 * time.Millisecond, 2}} {
		at = now.Add(tc.after)
		req := hook("src_gh", inbound.Sign(inbound.GitHub, "ehs_never-the-secret-000", "", at, body), string(body))
		if _, err := h.hookSource(context.Background(), &req, body); err != errHook {
			t.Errorf("at +%v: hookSource with a wrong secret = %v; want errHook", tc.after, err)
		}
		if reads != tc.reads {
			t.Errorf("at +%v: %d reads past the cache; want %d", tc.after, reads, tc.reads)
		}
	}
}

// TestHookSecrets: each verifier's good credential passes authentication, with the
// current secret or the one a rotation replaced within its grace.
func TestHookSecrets(t *testing.T) {
	body := []byte(`{"zen":"x"}`)
	for _, tc := range []struct {
		source  string
		headers map[string]string
		ok      bool
	}{
		{"src_gh", inbound.Sign(inbound.GitHub, ghSecret, "", now, body), true},
		{"src_gh", inbound.Sign(inbound.GitHub, "ehs_previous-secret-0123", "", now, body), true},
		{"src_gl", inbound.Sign(inbound.GitLab, glSecret, "", now, body), true},
		{"src_sw", inbound.Sign(inbound.StandardWebhooks, swSecret, "msg_1", now, body), true},
		{"src_sw", inbound.Sign(inbound.StandardWebhooks, swSecret, "msg_1", now.Add(-6*60e9), body), false},
	} {
		t.Run(fmt.Sprint(tc.source, tc.ok), func(t *testing.T) {
			req := hook(tc.source, tc.headers, string(body))
			src, err := newHookHandler(&fakeBus{}).hookSource(context.Background(), &req, body)
			if (err == nil) != tc.ok || (tc.ok && src.ID != tc.source) {
				t.Errorf("hookSource = %v, %v; want ok=%v", src, err, tc.ok)
			}
		})
	}
}

// FuzzHooks posts arbitrary bodies and credential headers to /hooks/{sourceId}: the
// answer is JSON and never a 5xx; a source that verifies signatures accepts a request
// only when its credential is the one its producer would send for that body; nothing
// refused reaches the bus.
func FuzzHooks(f *testing.F) {
	gh := `{"action":"opened","repository":{"full_name":"o/r"}}`
	f.Add(0, gh, inbound.Sign(inbound.GitHub, ghSecret, "", now, []byte(gh))[inbound.HeaderGitHubSignature], "issues", "d-1", "")
	f.Add(1, `{"object_kind":"push"}`, glSecret, "", "", "")
	f.Add(2, `{"type":"invoice.paid"}`, "v1,AAAA", "msg_1", "1614265330", "")
	f.Add(3, ce("h"), "", "", "", "Bearer "+token)
	f.Add(0, "[", "sha256=", "\x00", "", "Bearer")
	sources := []string{"src_gh", "src_gl", "src_sw", "src_1", "src_nope"}
	f.Fuzz(func(t *testing.T, which int, body, credential, a, b, authorization string) {
		if which < 0 {
			return
		}
		id := sources[which%len(sources)]
		headers := map[string]string{"authorization": authorization, "x-github-event": a, "x-github-delivery": b}
		switch id {
		case "src_gh":
			headers[inbound.HeaderGitHubSignature] = credential
		case "src_gl":
			headers[inbound.HeaderGitLabToken] = credential
		case "src_sw":
			headers[inbound.HeaderWebhookSig], headers[inbound.HeaderWebhookID], headers[inbound.HeaderWebhookTime] = credential, a, b
		}
		pub := &fakeBus{}
		resp, err := newHookHandler(pub).handle(context.Background(), hook(id, headers, body))
		if err != nil {
			t.Fatalf("handle = %v", err)
		}
		if resp.StatusCode >= 500 || !json.Valid([]byte(resp.Body)) {
			t.Fatalf("status %d, answer %s", resp.StatusCode, resp.Body)
		}
		if resp.StatusCode == http.StatusUnauthorized && len(pub.entries) != 0 {
			t.Fatalf("a refused request published %d entries", len(pub.entries))
		}
		if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusMultiStatus {
			src := hookSources[id]
			if src != nil && inbound.Verifies(src.Format) && inbound.Verify(src.Format, src.InboundSecret, headers, []byte(body), now) != nil &&
				inbound.Verify(src.Format, src.PrevInboundSecret, headers, []byte(body), now) != nil {
				t.Fatalf("%s accepted %q with %v", id, body, headers)
			}
		}
	})
}
