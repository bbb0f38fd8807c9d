package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Sender posts signed webhook messages.
type Sender struct {
	client *http.Client
	now    func() time.Time
}

// NewSender returns a sender whose connections obey the guard. Redirects are never
// followed: a 3xx answer is a failed delivery.
func NewSender(g Guard) *Sender { return newSender(g, nil) }

// newSender is NewSender with a last check on every connection after the guard's.
func newSender(g Guard, then func(network, address string, c syscall.RawConn) error) *Sender {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.checker().dialer(net.Dialer{Timeout: 10 * time.Second}, then),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &Sender{
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}
}

// Message is one delivery attempt.
type Message struct {
	URL         string
	ID          string // webhook-id: the same for every attempt of one delivery
	Body        []byte
	ContentType string
	Secrets     []string
	Headers     map[string]string // the subscription's own headers
	Timeout     time.Duration
	// Accept, when set, decides whether a 2xx answer acknowledges the message, from
	// its body: it returns why not, or "" for an acknowledgement. Without it any 2xx
	// acknowledges.
	Accept func(body []byte) string
}

// Result is what an attempt got back. Err is set when no HTTP answer arrived
// (refused, timed out, blocked by the guard).
type Result struct {
	Status     int
	Latency    time.Duration
	Response   string // the first KiB of the response body
	RetryAfter time.Duration
	Err        error
	// TimedOut says Err is the message's Timeout running out before the answer.
	TimedOut bool
	// Nack says why a 2xx answer was not an acknowledgement (Message.Accept).
	Nack string
}

// OK reports whether the receiver acknowledged the message: a 2xx that Accept took.
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 && r.Nack == "" }

// Describe is a short human reading of the result for logs and timelines.
func (r Result) Describe() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Nack != "":
		return "HTTP " + strconv.Itoa(r.Status) + ": " + r.Nack
	}
	return "HTTP " + strconv.Itoa(r.Status)
}

// Problem is the reason the attempt failed, for the timeline; "" when it succeeded or
// when the status says it all.
func (r Result) Problem() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return r.Nack
}

const (
	responseExcerpt = 1024
	maxAckBody      = 64 << 10
)

// reserved headers a subscription may not override.
var reserved = map[string]bool{
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
	"content-type": true, "content-length": true, "host": true, "user-agent": true,
}

// Send signs and posts m.
func (s *Sender) Send(ctx context.Context, m Message) Result {
	at := s.now()
	sig, err := Sign(m.Secrets, m.ID, at, m.Body)
	if err != nil {
		return Result{Err: err}
	}
	if m.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("build request: %w", withoutURL(err))}
	}
	for k, v := range m.Headers {
		if reserved[strings.ToLower(k)] || strings.ContainsAny(k+v, "\r\n") {
			continue
		}
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", m.ContentType)
	req.Header.Set("User-Agent", "eventhub-webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := s.client.Do(req)
	res := Result{Latency: time.Since(start)}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s", m.Timeout)
			res.TimedOut = true
		}
		res.Err = withoutURL(err)
		return res
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAckBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	res.Latency = time.Since(start)
	res.Status = resp.StatusCode
	excerpt := body[:min(len(body), responseExcerpt)]
	res.Response = strings.ToValidUTF8(string(excerpt), string(utf8.RuneError))
	if m.Accept != nil && res.Status >= 200 && res.Status < 300 {
		if err != nil {
			res.Nack = "reading the answer: " + err.Error()
		} else {
			res.Nack = m.Accept(body)
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), at)
	}
	return res
}

// withoutURL drops the URL from an error of the HTTP client: subscription URLs often
// carry the receiver's own secret in their path or query, and a result's error goes
// to logs, timelines and dead letters. What is left (for example "dial tcp
// 10.0.0.1:443: connect: connection refused") names the address, not the URL.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
