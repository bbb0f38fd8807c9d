package tests

import (
	"strings"
	"sync"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
)

// busEntries records every entry put on the local bus, through the EventBridge
// emulator's per-entry hook, so that tests can see events no rule of the template
// routes (Delivery Failed, Subscription Disabled) without a test-only rule or code path.
var busEntries busTap

type busTap struct {
	mu      sync.Mutex
	entries []eventbridge.Entry
}

// observe is the emulator's FailEntry hook; it fails no entry.
func (b *busTap) observe(e eventbridge.Entry) (code, message string) {
	b.mu.Lock()
	b.entries = append(b.entries, e)
	b.mu.Unlock()
	return "", ""
}

// find returns the details of the entries of the detail type whose detail contains
// every one of the strings.
func (b *busTap) find(detailType string, contains ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, e := range b.entries {
		if e.DetailType != detailType {
			continue
		}
		for _, c := range contains {
			if !strings.Contains(e.Detail, c) {
				continue next
			}
		}
		out = append(out, e.Detail)
	}
	return out
}

// tapped is an entry the tap saw and its place in the order the bus took them.
type tapped struct {
	eventbridge.Entry
	Seq int
}

// first returns the first entry of the source and detail type whose detail contains
// every one of the strings, and whether there is one.
func (b *busTap) first(source, detailType string, contains ...string) (tapped, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for i, e := range b.entries {
		if e.Source != source || e.DetailType != detailType {
			continue
		}
		for _, c := range contains {
			if !strings.Contains(e.Detail, c) {
				continue next
			}
		}
		return tapped{e, i}, true
	}
	return tapped{}, false
}
