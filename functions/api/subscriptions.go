package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
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

// subscriptionStore is what the subscription and delivery routes need besides the
// create, read and delete calls of adminStore.
type subscriptionStore interface {
	UpdateSubscription(ctx context.Context, sub store.Subscription, prev time.Time) error
	GetDelivery(ctx context.Context, key, subID string) (*store.Delivery, error)
	ListDeliveries(ctx context.Context, q store.DeliveryQuery) (*store.DeliveryPage, error)
}

// subscriptionInput is the body of POST /subscriptions, and of PATCH
// /subscriptions/{id} over the subscription's current values.
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

// subscriptionView is a subscription as the API shows it: the signing secret only on
// creation and rotation, header values never (they are write-only: each shows as
// maskedHeader).
type subscriptionView struct {
	store.Subscription
	Pattern json.RawMessage `json:"pattern"`
	Secret  string          `json:"secret,omitempty"`
}

// maskedHeader is how a header value shows. Sent back in a PATCH, it keeps the value
// the header has.
const maskedHeader = "********"

func view(s store.Subscription) subscriptionView {
	p := s.Pattern
	if p == "" {
		p = "{}"
	}
	if len(s.Headers) > 0 {
		masked := make(map[string]string, len(s.Headers))
		for k := range s.Headers {
			masked[k] = maskedHeader
		}
		s.Headers = masked
	}
	return subscriptionView{Subscription: s, Pattern: json.RawMessage(p)}
}

// listed is a subscription as a listing shows it: its URL redacted too (no
// credentials, no query values), since a listing goes wherever lists of things go;
// GET /subscriptions/{id} shows the URL whole.
func listed(s store.Subscription) subscriptionView {
	v := view(s)
	v.URL = webhook.RedactURL(s.URL)
	return v
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
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fault.At("url", "must be an absolute http or https URL")
	}
	if u.Fragment != "" {
		return nil, fault.At("url", "must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fault.At("url", "port %s is not between 1 and 65535", p)
		}
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
	case "", store.ModeCloudEvents:
		sub.Mode = store.ModeCloudEvents
	case store.ModeIUAP:
	default:
		return nil, fault.At("mode", "unknown mode %q: use \"cloudevents\" or \"iuap\"", in.Mode)
	}
	sub.Group = strings.TrimSpace(in.Group)
	if len(sub.Group) > 64 {
		return nil, fault.At("group", "at most 64 characters")
	}
	if in.Order < 0 || in.Order > 1_000_000 {
		return nil, fault.At("order", "must be between 0 and 1000000")
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
		"POST /subscriptions":                             h.createSubscription,
		"GET /subscriptions":                              h.listSubscriptions,
		"GET /subscriptions/{id}":                         h.getSubscription,
		"PATCH /subscriptions/{id}":                       h.updateSubscription,
		"DELETE /subscriptions/{id}":                      h.deleteSubscription,
		"POST /subscriptions/{id}/enable":                 h.enableSubscription,
		"POST /subscriptions/{id}/disable":                h.disableSubscription,
		"POST /subscriptions/{id}/rotate-secret":          h.rotateSecret,
		"GET /subscriptions/{id}/deliveries":              h.listDeliveries,
		"POST /subscriptions/{id}/deliveries/{key}/retry": h.retryDelivery,
		"POST /subscriptions/{id}/recover":                h.recoverDeliveries,
		"POST /deliveries/redrive":                        h.redriveDeadLetters,
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
		out[i] = listed(s)
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

// input returns the subscription as the input that would create it, for PATCH.
func input(s store.Subscription) subscriptionInput {
	in := subscriptionInput{
		Name: s.Name, URL: s.URL, Pattern: json.RawMessage(s.Pattern), Mode: s.Mode, Enabled: &s.Enabled,
		Retry: s.Retry, Headers: s.Headers, Timeout: float64(s.TimeoutMs) / 1000, Group: s.Group, Order: s.Order,
	}
	if len(in.Pattern) == 0 {
		in.Pattern = json.RawMessage("{}")
	}
	return in
}

// updateSubscription changes the fields the body names, with the validation of a new
// subscription. Secrets are changed only by rotate-secret.
func (h *handler) updateSubscription(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	cur, err := h.store.GetSubscription(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	in := input(*cur)
	in.Enabled = ptrTo(cur.Enabled)      // decoding writes through the pointer
	in.Headers = maps.Clone(cur.Headers) // and into the map: headers named in the body replace those
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	if err := keepMasked(in.Headers, cur.Headers); err != nil {
		return apigw.Response{}, err
	}
	next, err := in.validate()
	if err != nil {
		return apigw.Response{}, err
	}
	return h.saveSubscription(ctx, cur, func(s *store.Subscription) {
		enabled := s.Enabled
		keep := *s
		*s = *next
		s.ID, s.Secrets, s.SecretGraceUntil, s.CreatedAt = keep.ID, keep.Secrets, keep.SecretGraceUntil, keep.CreatedAt
		s.FailingSince, s.DisabledReason, s.DisabledAt = keep.FailingSince, keep.DisabledReason, keep.DisabledAt
		s.Enabled = enabled
		setEnabled(s, next.Enabled, h.now().UTC())
	})
}

// keepMasked puts the current value back into every header of a PATCH whose value is
// the mask the API shows: a client that read the subscription and sends its headers
// back changes none of them. A masked header the subscription does not have is a 400.
func keepMasked(headers, cur map[string]string) error {
	for k, v := range headers {
		if v != maskedHeader {
			continue
		}
		old, ok := cur[k]
		if !ok {
			return fault.At("headers."+k, "is the mask of a header value, but the subscription has no such header: send the value")
		}
		headers[k] = old
	}
	return nil
}

// setEnabled turns a subscription on or off by an operator's decision. Turning it on
// forgets why it was off and its run of failures.
func setEnabled(s *store.Subscription, on bool, now time.Time) {
	if s.Enabled == on {
		return
	}
	s.Enabled = on
	if on {
		s.DisabledReason, s.DisabledAt, s.FailingSince = "", nil, nil
	} else {
		s.DisabledReason, s.DisabledAt = store.DisabledByOperator, &now
	}
}

// saveSubscription applies change to cur and stores it if it changed cur.
func (h *handler) saveSubscription(ctx context.Context, cur *store.Subscription, change func(*store.Subscription)) (apigw.Response, error) {
	next := *cur
	change(&next)
	next.UpdatedAt = h.now().UTC()
	if !next.UpdatedAt.After(cur.UpdatedAt) {
		next.UpdatedAt = cur.UpdatedAt.Add(time.Millisecond)
	}
	if err := h.store.UpdateSubscription(ctx, next, cur.UpdatedAt); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, view(next)), nil
}

func (h *handler) enableSubscription(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	return h.switchSubscription(ctx, req, true)
}

func (h *handler) disableSubscription(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	return h.switchSubscription(ctx, req, false)
}

func (h *handler) switchSubscription(ctx context.Context, req *apigw.Request, on bool) (apigw.Response, error) {
	cur, err := h.store.GetSubscription(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	if cur.Enabled == on {
		return apigw.JSON(http.StatusOK, view(*cur)), nil
	}
	return h.saveSubscription(ctx, cur, func(s *store.Subscription) { setEnabled(s, on, h.now().UTC()) })
}

// rotateInput is the optional body of POST /subscriptions/{id}/rotate-secret.
type rotateInput struct {
	Secret string `json:"secret"` // a whsec_ secret of the caller's choosing; default a new random one
	Grace  string `json:"grace"`  // how long the previous secret keeps signing; default 24h
}

const (
	defaultGrace = 24 * time.Hour
	maxGrace     = 7 * 24 * time.Hour
)

// rotateSecret makes a new signing secret current. The previous one keeps signing
// beside it, a second v1 signature in webhook-signature, for the grace period; the
// one before that, if its grace was still running, stops at once.
func (h *handler) rotateSecret(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in rotateInput
	if body, _ := apigw.Body(req); len(bytes.TrimSpace(body)) > 0 {
		if err := decode(req, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	grace := defaultGrace
	if in.Grace != "" {
		d, err := time.ParseDuration(in.Grace)
		if err != nil || d < 0 || d > maxGrace {
			return apigw.Response{}, fault.At("grace", "must be a duration such as \"24h\", between 0 and 168h")
		}
		grace = d
	}
	secret := in.Secret
	if secret == "" {
		secret = webhook.NewSecret()
	} else if err := webhook.CheckSecret(secret); err != nil {
		return apigw.Response{}, fault.At("secret", "%v", err)
	}
	cur, err := h.store.GetSubscription(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now().UTC()
	resp, err := h.saveSubscription(ctx, cur, func(s *store.Subscription) {
		s.Secrets = []string{secret}
		s.SecretGraceUntil = nil
		if grace > 0 && len(cur.Secrets) > 0 {
			until := now.Add(grace)
			s.Secrets = append(s.Secrets, cur.Secrets[0])
			s.SecretGraceUntil = &until
		}
	})
	if err != nil {
		return resp, err
	}
	var v subscriptionView
	_ = json.Unmarshal([]byte(resp.Body), &v) // our own answer
	v.Secret = secret
	return apigw.JSON(http.StatusOK, v), nil
}

func ptrTo[T any](v T) *T { return &v }
