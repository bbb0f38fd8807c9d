package main

import (
	"context"
	"time"

	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/store"
)

type tokenStore interface {
	SourceByTokenHash(ctx context.Context, hash string) (*store.Source, error)
}

// tokenCache remembers recently seen sources by token hash so that a warm function does
// not read the table on every request. A disabled or revoked source is noticed within ttl.
type tokenCache struct{ c *store.SourceCache }

func newTokenCache(st tokenStore, ttl time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{store.NewSourceCache(st.SourceByTokenHash, ttl, now)}
}

// Source returns the source of the token, looked up by its hash only.
func (t *tokenCache) Source(ctx context.Context, token string) (*store.Source, error) {
	return t.c.Source(ctx, auth.Hash(token))
}

type appStore interface {
	SourceByAppID(ctx context.Context, appID string) (*store.Source, error)
}

// newAppCache remembers iuap sources by appId, like tokenCache by token.
func newAppCache(st appStore, ttl time.Duration, now func() time.Time) *store.SourceCache {
	return store.NewSourceCache(st.SourceByAppID, ttl, now)
}
