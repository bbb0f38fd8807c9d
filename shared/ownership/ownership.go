// Package ownership decides which CloudEvents source values a registered producer
// source may publish: the values an admin gave it, exact or by prefix, and the
// defaults its own identity implies. Sets never overlap, so an event's source and id,
// its store key, name one producer.
package ownership

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/fault"
)

// Set is a set of CloudEvents source values: each exact value, and every value that
// begins with one of the prefixes.
type Set struct {
	Exact    []string `dynamodbav:"exact,omitempty" json:"exact"`
	Prefixes []string `dynamodbav:"prefixes,omitempty" json:"prefixes"`
}

// Identity is what names a producer source: its id, and the identities of its
// producers' own systems (BlueKing's data_id, iuap's appId).
type Identity struct {
	ID     string
	DataID int64
	AppID  string
}

// IUAP is the namespace of iuap identities: "iuap/<appId>" is published only through
// the signed iuap route, and no admin grant may reach into it.
const IUAP = "iuap"

// Defaults is what a source owns by its identity alone:
//
//	/sources/<id> and /sources/<id>/...        every source (the generic format's source)
//	bkmonitor/<data_id> and bkmonitor/<data_id>/...   a BlueKing source
//	iuap/<appId>                               an iuap node
func Defaults(id Identity) Set {
	s := Set{Exact: []string{SourcePath(id.ID)}, Prefixes: []string{SourcePath(id.ID) + "/"}}
	if id.DataID != 0 {
		b := BlueKing(id.DataID)
		s.Exact = append(s.Exact, b)
		s.Prefixes = append(s.Prefixes, b+"/")
	}
	if id.AppID != "" {
		s.Exact = append(s.Exact, IUAP+"/"+id.AppID)
	}
	return s
}

// SourcePath is the CloudEvents source of a producer source's generic events.
func SourcePath(id string) string { return "/sources/" + id }

// BlueKing is the CloudEvents source of a BlueKing plugin instance's events.
func BlueKing(dataID int64) string { return "bkmonitor/" + strconv.FormatInt(dataID, 10) }

// Union is the values of both sets.
func (s Set) Union(o Set) Set {
	return Set{
		Exact:    append(slices.Clone(s.Exact), o.Exact...),
		Prefixes: append(slices.Clone(s.Prefixes), o.Prefixes...),
	}
}

// Allows reports whether v is in the set.
func (s Set) Allows(v string) bool {
	if slices.Contains(s.Exact, v) {
		return true
	}
	for _, p := range s.Prefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// Empty reports whether the set holds no value.
func (s Set) Empty() bool { return len(s.Exact) == 0 && len(s.Prefixes) == 0 }

// String lists the set for messages: exact values quoted, prefixes quoted with "*".
func (s Set) String() string {
	parts := make([]string, 0, len(s.Exact)+len(s.Prefixes))
	for _, v := range s.Exact {
		parts = append(parts, strconv.Quote(v))
	}
	for _, p := range s.Prefixes {
		parts = append(parts, strconv.Quote(p)+"*")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// Overlap returns a value, or prefix, that both sets own ("" and false when none): an
// exact value of one that the other allows, or two prefixes of which one begins with
// the other.
func Overlap(a, b Set) (string, bool) {
	for _, v := range a.Exact {
		if b.Allows(v) {
			return v, true
		}
	}
	for _, v := range b.Exact {
		if a.Allows(v) {
			return v, true
		}
	}
	for _, p := range a.Prefixes {
		for _, q := range b.Prefixes {
			if strings.HasPrefix(p, q) {
				return p + "*", true
			}
			if strings.HasPrefix(q, p) {
				return q + "*", true
			}
		}
	}
	return "", false
}

// Limits on an admin's grant. A value longer than a stored source could be is
// pointless; many values make every ingest check slower.
const (
	MaxValues = 64
	MaxLen    = 1024
)

// Reason says why a value cannot be granted, or "" when it can.
func Reason(v string, prefix bool) string {
	switch {
	case v == "":
		return "must not be empty"
	case len(v) > MaxLen:
		return fmt.Sprintf("is %d bytes; the limit is %d", len(v), MaxLen)
	case !utf8.ValidString(v):
		return "is not valid UTF-8"
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "contains a control character"
	case v == IUAP || strings.HasPrefix(v, IUAP+"/") || (prefix && strings.HasPrefix(IUAP+"/", v)):
		return "reaches into iuap/: iuap identities are owned by iuap sources through their appId, and published only through the signed route"
	case v == "/sources" || strings.HasPrefix(v, "/sources/") || (prefix && strings.HasPrefix("/sources/", v)):
		return "reaches into /sources/: every source owns /sources/<its id> already"
	case v == "bkmonitor" || strings.HasPrefix(v, "bkmonitor/") || (prefix && strings.HasPrefix("bkmonitor/", v)):
		return "reaches into bkmonitor/: BlueKing sources own bkmonitor/<their data_id>"
	}
	return ""
}

// Check validates an admin's grant. It returns the JSON path of the first bad value
// ("exact[2]") and why it is bad.
func (s Set) Check() (path, reason string) {
	if n := len(s.Exact) + len(s.Prefixes); n > MaxValues {
		return "", fmt.Sprintf("%d values; the limit is %d", n, MaxValues)
	}
	seen := map[string]bool{}
	for _, part := range []struct {
		name   string
		values []string
		prefix bool
	}{{"exact", s.Exact, false}, {"prefixes", s.Prefixes, true}} {
		for i, v := range part.values {
			path := part.name + "[" + strconv.Itoa(i) + "]"
			if r := Reason(v, part.prefix); r != "" {
				return path, r
			}
			if seen[part.name+"\x00"+v] {
				return path, "given twice"
			}
			seen[part.name+"\x00"+v] = true
		}
	}
	return "", ""
}

// Publisher is a producer source as the rules see it when it publishes.
type Publisher struct {
	ID    string
	Owned Set
	// Transitional: registered before sources owned their values and given no grant
	// since; it may also publish values no other source owns.
	Transitional bool
	// Signed: the event came through the signed iuap route, the only way into iuap/.
	Signed bool
}

// Others answers, for a transitional publisher, whether another source owns a value.
type Others interface {
	OwnedByOther(ctx context.Context, id, v string) (bool, error)
}

// Authorize returns nil when p may publish events whose CloudEvents source is v, and
// otherwise a Forbidden fault that names the values p owns. others is asked only for
// a transitional publisher.
func Authorize(ctx context.Context, p Publisher, v string, others Others) error {
	if v == IUAP || strings.HasPrefix(v, IUAP+"/") {
		if !p.Signed {
			return &fault.Error{Code: fault.Forbidden, Path: "source", Message: fmt.Sprintf("source %q is an iuap identity: iuap events are accepted only on the signed route POST /event/eventmanager/sendEventMsg.do", v)}
		}
		if p.Owned.Allows(v) {
			return nil
		}
	} else if p.Owned.Allows(v) {
		return nil
	}
	if p.Transitional && others != nil && Reason(v, false) == "" {
		taken, err := others.OwnedByOther(ctx, p.ID, v)
		if err != nil {
			return err
		}
		if !taken {
			return nil
		}
	}
	return &fault.Error{Code: fault.Forbidden, Path: "source", Message: fmt.Sprintf("source %q is not owned by this token's source %s, which may publish %s", truncate(v, 200), p.ID, p.Owned)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Owner is one source's owned values.
type Owner struct {
	ID  string
	Set Set
}

// Index keeps every source's owned values for a while (ttl), for the checks of
// transitional sources.
type Index struct {
	list func(ctx context.Context) ([]Owner, error)
	ttl  time.Duration
	now  func() time.Time

	mu     sync.Mutex
	owners []Owner
	at     time.Time
}

// NewIndex returns an index that reads the owners with list at most once per ttl.
func NewIndex(list func(ctx context.Context) ([]Owner, error), ttl time.Duration, now func() time.Time) *Index {
	return &Index{list: list, ttl: ttl, now: now}
}

// OwnedByOther reports whether a source other than id owns v.
func (x *Index) OwnedByOther(ctx context.Context, id, v string) (bool, error) {
	x.mu.Lock()
	owners, at := x.owners, x.at
	x.mu.Unlock()
	if owners == nil || x.now().Sub(at) >= x.ttl {
		fresh, err := x.list(ctx)
		if err != nil {
			return false, fmt.Errorf("owned values of the sources: %w", err)
		}
		owners = fresh
		x.mu.Lock()
		x.owners, x.at = fresh, x.now()
		x.mu.Unlock()
	}
	for _, o := range owners {
		if o.ID != id && o.Set.Allows(v) {
			return true, nil
		}
	}
	return false, nil
}
