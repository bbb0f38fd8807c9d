package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/fault"
)

// Bounds of positions (sortable time, "#", key): every position sorts between them.
const (
	minPosition = "0"
	maxPosition = "~"
)

// rangeQuery reads items of one or more partitions of an index whose sort keys are
// positions, in position order, merging the partitions.
type rangeQuery struct {
	index          string
	pkAttr, skAttr string
	partitions     []string
	lo, hi         string // inclusive bounds on the sort key
	after          string // resume strictly after this position ("" for the first page)
	ascending      bool
	filter         string
	names          map[string]string
	values         map[string]types.AttributeValue
	limit          int
	// budget bounds the items one partition evaluates for one page, so that a filter
	// that rejects most items cannot make a request run away; the page then ends
	// early with a cursor.
	budget int
}

// pageBudget is the default rangeQuery.budget.
var pageBudget = 2000

type rangeItem struct {
	pos string
	av  map[string]types.AttributeValue
}

// partitionResult is what one partition gave: its items in order, and how far it got
// (frontier: every item of the partition before it, in query order, has been seen).
type partitionResult struct {
	items     []rangeItem
	exhausted bool
	frontier  string
	err       error
}

// run returns up to q.limit items and the position to resume after ("" when the range
// is done).
func (s *Store) run(ctx context.Context, q rangeQuery) ([]rangeItem, string, error) {
	lo, hi := q.lo, q.hi
	if q.after != "" {
		if q.ascending {
			lo = max(lo, q.after)
		} else {
			hi = min(hi, q.after)
		}
	}
	if lo > hi {
		return nil, "", nil
	}
	for _, p := range q.partitions {
		// A partition named by a caller's value (a source, a type) that no key can
		// hold has nothing filed under it.
		if len(p) > maxPartitionKey || !utf8.ValidString(p) {
			return nil, "", nil
		}
	}
	if q.budget == 0 {
		q.budget = pageBudget
	}
	results := make([]partitionResult, len(q.partitions))
	var wg sync.WaitGroup
	for i, p := range q.partitions {
		wg.Go(func() { results[i] = s.runPartition(ctx, q, p, lo, hi) })
	}
	wg.Wait()

	var all []rangeItem
	frontier, bounded := "", false // the least progress of the partitions not exhausted
	for _, r := range results {
		if r.err != nil {
			return nil, "", r.err
		}
		all = append(all, r.items...)
		if r.exhausted {
			continue
		}
		if !bounded || (q.ascending && r.frontier < frontier) || (!q.ascending && r.frontier > frontier) {
			frontier, bounded = r.frontier, true
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if q.ascending {
			return all[i].pos < all[j].pos
		}
		return all[i].pos > all[j].pos
	})
	// Only items up to the frontier are known to be in order with everything unseen.
	complete := all
	if bounded {
		n := sort.Search(len(all), func(i int) bool {
			if q.ascending {
				return all[i].pos > frontier
			}
			return all[i].pos < frontier
		})
		complete = all[:n]
	}
	next := ""
	switch {
	case len(complete) > q.limit:
		complete = complete[:q.limit]
		next = complete[len(complete)-1].pos
	case bounded:
		next = frontier
	}
	if q.index != "" {
		avs := make([]map[string]types.AttributeValue, len(complete))
		for i, it := range complete {
			avs[i] = it.av
		}
		full, err := s.hydrate(ctx, avs)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", q.index, err)
		}
		// Positions are index attributes, also on the items.
		page := make([]rangeItem, len(full))
		for i, av := range full {
			page[i] = rangeItem{pos: attrString(av, q.skAttr), av: av}
		}
		complete = page
	}
	return complete, next, nil
}

func (s *Store) runPartition(ctx context.Context, q rangeQuery, partition, lo, hi string) partitionResult {
	names := map[string]string{"#pk": q.pkAttr, "#sk": q.skAttr}
	for k, v := range q.names {
		names[k] = v
	}
	values := map[string]types.AttributeValue{":pk": str(partition), ":lo": str(lo), ":hi": str(hi)}
	for k, v := range q.values {
		values[k] = v
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    ptr("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          ptr(q.ascending),
	}
	if q.index != "" {
		in.IndexName = ptr(q.index)
	} else {
		in.ConsistentRead = ptr(true)
	}
	if q.filter != "" {
		in.FilterExpression = ptr(q.filter)
	}
	want := q.limit + 1
	var r partitionResult
	evaluated := 0
	for {
		in.Limit = ptr(int32(min(max(want-len(r.items), 10), 1000, q.budget)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			r.err = fmt.Errorf("query %s %s: %w", indexName(q.index), partition, err)
			return r
		}
		evaluated += int(out.ScannedCount)
		for _, av := range out.Items {
			pos := attrString(av, q.skAttr)
			if pos == q.after {
				continue
			}
			r.items = append(r.items, rangeItem{pos: pos, av: av})
			if len(r.items) == want {
				r.frontier = pos
				return r
			}
		}
		if out.LastEvaluatedKey == nil {
			r.exhausted = true
			return r
		}
		if evaluated >= q.budget {
			r.frontier = attrString(out.LastEvaluatedKey, q.skAttr)
			return r
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func indexName(index string) string {
	if index == "" {
		return "table"
	}
	return index
}

func attrString(av map[string]types.AttributeValue, name string) string {
	if s, ok := av[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// allShards returns the gsi3 partitions of a sharded listing.
func allShards(prefix string) []string {
	ps := make([]string, shards)
	for i := range ps {
		ps[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return ps
}

// A listing cursor is an opaque token for the position after which the next page
// starts (encodePosition, decodePosition).
type cursor struct {
	V int    `json:"v"`
	P string `json:"p"`
}

func encodePosition(pos string) string {
	if pos == "" {
		return ""
	}
	b, _ := json.Marshal(cursor{V: 1, P: pos})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is wrapped by listings given a cursor they did not make.
var ErrBadCursor = fault.At("cursor", "not a cursor returned by this listing")

// maxCursor bounds a cursor's length: a position is a sort key value, at most 1,024
// bytes in DynamoDB, and a cursor its base64 JSON.
const maxCursor = 2048

func decodePosition(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxCursor {
		return "", ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 || c.P == "" || len(c.P) > 1024 || !utf8.ValidString(c.P) || !strings.Contains(c.P, "#") {
		return "", ErrBadCursor
	}
	return c.P, nil
}

// notExpired is a filter keeping items whose TTL has not passed (DynamoDB deletes
// expired items lazily, up to days later). It uses the value :now.
const notExpired = "(attribute_not_exists(expiresAt) OR expiresAt = :zero OR expiresAt > :now)"

func (s *Store) notExpiredValues() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":now": num64(s.now().Unix()), ":zero": num(0)}
}

// The indexes project only the attributes their filters read (template.yaml): an
// index entry then stays under 1 KB and costs one write unit whatever the size of the
// item, and updating an attribute that is not projected writes no index at all. A
// listing reads its page's keys from the index and the items from the table.
const batchGetMax = 100 // keys per BatchGetItem

// hydrate replaces each index entry by its table item, in the same order. Entries
// whose item is gone (expired and deleted since) are dropped.
func (s *Store) hydrate(ctx context.Context, entries []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	got := make(map[[2]string]map[string]types.AttributeValue, len(entries))
	for lo := 0; lo < len(entries); lo += batchGetMax {
		keys := make([]map[string]types.AttributeValue, 0, min(batchGetMax, len(entries)-lo))
		seen := map[[2]string]bool{}
		for _, e := range entries[lo:min(lo+batchGetMax, len(entries))] {
			k := [2]string{attrString(e, "pk"), attrString(e, "sk")}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, key(k[0], k[1]))
			}
		}
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, err
				}
			}
			if attempt == maxBatchAttempts {
				return nil, fmt.Errorf("read %d items: still unprocessed after %d attempts", len(req[s.table].Keys), attempt)
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("read %d items: %w", len(req[s.table].Keys), err)
			}
			for _, it := range out.Responses[s.table] {
				got[[2]string{attrString(it, "pk"), attrString(it, "sk")}] = it
			}
			req = out.UnprocessedKeys
		}
	}
	out := make([]map[string]types.AttributeValue, 0, len(entries))
	for _, e := range entries {
		if it, ok := got[[2]string{attrString(e, "pk"), attrString(e, "sk")}]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// maxBatchAttempts bounds the retries of a batch's unprocessed part.
const maxBatchAttempts = 8

// backoff is the wait before retry attempt n (n >= 1) of a batch's unprocessed part:
// exponential from 25 ms, capped at 1 s, with full jitter.
func backoff(n int) time.Duration {
	d := min(25*time.Millisecond<<min(n-1, 6), time.Second)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
