package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/pattern"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// subscriptionInput is the body of POST /subscriptions.
type subscriptionInput struct {
	Name    string            `json:"name"`
	URL     string            `json:"url"`
	Pattern json.RawMessage   `json:"pattern"`
	Mode    string            `json:"mode"`
	Enabled *bool             `json:"enabled"`
	Retry   []string          `json:"retry"`
	Headers map[string]string `json:"headers"`
	Timeout float64           `json:"timeout"` // seconds
	Group   string            `json:"group"`
	Order   int               `json:"order"`
}

// subscriptionView is a subscription as the API shows it; the secret only on creation.
type subscriptionView struct {
	store.Subscription
	Pattern json.RawMessage `json:"pattern"`
	Secret  string          `json:"secret,omitempty"`
}

func view(s store.Subscription) subscriptionView {
	p := s.Pattern
	if p == "" {
		p = "{}"
	}
	return subscriptionView{Subscription: s, Pattern: json.RawMessage(p)}
}

const (
	maxRetries = 20
	maxTimeout = 30 * time.Second
	maxDelay   = 24 * time.Hour
)

func (in *subscriptionInput) validate() (*store.Subscription, error) {
	sub := &store.Subscription{Name: strings.TrimSpace(in.Name), Mode: in.Mode, Enabled: true, Group: in.Group, Order: in.Order}
	if sub.Name == "" {
		return nil, fault.At("name", "required")
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fault.At("url", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return nil, fault.At("url", "must not carry credentials; use headers")
	}
	sub.URL = u.String()
	p := bytes.TrimSpace(in.Pattern)
	if len(p) == 0 || string(p) == "null" {
		p = []byte("{}")
	}
	if _, err := pattern.Compile(p); err != nil {
		return nil, fault.At("pattern", "%v", err)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, p) // Compile accepted it, so it is valid JSON
	sub.Pattern = compact.String()
	switch in.Mode {
	case "", "cloudevents":
		sub.Mode = "cloudevents"
	default:
		return nil, fault.At("mode", "unknown mode %q: use \"cloudevents\"", in.Mode)
	}
	if in.Enabled != nil {
		sub.Enabled = *in.Enabled
	}
	if len(in.Retry) > maxRetries {
		return nil, fault.At("retry", "at most %d retries", maxRetries)
	}
	for i, r := range in.Retry {
		d, err := time.ParseDuration(r)
		if err != nil || d < 0 || d > maxDelay {
			return nil, fault.At("retry["+strconv.Itoa(i)+"]", "must be a duration such as \"5s\" or \"2h\", between 0 and 24h")
		}
	}
	sub.Retry = in.Retry
	for k, v := range in.Headers {
		if !validHeaderName(k) || !validHeaderValue(v) {
			return nil, fault.At("headers."+k, "invalid header name or value")
		}
		switch strings.ToLower(k) {
		case "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host", "user-agent",
			"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade":
			return nil, fault.At("headers."+k, "is set by eventhub and cannot be overridden")
		}
	}
	sub.Headers = in.Headers
	if in.Timeout < 0 || in.Timeout > maxTimeout.Seconds() {
		return nil, fault.At("timeout", "must be between 0 and %d seconds", int(maxTimeout/time.Second))
	}
	sub.TimeoutMs = int(in.Timeout * 1000)
	return sub, nil
}

// validHeaderValue accepts what HTTP allows in a field value: no control characters
// but the horizontal tab. Go's client refuses the others at send time, so a
// subscription carrying one could never be delivered.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func (h *handler) subscriptionRoutes() map[string]route {
	return map[string]route{
		"POST /subscriptions":        h.createSubscription,
		"GET /subscriptions":         h.listSubscriptions,
		"GET /subscriptions/{id}":    h.getSubscription,
		"DELETE /subscriptions/{id}": h.deleteSubscription,
	}
}

func (h *handler) createSubscription(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in subscriptionInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	sub, err := in.validate()
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now().UTC()
	sub.ID = h.id("sub_")
	sub.Secrets = []string{webhook.NewSecret()}
	sub.CreatedAt, sub.UpdatedAt = now, now
	if err := h.store.CreateSubscription(ctx, *sub); err != nil {
		return apigw.Response{}, err
	}
	v := view(*sub)
	v.Secret = sub.Secrets[0]
	resp := apigw.JSON(http.StatusCreated, v)
	resp.Headers["location"] = "/subscriptions/" + sub.ID
	return resp, nil
}

func (h *handler) listSubscriptions(ctx context.Context, _ *apigw.Request) (apigw.Response, error) {
	subs, err := h.store.ListSubscriptions(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	out := make([]subscriptionView, len(subs))
	for i, s := range subs {
		out[i] = view(s)
	}
	return apigw.JSON(http.StatusOK, map[string]any{"subscriptions": out}), nil
}

func (h *handler) getSubscription(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	sub, err := h.store.GetSubscription(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, view(*sub)), nil
}

func (h *handler) deleteSubscription(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	if err := h.store.DeleteSubscription(ctx, req.PathParameters["id"]); err != nil {
		return apigw.Response{}, err
	}
	return noContent(), nil
}
