package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/inbound"
	"github.com/eventhub/eventhub/shared/store"
)

// routeHooks is the ingest URL that names its source, for producers that cannot send a
// bearer token (GitHub, GitLab, Standard Webhooks senders): the source is
// authenticated by the signature or token its producer sends.
const routeHooks = "POST /hooks/{sourceId}"

// errHook refuses a request on /hooks/{sourceId} that does not authenticate the
// source: the same answer whether the source exists or not, and whichever part of
// the credential is missing, malformed or wrong.
var errHook = fault.New(fault.Unauthorized, "the request does not authenticate a source at this URL: send the signature or token the source's producer is configured with (for a source without one, Authorization: Bearer <source token>)")

// hookSource authenticates a request on /hooks/{sourceId}: a source of a format with an
// inbound verifier by its producer's signature or token, checked against its inbound
// secret (the current one, or the one a rotation replaced, within its grace); any
// other source by its own bearer token.
func (h *handler) hookSource(ctx context.Context, req *apigw.Request, body []byte) (*store.Source, error) {
	id := req.PathParameters["sourceId"]
	if id == "" || len(id) > 256 {
		return nil, errHook
	}
	src, err := h.byID.Source(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errHook
	}
	if err != nil {
		return nil, err
	}
	if inbound.Verifies(src.Format) {
		headers := lowerHeaders(req.Headers)
		if !verified(src, headers, body, h.now()) {
			// The secret may have been rotated since the source was cached: read it
			// again before refusing, at most once a second for a source, so that
			// forged signatures do not each cost a read.
			if !h.rereads.allow(id, h.now()) {
				return nil, errHook
			}
			if src, err = h.byID.Fresh(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if src == nil || !inbound.Verifies(src.Format) || !verified(src, headers, body, h.now()) {
				return nil, errHook
			}
		}
	} else {
		token := auth.Bearer(apigw.Header(req, "authorization"))
		if token == "" {
			return nil, errHook
		}
		owner, err := h.sources.Source(ctx, token)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errHook
		}
		if err != nil {
			return nil, err
		}
		if owner.ID != src.ID {
			return nil, errHook
		}
		src = owner
	}
	if !src.Enabled {
		return nil, fault.New(fault.Forbidden, "source %s is disabled", src.ID)
	}
	return src, nil
}

// rereads bounds the reads past the cache that failed signatures cause: one a second
// for each source. The zero value is ready to use.
type rereads struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// allow reports whether the source key may be read again at now, and if so notes it.
func (r *rereads) allow(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.last[key]; ok && now.Sub(t) < time.Second && !now.Before(t) {
		return false
	}
	if r.last == nil || len(r.last) >= 10000 {
		r.last = map[string]time.Time{}
	}
	r.last[key] = now
	return true
}

// verified reports whether the request carries the credential of one of the source's
// inbound secrets.
func verified(src *store.Source, headers map[string]string, body []byte, now time.Time) bool {
	ok := false
	for _, secret := range src.InboundSecrets(now) {
		if inbound.Verify(src.Format, secret, headers, body, now) == nil {
			ok = true
		}
	}
	return ok
}

// lowerHeaders returns the request's headers by lower-case name (API Gateway's HTTP
// API passes them lower-case already; a local or test caller may not).
func lowerHeaders(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[strings.ToLower(k)] = v
	}
	return out
}
