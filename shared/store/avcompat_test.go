package store

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

// itemTypes are the store's item structs, and the public types they embed, that go
// to and come from the table.
var itemTypes = []any{
	eventItem{}, timelineItem{}, claimItem{}, quarantineItem{}, replayItem{}, replayDeliveryItem{},
	sourceItem{}, tokenItem{}, appItem{}, subscriptionItem{}, typeItem{}, alertItem{}, deliveryItem{},
	keyAttrs{}, Event{}, TimelineEntry{}, Quarantined{}, Replay{}, Source{}, Subscription{}, EventType{},
	Alert{}, SeverityChange{}, Delivery{},
}

// TestItemsMatchSDK holds the store's items byte-compatible with the tables the SDK's
// attributevalue wrote: the same attribute values from the same item, and the same item
// back from what the SDK wrote.
func TestItemsMatchSDK(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 23))
	for _, proto := range itemTypes {
		typ := reflect.TypeOf(proto)
		t.Run(typ.Name(), func(t *testing.T) {
			for range 400 {
				v := reflect.New(typ)
				avtest.Fill(r, v.Elem())
				compareItem(t, v.Elem().Interface())
			}
		})
	}
}

// FuzzItemsMatchSDK is TestItemsMatchSDK with the fuzzer choosing the items.
func FuzzItemsMatchSDK(f *testing.F) {
	f.Add(uint8(0), uint64(1), uint64(2))
	f.Add(uint8(11), uint64(3), uint64(4))
	f.Fuzz(func(t *testing.T, which uint8, a, b uint64) {
		typ := reflect.TypeOf(itemTypes[int(which)%len(itemTypes)])
		v := reflect.New(typ)
		avtest.Fill(rand.New(rand.NewPCG(a, b)), v.Elem())
		compareItem(t, v.Elem().Interface())
	})
}

func compareItem(t *testing.T, item any) {
	t.Helper()
	want, err := sdkav.MarshalMap(item)
	if err != nil {
		t.Fatalf("SDK MarshalMap(%#v): %v", item, err)
	}
	got, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatalf("MarshalMap(%#v): %v", item, err)
	}
	if !reflect.DeepEqual(avtest.MapFromSDK(want), got) {
		g, _ := json.Marshal(got)
		t.Fatalf("MarshalMap(%#v)\n got %s\nwant (SDK) differs", item, g)
	}
	typ := reflect.TypeOf(item)
	ours, theirs := reflect.New(typ), reflect.New(typ)
	if err := attributevalue.UnmarshalMap(avtest.MapFromSDK(want), ours.Interface()); err != nil {
		t.Fatalf("UnmarshalMap: %v", err)
	}
	if err := sdkav.UnmarshalMap(want, theirs.Interface()); err != nil {
		t.Fatalf("SDK UnmarshalMap: %v", err)
	}
	if !reflect.DeepEqual(ours.Interface(), theirs.Interface()) {
		t.Fatalf("UnmarshalMap of %T\n got %#v\nwant %#v", item, ours.Elem().Interface(), theirs.Elem().Interface())
	}
}

// TestTimeAttribute covers the one Marshal of a bare value the store makes.
func TestTimeAttribute(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 120000000, time.UTC)
	want, _ := sdkav.Marshal(at)
	got, _ := attributevalue.Marshal(at)
	if !reflect.DeepEqual(avtest.FromSDK(want), got) {
		t.Fatalf("Marshal(time) = %#v; want %#v", got, want)
	}
}
