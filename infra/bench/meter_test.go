package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTransactionUnits(t *testing.T) {
	m := &meter{gsis: map[string][]index{"events": {
		{keys: []string{"gsi1pk", "gsi1sk"}, all: true},
		{keys: []string{"gsi2pk", "gsi2sk"}, projected: map[string]bool{"type": true}},
	}}}
	body := strings.Repeat("x", 1500)
	req := map[string]json.RawMessage{"TransactItems": json.RawMessage(`[
		{"Put":{"TableName":"events","Item":{"pk":{"S":"EVT#1"},"sk":{"S":"EVENT"},"body":{"S":"` + body + `"},
			"gsi1pk":{"S":"SRC#a"},"gsi1sk":{"S":"1"},"gsi2pk":{"S":"TYPE#b"},"gsi2sk":{"S":"1"}}}},
		{"Put":{"TableName":"events","Item":{"pk":{"S":"EVT#1"},"sk":{"S":"TL#1"},"stage":{"S":"received"}}}}
	]`)}
	// The event: 2 KB, 2x2 in the table, 2 in gsi1 (ALL) and 1 in gsi2 (keys and
	// type); the timeline entry: 2.
	got, ok := m.transactionUnits(req)
	if want := 2*2 + 2 + 1 + 2.0; !ok || got != want {
		t.Errorf("transactionUnits = %v, %v; want %v", got, ok, want)
	}
}

func TestItemSize(t *testing.T) {
	item := map[string]json.RawMessage{
		"pk": json.RawMessage(`{"S":"abc"}`),           // 2 + 3
		"n":  json.RawMessage(`{"N":"12345"}`),         // 1 + 4
		"ok": json.RawMessage(`{"BOOL":true}`),         // 2 + 1
		"l":  json.RawMessage(`{"L":[{"S":"ab"}]}`),    // 1 + 3 + 1 + 2
		"m":  json.RawMessage(`{"M":{"k":{"S":"v"}}}`), // 1 + 3 + 1 + 1 + 1
	}
	if got, want := itemSize(item), 5+5+3+7+7; got != want {
		t.Errorf("itemSize = %d; want %d", got, want)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if got := median(xs); got != 3 {
		t.Errorf("median = %v; want 3", got)
	}
	if got := median([]float64{1, 2, 3, 4}); got != 2.5 {
		t.Errorf("median of four = %v; want 2.5", got)
	}
	if got := percentile(xs, 99); got != 5 {
		t.Errorf("p99 = %v; want 5", got)
	}
}
