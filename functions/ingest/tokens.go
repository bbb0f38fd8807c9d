package main

import (
	"context"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/store"
)

type tokenStore interface {
	SourceByTokenHash(ctx context.Context, hash string) (*store.Source, error)
}

// tokenCache remembers recently seen sources by token hash so that a warm function does
// not read the table on every request. A disabled or revoked source is noticed within ttl.
type tokenCache struct {
	st  tokenStore
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	src *store.Source
	exp time.Time
}

func newTokenCache(st tokenStore, ttl time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{st: st, ttl: ttl, now: now, entries: map[string]cached{}}
}

func (c *tokenCache) Source(ctx context.Context, token string) (*store.Source, error) {
	hash := auth.Hash(token)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.src, nil
	}
	src, err := c.st.SourceByTokenHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[hash] = cached{src, now.Add(c.ttl)}
	c.mu.Unlock()
	return src, nil
}

type appStore interface {
	SourceByAppID(ctx context.Context, appID string) (*store.Source, error)
}

// appCache remembers iuap sources by appId, like tokenCache by token.
type appCache struct {
	st  appStore
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cached
}

func newAppCache(st appStore, ttl time.Duration, now func() time.Time) *appCache {
	return &appCache{st: st, ttl: ttl, now: now, entries: map[string]cached{}}
}

func (c *appCache) Source(ctx context.Context, appID string) (*store.Source, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[appID]
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.src, nil
	}
	return c.Fresh(ctx, appID)
}

// Fresh reads the source from the store and caches it.
func (c *appCache) Fresh(ctx context.Context, appID string) (*store.Source, error) {
	now := c.now()
	src, err := c.st.SourceByAppID(ctx, appID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[appID] = cached{src, now.Add(c.ttl)}
	c.mu.Unlock()
	return src, nil
}
