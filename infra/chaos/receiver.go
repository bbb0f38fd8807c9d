package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// behaviour is how a subscriber misbehaves.
type behaviour struct {
	Fail5xx float64       // share of requests answered 500
	Slow    float64       // share of requests answered only after the sender's timeout
	Always  int           // when set, every request is answered with this status
	Outage  time.Duration // when set, the subscriber is down this long ...
	Every   time.Duration // ... in every period this long
}

// subscriber is a webhook endpoint on loopback that verifies signatures and records
// every acknowledged webhook-id, misbehaving as its behaviour says.
type subscriber struct {
	name    string
	b       behaviour
	faults  *injector
	timeout time.Duration // the subscription's per-attempt timeout

	url  string
	srv  *http.Server
	ln   *flakyListener
	wh   atomic.Pointer[standardwebhooks.Webhook]
	stop chan struct{}
	done sync.WaitGroup

	mu       sync.Mutex
	requests int
	badSigns int
	acked    map[string]int // webhook-id -> 2xx answers the sender was still waiting for
	conns    map[net.Conn]struct{}
}

func startSubscriber(name string, b behaviour, faults *injector, timeout time.Duration) (*subscriber, error) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &subscriber{
		name: name, b: b, faults: faults, timeout: timeout,
		url:   "http://" + inner.Addr().String() + "/hooks/" + name,
		ln:    &flakyListener{Listener: inner, faults: faults},
		stop:  make(chan struct{}),
		acked: map[string]int{},
		conns: map[net.Conn]struct{}{},
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         s.track,
	}
	s.done.Go(func() { _ = s.srv.Serve(s.ln) })
	if b.Outage > 0 && b.Every > b.Outage {
		s.done.Go(s.outages)
	}
	return s, nil
}

func (s *subscriber) setSecret(secret string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	s.wh.Store(wh)
	return nil
}

func (s *subscriber) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return // the sender went away
	}
	id := r.Header.Get("webhook-id")
	wh := s.wh.Load()
	s.mu.Lock()
	s.requests++
	if wh == nil || wh.Verify(body, r.Header) != nil {
		s.badSigns++
		s.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.mu.Unlock()

	switch {
	case s.b.Always != 0:
		w.WriteHeader(s.b.Always)
		return
	case s.faults.hit(faultSubscriber5xx, s.name, s.b.Fail5xx):
		w.WriteHeader(http.StatusInternalServerError)
		return
	case s.faults.hit(faultSubscriberTimeout, s.name, s.b.Slow):
		// Answer only after the sender has given up.
		t := time.NewTimer(s.timeout + time.Second)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Context().Err() != nil {
		return // too late: the sender no longer waits for this answer
	}
	s.mu.Lock()
	s.acked[id]++
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// outages takes the subscriber down for Outage in every Every while faults are on:
// open connections are cut and new ones are reset as soon as they are accepted.
func (s *subscriber) outages() {
	tick := time.NewTicker(s.b.Every)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if !s.faults.on.Load() {
			continue
		}
		s.ln.down.Store(true)
		s.cutAll()
		select {
		case <-s.stop:
			s.ln.down.Store(false)
			return
		case <-time.After(s.b.Outage):
		}
		s.ln.down.Store(false)
	}
}

func (s *subscriber) track(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

func (s *subscriber) cutAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		reset(c)
	}
}

// ackedIDs returns how many times each webhook-id was acknowledged.
func (s *subscriber) ackedIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.acked))
	for k, v := range s.acked {
		out[k] = v
	}
	return out
}

func (s *subscriber) stats() (requests, badSigns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.badSigns
}

func (s *subscriber) close() {
	close(s.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	s.done.Wait()
}

// flakyListener resets every connection it accepts while down: to the sender, the
// subscriber is gone.
type flakyListener struct {
	net.Listener
	faults *injector
	down   atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.down.Load() {
			return c, nil
		}
		l.faults.count(faultSubscriberDown, "")
		reset(c)
	}
}

// reset closes c with an RST rather than a FIN.
func reset(c net.Conn) {
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = c.Close()
}
