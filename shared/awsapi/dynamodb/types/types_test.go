package types_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/eventhub/eventhub/shared/awsapi"
	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
)

func TestJSONRoundTrip(t *testing.T) {
	item := map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "x\"é"},
		"e":    &types.AttributeValueMemberS{Value: ""},
		"n":    &types.AttributeValueMemberN{Value: "-12.5"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"eb":   &types.AttributeValueMemberB{Value: []byte{}},
		"t":    &types.AttributeValueMemberBOOL{Value: true},
		"f":    &types.AttributeValueMemberBOOL{Value: false},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "a"}, &types.AttributeValueMemberNULL{Value: true}}},
		"el":   &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberN{Value: "1"}}},
		"em":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
	}
	data, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["s"]) != `{"S":"x\"é"}` || string(raw["b"]) != `{"B":"AAH/"}` || string(raw["f"]) != `{"BOOL":false}` {
		t.Errorf("JSON = %s", data)
	}
	back, err := types.DecodeMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, item) {
		t.Errorf("round trip = %#v", back)
	}
}

func TestConditionalCheckFailedItem(t *testing.T) {
	e := &awsapi.Error{Code: "ConditionalCheckFailedException", Message: "The conditional request failed",
		Body: []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"pk":{"S":"a"},"n":{"N":"2"}}}`)}
	err := types.FromError(e)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("%T is not a ConditionalCheckFailedException", err)
	}
	if s, ok := ccf.Item["pk"].(*types.AttributeValueMemberS); !ok || s.Value != "a" {
		t.Errorf("Item = %#v", ccf.Item)
	}
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != "ConditionalCheckFailedException" {
		t.Errorf("no *awsapi.Error under %v", err)
	}
}

func TestTransactionCanceledReasons(t *testing.T) {
	e := &awsapi.Error{Code: "TransactionCanceledException", Body: []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed","Item":{"pk":{"S":"x"}}}]}`)}
	var tce *types.TransactionCanceledException
	if !errors.As(types.FromError(e), &tce) || len(tce.CancellationReasons) != 2 {
		t.Fatalf("reasons = %+v", tce)
	}
	if r := tce.CancellationReasons[1]; *r.Code != "ConditionalCheckFailed" || r.Item["pk"] == nil {
		t.Errorf("reason = %+v", r)
	}
	if *tce.CancellationReasons[0].Code != "None" {
		t.Errorf("reason 0 = %+v", tce.CancellationReasons[0])
	}
}
