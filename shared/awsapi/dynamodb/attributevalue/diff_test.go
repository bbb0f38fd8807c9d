package attributevalue_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	sdkav "github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/attributevalue"
	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/attributevalue/avtest"
)

type inner struct {
	A string `dynamodbav:"a"`
	B int    `dynamodbav:"b,omitempty"`
}

type embedded struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

type Exported struct {
	Shadowed string `dynamodbav:"shadowed"`
	Deep     string
}

// wide has a field of every kind the store's items use, and then some.
type wide struct {
	embedded
	*Exported
	Shadowed   string `dynamodbav:"shadowed"`
	S          string `dynamodbav:"s"`
	SO         string `dynamodbav:"so,omitempty"`
	Untagged   string
	I          int               `dynamodbav:"i"`
	IO         int               `dynamodbav:"io,omitempty"`
	I64        int64             `dynamodbav:"i64,omitempty"`
	I8         int8              `dynamodbav:"i8"`
	U          uint32            `dynamodbav:"u"`
	F          float64           `dynamodbav:"f"`
	F32        float32           `dynamodbav:"f32,omitempty"`
	Bool       bool              `dynamodbav:"bool"`
	BoolO      bool              `dynamodbav:"boolo,omitempty"`
	T          time.Time         `dynamodbav:"t"`
	TO         time.Time         `dynamodbav:"to,omitempty"`
	TP         *time.Time        `dynamodbav:"tp,omitempty"`
	TPN        *time.Time        `dynamodbav:"tpn"`
	TU         time.Time         `dynamodbav:"tu,unixtime"`
	Bytes      []byte            `dynamodbav:"bytes"`
	BytesO     []byte            `dynamodbav:"byteso,omitempty"`
	Raw        json.RawMessage   `dynamodbav:"raw,omitempty"`
	Ignored    json.RawMessage   `dynamodbav:"-"`
	Strings    []string          `dynamodbav:"strings"`
	StringsO   []string          `dynamodbav:"stringso,omitempty"`
	Set        []string          `dynamodbav:"set,stringset,omitempty"`
	NumSet     []int             `dynamodbav:"numset,numberset"`
	Map        map[string]string `dynamodbav:"map"`
	MapO       map[string]int    `dynamodbav:"mapo,omitempty"`
	Inner      inner             `dynamodbav:"inner"`
	InnerP     *inner            `dynamodbav:"innerp,omitempty"`
	Inners     []inner           `dynamodbav:"inners,omitempty"`
	PS         *string           `dynamodbav:"ps"`
	NumStr     int               `dynamodbav:"numstr,string,omitempty"`
	Any        any               `dynamodbav:"any,omitempty"`
	unexported string
}

func TestMarshalMatchesSDK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var w wide
		avtest.Fill(r, reflect.ValueOf(&w).Elem())
		if i%3 == 0 {
			w.Any = map[string]any{"x": "y", "n": 1.5, "l": []any{"a", true}}
		}
		compare(t, w)
	}
}

func TestMarshalValues(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("X", 3600))
	for _, v := range []any{
		nil, "", "x", 0, 12, -3, 1.25, true, false, ts, &ts, []byte{}, []byte(nil), []byte("abc"),
		[]string{}, []string(nil), map[string]string{}, map[string]any{"a": nil}, [][]byte{[]byte("a")},
		json.Number("12.5"), struct{}{}, &struct{ A *int }{}, []any{nil, 1, "a"}, map[int]string{1: "a"},
	} {
		compare(t, v)
	}
}

func compare(t *testing.T, v any) {
	t.Helper()
	want, wantErr := sdkav.Marshal(v)
	got, gotErr := attributevalue.Marshal(v)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("Marshal(%#v): err %v; SDK %v", v, gotErr, wantErr)
	}
	if !reflect.DeepEqual(avtest.FromSDK(want), got) {
		t.Fatalf("Marshal(%#v)\n got %s\nwant %s", v, js(got), js(avtest.FromSDK(want)))
	}
	if want == nil || v == nil {
		return
	}
	// Decoding what the SDK wrote gives what the SDK's decoder gives.
	typ := reflect.TypeOf(v)
	sdkOut, ourOut := reflect.New(typ), reflect.New(typ)
	sdkErr := sdkav.Unmarshal(want, sdkOut.Interface())
	ourErr := attributevalue.Unmarshal(got, ourOut.Interface())
	if (sdkErr != nil) != (ourErr != nil) {
		t.Fatalf("Unmarshal(%s) into %T: err %v; SDK %v", js(got), v, ourErr, sdkErr)
	}
	if !reflect.DeepEqual(sdkOut.Interface(), ourOut.Interface()) {
		t.Fatalf("Unmarshal(%s) into %T\n got %#v\nwant %#v", js(got), v, ourOut.Elem().Interface(), sdkOut.Elem().Interface())
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// FuzzMarshal fills the wide struct from the fuzzer's seed and checks both directions
// against the SDK.
func FuzzMarshal(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(42), uint64(7))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		var w wide
		avtest.Fill(rand.New(rand.NewPCG(a, b)), reflect.ValueOf(&w).Elem())
		compare(t, w)
	})
}

// FuzzUnmarshal decodes DynamoDB JSON items into the wide struct with both decoders.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"s":{"S":"x"},"i":{"N":"12"},"t":{"S":"2026-11-23T10:00:00.5+01:00"},"map":{"M":{"a":{"S":"b"}}},"tp":{"NULL":true}}`))
	f.Add([]byte(`{"strings":{"L":[{"S":"a"},{"NULL":true}]},"bytes":{"B":"YWJj"},"inner":{"M":{"a":{"S":"q"},"b":{"N":"3"}}},"tu":{"N":"1700000000"}}`))
	f.Add([]byte(`{"S":{"S":"case"},"deep":{"S":"d"},"set":{"SS":["a","b"]},"numset":{"NS":["1","2"]},"any":{"L":[{"N":"1"},{"BOOL":true}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		item, err := decodeItem(raw)
		if err != nil {
			return
		}
		var ours, theirs wide
		ourErr := attributevalue.UnmarshalMap(item, &ours)
		sdkErr := sdkav.UnmarshalMap(avtest.MapToSDK(item), &theirs)
		if (ourErr != nil) != (sdkErr != nil) {
			t.Fatalf("UnmarshalMap(%s): err %v; SDK %v", data, ourErr, sdkErr)
		}
		if ourErr == nil && !reflect.DeepEqual(ours, theirs) {
			t.Fatalf("UnmarshalMap(%s)\n got %#v\nwant %#v", data, ours, theirs)
		}
	})
}
