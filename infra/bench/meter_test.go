package main

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func TestTransactionUnits(t *testing.T) {
	m := &meter{gsis: map[string][]index{"events": {
		{name: "gsi1", keys: []string{"gsi1pk", "gsi1sk"}, all: true},
		{name: "gsi2", keys: []string{"gsi2pk", "gsi2sk"}, projected: map[string]bool{"type": true}},
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
	want := map[string]float64{
		"event TransactWriteItems|table":    2 * 2,
		"event TransactWriteItems|gsi1":     2,
		"event TransactWriteItems|gsi2":     1,
		"timeline TransactWriteItems|table": 2,
	}
	if !ok || !maps.Equal(got, want) {
		t.Errorf("transactionUnits = %v, %v; want %v", got, ok, want)
	}
}

func TestRequestLabel(t *testing.T) {
	for _, tc := range []struct {
		op, req, want string
	}{
		{"PutItem", `{"Item":{"pk":{"S":"EVT#evt_1"},"sk":{"S":"EVENT"},"body":{"S":"x"}}}`, "event PutItem"},
		{"UpdateItem", `{"Key":{"pk":{"S":"EVT#evt_1"},"sk":{"S":"DLV#sub_1"}},"UpdateExpression":"SET attempt = :k, inFlight = :t"}`, "delivery UpdateItem claim"},
		{"UpdateItem", `{"Key":{"pk":{"S":"EVT#evt_1"},"sk":{"S":"DLV#sub_1"}},"UpdateExpression":"SET #st = :status, inFlight = :f"}`, "delivery UpdateItem finish"},
		{"PutItem", `{"Item":{"pk":{"S":"EVT#evt_1"},"sk":{"S":"TL#2026#attempt"}}}`, "timeline PutItem"},
		{"PutItem", `{"Item":{"pk":{"S":"CLAIM#c1"},"sk":{"S":"CLAIM"}}}`, "CLAIM PutItem"},
		{"Query", `{"KeyConditionExpression":"pk = :pk","ExpressionAttributeValues":{":pk":{"S":"SUBS"}}}`, "read SUBS Query"},
		{"Query", `{"IndexName":"gsi3","ExpressionAttributeValues":{":pk":{"S":"ALL#3"}}}`, "read ALL Query gsi3"},
		{"GetItem", `{"Key":{"pk":{"S":"TOKEN#ab"},"sk":{"S":"TOKEN"}}}`, "read TOKEN GetItem"},
		{"BatchGetItem", `{"RequestItems":{"t":{"Keys":[{"pk":{"S":"EVT#evt_1"},"sk":{"S":"EVENT"}}]}}}`, "read EVT BatchGetItem"},
	} {
		var req map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tc.req), &req); err != nil {
			t.Fatal(err)
		}
		if got := requestLabel(tc.op, req); got != tc.want {
			t.Errorf("requestLabel(%s, %s) = %q; want %q", tc.op, tc.req, got, tc.want)
		}
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
