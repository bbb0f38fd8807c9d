package store

import (
	"context"
	"time"
)

// EventQuery selects stored events. Source and Type are exact CloudEvents attribute
// values; Subject is matched exactly too. The window is on the time eventhub received
// the event: Since inclusive, Until exclusive; zero means unbounded.
type EventQuery struct {
	Source, Type, Subject string
	Since, Until          time.Time
	Limit                 int    // 1 to MaxLimit; 0 means DefaultLimit
	Cursor                string // from the previous page
	Oldest                bool   // oldest first instead of newest first
	// MaxBytes ends a page early once the events' bodies add up to it, so that a page
	// of large events still fits a Lambda response; 0 means no limit. A page always
	// holds at least one event.
	MaxBytes int
}

// Listing limits.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// EventPage is one page of a listing. Cursor is empty on the last page.
type EventPage struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor,omitempty"`
}

// ListEvents returns the events the query selects, newest first unless q.Oldest, one
// page at a time. With a source it reads the source index, else with a type the type
// index, else the sharded index of all events; the other conditions and expiry are
// filters. A cursor from another query is refused with ErrBadCursor.
func (s *Store) ListEvents(ctx context.Context, q EventQuery) (*EventPage, error) {
	after, err := decodePosition(q.Cursor)
	if err != nil {
		return nil, err
	}
	rq := rangeQuery{
		lo: minPosition, hi: maxPosition, after: after, ascending: q.Oldest,
		limit:  clampLimit(q.Limit),
		filter: notExpired, values: s.notExpiredValues(), names: map[string]string{},
	}
	if !q.Since.IsZero() {
		rq.lo = sortable(q.Since)
	}
	if !q.Until.IsZero() {
		rq.hi = sortable(q.Until) // positions at Until are "<Until>#key" > "<Until>": excluded
	}
	switch {
	case q.Source != "":
		rq.index, rq.pkAttr, rq.skAttr, rq.partitions = gsi1, "gsi1pk", "gsisk", []string{pkBySource + q.Source}
		if q.Type != "" {
			rq.filter += " AND gsi2pk = :typepk" // the type, as the type index files it
			rq.values[":typepk"] = str(pkByType + q.Type)
		}
	case q.Type != "":
		rq.index, rq.pkAttr, rq.skAttr, rq.partitions = gsi2, "gsi2pk", "gsisk", []string{pkByType + q.Type}
	default:
		rq.index, rq.pkAttr, rq.skAttr, rq.partitions = gsi3, "gsi3pk", "gsisk", allShards(pkAllEvents)
	}
	if q.Subject != "" {
		rq.filter += " AND #subject = :subject"
		rq.names["#subject"] = "subject"
		rq.values[":subject"] = str(q.Subject)
	}
	items, next, err := s.run(ctx, rq)
	if err != nil {
		return nil, err
	}
	page := &EventPage{Events: make([]Event, 0, len(items))}
	size := 0
	for i, it := range items {
		ev, err := decodeEvent(it.av)
		if err != nil {
			return nil, err
		}
		size += len(ev.Event)
		if q.MaxBytes > 0 && i > 0 && size > q.MaxBytes {
			next = items[i-1].pos
			break
		}
		page.Events = append(page.Events, *ev)
	}
	page.Cursor = encodePosition(next)
	return page, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}
