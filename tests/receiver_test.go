package tests

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a webhook endpoint on 127.0.0.1 that verifies signatures with the
// Standard Webhooks library and answers with status(n) for the n-th request (1-based).
type receiver struct {
	*httptest.Server
	status func(n int) int

	mu       sync.Mutex
	secret   string
	got      []delivery
	badSigns int
}

type delivery struct {
	ID   string // webhook-id
	Body []byte
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	r.secret = s
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err != nil || wh.Verify(body, req.Header) != nil {
		r.badSigns++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.got = append(r.got, delivery{ID: req.Header.Get("webhook-id"), Body: body})
	w.WriteHeader(r.status(len(r.got)))
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func always(code int) func(int) int { return func(int) int { return code } }
