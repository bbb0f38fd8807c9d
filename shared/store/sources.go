package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/ownership"
)

// Source is a registered producer (a BlueKing plugin instance, an iuap node, ...). Its
// token is stored only as a hash; its signing key, which verifying a signature needs
// in the clear, only in this table (encrypted at rest).
type Source struct {
	ID         string   `dynamodbav:"id" json:"id"`
	Name       string   `dynamodbav:"name" json:"name"`
	Format     string   `dynamodbav:"format" json:"format"`
	Enabled    bool     `dynamodbav:"enabled" json:"enabled"`
	TokenHash  string   `dynamodbav:"tokenHash" json:"-"`
	DataID     int64    `dynamodbav:"dataId,omitempty" json:"dataId,omitempty"` // BlueKing data_id
	AppID      string   `dynamodbav:"appId,omitempty" json:"appId,omitempty"`   // iuap appId (node code)
	DedupeKeys []string `dynamodbav:"dedupeKeys,omitempty" json:"dedupeKeys,omitempty"`
	// OnInvalid is what ingest does with an event of this source that it can read as
	// JSON but not as its format, or that breaks its type's schema or the store's
	// limits: OnInvalidReject ("", the default) answers the producer 4xx;
	// OnInvalidQuarantine accepts it (202) and keeps it in quarantine with the reason,
	// for producers that cannot act on a 4xx (webhooks that drop or retry for ever).
	OnInvalid string `dynamodbav:"onInvalid,omitempty" json:"onInvalid,omitempty"`
	// Owns is the CloudEvents source values the admin granted the source, besides
	// those its identity owns (ownership.Defaults; Owned is both). It is nil on a
	// source registered before sources owned their values, which is transitional
	// (Transitional) until an admin or `eventhub sources migrate` sets it.
	Owns *ownership.Set `dynamodbav:"owns" json:"owns"`
	// RateLimit bounds the events the source may send; nil is the deployment's default.
	RateLimit *RateLimit `dynamodbav:"rateLimit,omitempty" json:"rateLimit,omitempty"`
	// Version counts the source's writes; every update is conditional on the version
	// it read (0: an item written before versions, without the attribute).
	Version int64 `dynamodbav:"version,omitempty" json:"version"`

	// Mapping is the source's own mapping document (shared/mapping), which replaces
	// its format's adapter; MappingVersion is the version it was saved as. Every saved
	// document is also kept as an immutable MappingVersion item, so that an event is
	// normalized with the version it was received under (bus.Hub.MappingVersion). A
	// removed mapping keeps counting: the next one gets a new version.
	Mapping        json.RawMessage `dynamodbav:"mapping,omitempty" json:"mapping,omitempty"`
	MappingVersion int64           `dynamodbav:"mappingVersion,omitempty" json:"mappingVersion,omitempty"`

	// InboundSecret is what the producers of a preset that cannot send a bearer token
	// authenticate with on POST /hooks/{sourceId} (shared/inbound): GitHub's webhook
	// secret, GitLab's token, a Standard Webhooks whsec_ key. Like the signing key, it
	// is kept in the clear, only in this table, and is shown only when it is made.
	InboundSecret          string    `dynamodbav:"inboundSecret,omitempty" json:"-"`
	PrevInboundSecret      string    `dynamodbav:"prevInboundSecret,omitempty" json:"-"`
	PrevInboundSecretUntil time.Time `dynamodbav:"prevInboundSecretUntil,omitempty" json:"-"`

	SigningKey          string    `dynamodbav:"signingKey,omitempty" json:"-"`
	PrevSigningKey      string    `dynamodbav:"prevSigningKey,omitempty" json:"-"`
	PrevSigningKeyUntil time.Time `dynamodbav:"prevSigningKeyUntil,omitempty" json:"-"`
	// PrevTokens are the tokens replaced by rotations that still work until their grace
	// ends; a rotation with no grace revokes them all.
	PrevTokens []PrevToken `dynamodbav:"prevTokens,omitempty" json:"-"`

	CreatedAt      time.Time `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt      time.Time `dynamodbav:"updatedAt,omitempty" json:"updatedAt,omitzero"`
	TokenRotatedAt time.Time `dynamodbav:"tokenRotatedAt,omitempty" json:"tokenRotatedAt,omitzero"`
}

// PrevToken is a replaced token (by its hash) and the end of its grace period.
type PrevToken struct {
	Hash  string    `dynamodbav:"hash"`
	Until time.Time `dynamodbav:"until"`
}

// RateLimit is a token bucket: Rate events a second on average, bursts of Burst.
type RateLimit struct {
	Rate  float64 `dynamodbav:"rate" json:"perSecond"`
	Burst int     `dynamodbav:"burst" json:"burst"`
}

// SigningKeys returns the keys a signature may be made with at now: the current one,
// and the previous one during its grace period after a rotation.
func (s *Source) SigningKeys(now time.Time) []string {
	keys := []string{s.SigningKey}
	if s.PrevSigningKey != "" && now.Before(s.PrevSigningKeyUntil) {
		keys = append(keys, s.PrevSigningKey)
	}
	return keys
}

// InboundSecrets returns the inbound secrets a producer may use at now: the current
// one, and the previous one during its grace period after a rotation.
func (s *Source) InboundSecrets(now time.Time) []string {
	var out []string
	if s.InboundSecret != "" {
		out = append(out, s.InboundSecret)
	}
	if s.PrevInboundSecret != "" && now.Before(s.PrevInboundSecretUntil) {
		out = append(out, s.PrevInboundSecret)
	}
	return out
}

// Identity is what names the source to the ownership rules.
func (s *Source) Identity() ownership.Identity {
	return ownership.Identity{ID: s.ID, DataID: s.DataID, AppID: s.AppID}
}

// Owned is every CloudEvents source value the source may publish: its identity's
// defaults and the admin's grant.
func (s *Source) Owned() ownership.Set {
	set := ownership.Defaults(s.Identity())
	if s.Owns != nil {
		set = set.Union(*s.Owns)
	}
	return set
}

// Transitional reports whether the source was registered before sources owned their
// values and has not been given a grant since: it may also publish values that no
// other source owns (docs/producers-ownership.md).
func (s *Source) Transitional() bool { return s.Owns == nil }

// acceptsToken reports whether the token hash authenticates the source at now: its
// current token, or a replaced one within its grace. A source written before
// versions kept its replaced tokens' grace on their token items (itemExpires).
func (s *Source) acceptsToken(hash string, itemExpires int64, now time.Time) bool {
	if hash == s.TokenHash {
		return true
	}
	for _, p := range s.PrevTokens {
		if p.Hash == hash && now.Before(p.Until) {
			return true
		}
	}
	return s.Version == 0 && itemExpires > now.Unix()
}

// What ingest does with an event it cannot read (Source.OnInvalid).
const (
	OnInvalidReject     = "reject"
	OnInvalidQuarantine = "quarantine"
)

type sourceItem struct {
	keyAttrs
	Source
}

// tokenItem maps a token hash to its source. The source item says whether the token
// still works; ExpiresAt (Unix seconds; 0: no end) lets DynamoDB delete the item of a
// replaced token after its grace.
type tokenItem struct {
	keyAttrs
	SourceID  string `dynamodbav:"sourceId"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

// appItem maps an iuap appId to its source.
type appItem struct {
	keyAttrs
	SourceID string `dynamodbav:"sourceId"`
}

const (
	pkApp = "APPID#"
	// The ownership lock: one item whose version every change of a source's owned
	// values advances, so that two such changes are checked against each other.
	pkOwnership = "OWNERSHIP"
	skOwnership = "LOCK"
)

// ErrOwnershipRace is wrapped when the sources' owned values changed while a change
// was being checked, every try.
var ErrOwnershipRace = fault.New(fault.Conflict, "sources were changed at the same time; try again")

// maxOwnershipTries bounds the optimistic retries of a change of owned values.
const maxOwnershipTries = 5

// CreateSource stores a new source with the lookups from its token hash and appId.
// An appId already in use, or owned values that another source owns, are a
// Conflict naming the clash.
func (s *Store) CreateSource(ctx context.Context, src Source) error {
	src.Version = 1
	if len(src.Mapping) > 0 {
		src.MappingVersion = 1
	}
	sav, err := attributevalue.MarshalMap(sourceItem{keyAttrs{pkSources, src.ID}, src})
	if err != nil {
		return fmt.Errorf("encode source %s: %w", src.ID, err)
	}
	tav, err := attributevalue.MarshalMap(tokenItem{keyAttrs: keyAttrs{pkToken + src.TokenHash, "TOKEN"}, SourceID: src.ID})
	if err != nil {
		return fmt.Errorf("encode token of %s: %w", src.ID, err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: sav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.table, Item: tav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
	}
	if src.AppID != "" {
		aav, err := attributevalue.MarshalMap(appItem{keyAttrs{pkApp + src.AppID, "APP"}, src.ID})
		if err != nil {
			return fmt.Errorf("encode appId of %s: %w", src.ID, err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: aav, ConditionExpression: ptr("attribute_not_exists(pk)")}})
	}
	if len(src.Mapping) > 0 {
		put, err := s.mappingPut(&src)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	err = s.withOwnership(ctx, &src, items)
	if src.AppID != "" && failed(err, 2) {
		return &fault.Error{Code: fault.Conflict, Path: "appId", Message: fmt.Sprintf("appId %q is already used by another source", src.AppID)}
	}
	if err != nil {
		return fmt.Errorf("create source %s: %w", src.ID, err)
	}
	return nil
}

// withOwnership writes items, the source's among them, once the source's owned values
// are checked against every other source's: it advances the ownership lock in the
// same transaction, so that concurrent changes of owned values are checked against
// each other. A clash is a Conflict; a lost race is tried again.
func (s *Store) withOwnership(ctx context.Context, src *Source, items []types.TransactWriteItem) error {
	for try := 0; ; try++ {
		var lock struct {
			Version int64 `dynamodbav:"version"`
		}
		if err := s.get(ctx, pkOwnership, skOwnership, &lock); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("ownership lock: %w", err)
		}
		all, err := s.ListSources(ctx)
		if err != nil {
			return err
		}
		if err := checkOverlap(src, all); err != nil {
			return err
		}
		cond := "attribute_not_exists(pk)"
		if lock.Version > 0 {
			cond = "version = :v"
		}
		lockPut := types.TransactWriteItem{Put: &types.Put{
			TableName: &s.table,
			Item: map[string]types.AttributeValue{
				"pk": str(pkOwnership), "sk": str(skOwnership), "version": num64(lock.Version + 1),
			},
			ConditionExpression: &cond,
		}}
		if lock.Version > 0 {
			lockPut.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num64(lock.Version)}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append(slices.Clone(items), lockPut)})
		if err == nil {
			return nil
		}
		lost := failed(err, len(items)) || cancelledAt(err, len(items)) == "TransactionConflict"
		if !lost {
			return err
		}
		if try == maxOwnershipTries-1 {
			return ErrOwnershipRace
		}
		time.Sleep(time.Duration(rand.IntN(20*(try+1))+1) * time.Millisecond)
	}
}

// checkOverlap refuses owned values of src that another source owns. Of a
// transitional source only its identity's defaults count: what else it publishes is
// not owned until it is given a grant.
func checkOverlap(src *Source, all []Source) error {
	mine := src.Owned()
	for i := range all {
		o := &all[i]
		if o.ID == src.ID {
			continue
		}
		if src.AppID != "" && o.AppID == src.AppID {
			return &fault.Error{Code: fault.Conflict, Path: "appId", Message: fmt.Sprintf("appId %q is already used by another source", src.AppID)}
		}
		if src.DataID != 0 && o.DataID == src.DataID {
			return &fault.Error{Code: fault.Conflict, Path: "dataId", Message: fmt.Sprintf("dataId %d is already used by source %s", src.DataID, o.ID)}
		}
		if v, clash := ownership.Overlap(mine, o.Owned()); clash {
			return &fault.Error{Code: fault.Conflict, Path: "owns", Message: fmt.Sprintf("source %s already owns %s: owned values never overlap", o.ID, v)}
		}
	}
	return nil
}

// failed reports whether a transaction was cancelled by the condition of item i.
func failed(err error, i int) bool {
	tce, ok := asCanceled(err)
	return ok && len(tce.CancellationReasons) > i && ptrString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed"
}

func asCanceled(err error) (*types.TransactionCanceledException, bool) {
	var tce *types.TransactionCanceledException
	ok := errors.As(err, &tce)
	return tce, ok
}

// SourceByTokenHash returns the source whose token hashes to hash: its current token,
// or one replaced by a rotation within its grace period.
func (s *Store) SourceByTokenHash(ctx context.Context, hash string) (*Source, error) {
	var tok tokenItem
	if err := s.get(ctx, pkToken+hash, "TOKEN", &tok); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	src, err := s.GetSource(ctx, tok.SourceID)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !src.acceptsToken(hash, tok.ExpiresAt, s.now()) {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	return src, nil
}

// SourceByAppID returns the source registered with the iuap appId.
func (s *Store) SourceByAppID(ctx context.Context, appID string) (*Source, error) {
	if !validItemKey(appID) {
		return nil, fmt.Errorf("appId %.64s: %w", appID, ErrNotFound)
	}
	var app appItem
	if err := s.get(ctx, pkApp+appID, "APP", &app); err != nil {
		return nil, fmt.Errorf("appId %s: %w", appID, err)
	}
	return s.GetSource(ctx, app.SourceID)
}

// GetSource returns one source.
func (s *Store) GetSource(ctx context.Context, id string) (*Source, error) {
	if !validItemKey(id) {
		return nil, fmt.Errorf("source %.64s: %w", id, ErrNotFound)
	}
	var it sourceItem
	if err := s.get(ctx, pkSources, id, &it); err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	return &it.Source, nil
}

// ListSources returns every source, ordered by id.
func (s *Store) ListSources(ctx context.Context) ([]Source, error) {
	srcs, err := listAll(ctx, s, pkSources, func(it *sourceItem) Source { return it.Source })
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return srcs, nil
}

// UpdateSource writes a changed source (name, enabled, owned values, dedupe keys,
// limits, signing keys), provided it has not changed since it was read: src.Version
// is the version that was read, and becomes the next one. A concurrent change is a
// Conflict. Owned values are checked against every other source's. The token and
// appId cannot change here: RotateToken replaces the token.
func (s *Store) UpdateSource(ctx context.Context, src *Source) error {
	read := src.Version
	next := *src
	next.Version = read + 1
	next.UpdatedAt = s.now().UTC()
	put, err := s.versionedPut(next, read)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: put}}
	if len(next.Mapping) > 0 {
		mput, err := s.mappingPut(&next)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: mput})
	}
	err = s.withOwnership(ctx, &next, items)
	if len(items) > 1 && failed(err, 1) {
		return fault.New(fault.Conflict, "source %s: mapping version %d is already saved with another document; a changed mapping needs the next version", src.ID, next.MappingVersion)
	}
	if failed(err, 0) {
		if _, gerr := s.GetSource(ctx, src.ID); gerr != nil {
			return gerr
		}
		return fault.New(fault.Conflict, "source %s changed while it was being updated (version %d is no longer current): read it again and retry", src.ID, read)
	}
	if err != nil {
		return fmt.Errorf("update source %s: %w", src.ID, err)
	}
	*src = next
	return nil
}

// MappingVersion is one saved version of a source's mapping document, immutable once
// written.
type MappingVersion struct {
	SourceID  string          `dynamodbav:"sourceId" json:"sourceId"`
	Version   int64           `dynamodbav:"version" json:"version"`
	Mapping   json.RawMessage `dynamodbav:"mapping" json:"mapping"`
	CreatedAt time.Time       `dynamodbav:"createdAt" json:"createdAt"`
}

type mappingItem struct {
	keyAttrs
	MappingVersion
}

// pkMapping is the partition of a source's mapping versions; their sort keys,
// zero-padded, list them in order.
const pkMapping = "MAPPING#"

func mappingSK(version int64) string { return fmt.Sprintf("V#%012d", version) }

// mappingPut writes the source's current mapping as its version's item: a version is
// written once, and written again only with the same document (a later update of
// the source that keeps its mapping), so it never changes.
func (s *Store) mappingPut(src *Source) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(mappingItem{keyAttrs{pkMapping + src.ID, mappingSK(src.MappingVersion)}, MappingVersion{
		SourceID: src.ID, Version: src.MappingVersion, Mapping: src.Mapping, CreatedAt: s.now().UTC(),
	}})
	if err != nil {
		return nil, fmt.Errorf("encode mapping of %s: %w", src.ID, err)
	}
	return &types.Put{
		TableName:                 &s.table,
		Item:                      av,
		ConditionExpression:       ptr("attribute_not_exists(pk) OR mapping = :doc"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":doc": &types.AttributeValueMemberB{Value: src.Mapping}},
	}, nil
}

// GetMapping returns version v of the source's mapping.
func (s *Store) GetMapping(ctx context.Context, sourceID string, v int64) (*MappingVersion, error) {
	if !validItemKey(sourceID) || v < 1 {
		return nil, fmt.Errorf("mapping %.64s v%d: %w", sourceID, v, ErrNotFound)
	}
	var it mappingItem
	if err := s.get(ctx, pkMapping+sourceID, mappingSK(v), &it); err != nil {
		return nil, fmt.Errorf("mapping %s v%d: %w", sourceID, v, err)
	}
	return &it.MappingVersion, nil
}

// ListMappings returns every saved version of the source's mapping, oldest first.
func (s *Store) ListMappings(ctx context.Context, sourceID string) ([]MappingVersion, error) {
	if !validItemKey(sourceID) {
		return []MappingVersion{}, nil
	}
	out, err := listAll(ctx, s, pkMapping+sourceID, func(it *mappingItem) MappingVersion { return it.MappingVersion })
	if err != nil {
		return nil, fmt.Errorf("mappings of %s: %w", sourceID, err)
	}
	return out, nil
}

// versionedPut is the put of a source conditional on the version read.
func (s *Store) versionedPut(src Source, read int64) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(sourceItem{keyAttrs{pkSources, src.ID}, src})
	if err != nil {
		return nil, fmt.Errorf("encode source %s: %w", src.ID, err)
	}
	put := &types.Put{TableName: &s.table, Item: av, ConditionExpression: ptr("attribute_exists(pk) AND attribute_not_exists(version)")}
	if read > 0 {
		put.ConditionExpression = ptr("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num64(read)}
	}
	return put, nil
}

// maxPrevTokens bounds the replaced tokens in their grace at once: a rotation beyond
// revokes the oldest.
const maxPrevTokens = 8

// RotateToken gives the source a new token (by its hash). The one it replaces keeps
// working until graceUntil; a graceUntil not after now revokes it and every token
// replaced before it at once. It returns the updated source; a concurrent change of
// the source is a Conflict.
func (s *Store) RotateToken(ctx context.Context, id, newHash string, graceUntil time.Time) (*Source, error) {
	src, err := s.GetSource(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	read := src.Version
	next := *src
	next.Version, next.TokenHash, next.TokenRotatedAt, next.UpdatedAt = read+1, newHash, now, now
	var revoke []string
	next.PrevTokens = nil
	if graceUntil.After(now) {
		next.PrevTokens = append(next.PrevTokens, PrevToken{Hash: src.TokenHash, Until: graceUntil.UTC()})
		for _, p := range src.PrevTokens {
			if now.Before(p.Until) && len(next.PrevTokens) < maxPrevTokens {
				next.PrevTokens = append(next.PrevTokens, p)
			} else {
				revoke = append(revoke, p.Hash)
			}
		}
	} else {
		revoke = append(revoke, src.TokenHash)
		for _, p := range src.PrevTokens {
			revoke = append(revoke, p.Hash)
		}
	}
	put, err := s.versionedPut(next, read)
	if err != nil {
		return nil, err
	}
	tav, err := attributevalue.MarshalMap(tokenItem{keyAttrs: keyAttrs{pkToken + newHash, "TOKEN"}, SourceID: id})
	if err != nil {
		return nil, fmt.Errorf("encode token of %s: %w", id, err)
	}
	items := []types.TransactWriteItem{
		{Put: put},
		{Put: &types.Put{TableName: &s.table, Item: tav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
	}
	if graceUntil.After(now) {
		// The replaced token's item goes when its grace ends (the source item decides
		// before that: a later rotation with no grace revokes it at once).
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(pkToken+src.TokenHash, "TOKEN"),
			UpdateExpression:          ptr("SET expiresAt = :exp"),
			ConditionExpression:       ptr("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num64(graceUntil.Unix())},
		}})
	}
	for _, h := range revoke {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pkToken+h, "TOKEN")}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed(err, 0) || cancelledAt(err, 0) == "TransactionConflict" {
		return nil, fault.New(fault.Conflict, "source %s changed while its token was being rotated: try again", id)
	}
	if err != nil {
		return nil, fmt.Errorf("rotate token of %s: %w", id, err)
	}
	return &next, nil
}

// Owners returns every source's owned values, for ownership.Index.
func (s *Store) Owners(ctx context.Context) ([]ownership.Owner, error) {
	srcs, err := s.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ownership.Owner, len(srcs))
	for i := range srcs {
		out[i] = ownership.Owner{ID: srcs[i].ID, Set: srcs[i].Owned()}
	}
	return out, nil
}

// Publisher is the source as the ownership rules see it; signed says whether the
// event came through the signed iuap route.
func (s *Source) Publisher(signed bool) ownership.Publisher {
	return ownership.Publisher{ID: s.ID, Owned: s.Owned(), Transitional: s.Transitional(), Signed: signed}
}

// SourceCache keeps the sources a lookup finds (by token hash, appId or id) for a
// while, so that a warm function reads each once per ttl rather than once per request;
// a disabled or changed source is noticed within ttl.
type SourceCache struct {
	get func(ctx context.Context, key string) (*Source, error)
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedSource
}

type cachedSource struct {
	src *Source
	exp time.Time
}

// NewSourceCache returns a cache over the lookup get.
func NewSourceCache(get func(ctx context.Context, key string) (*Source, error), ttl time.Duration, now func() time.Time) *SourceCache {
	return &SourceCache{get: get, ttl: ttl, now: now, entries: map[string]cachedSource{}}
}

// Source returns the source of the key, from the cache while it is fresh.
func (c *SourceCache) Source(ctx context.Context, key string) (*Source, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.src, nil
	}
	return c.Fresh(ctx, key)
}

// Fresh looks the source up past the cache, and caches it.
func (c *SourceCache) Fresh(ctx context.Context, key string) (*Source, error) {
	now := c.now()
	src, err := c.get(ctx, key)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[key] = cachedSource{src, now.Add(c.ttl)}
	c.mu.Unlock()
	return src, nil
}
