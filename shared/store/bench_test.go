package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// nopDB is a DynamoAPI that answers every call with success and no data, so that
// the benchmarks measure the store's own work: building and marshalling items.
type nopDB struct{}

func (nopDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}
func (nopDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}
func (nopDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}
func (nopDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, nil
}
func (nopDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}
func (nopDB) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{}, nil
}
func (nopDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func benchEvent() Event {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ev := Event{
		Key: "evt_abcdefghijklmnopqrstuvwxyz", Source: "acs.mse", ID: "5d7c4e2a-8f3b-4a6e-9c1d-2b7e8f9a0c3d",
		Type: "mse:Agent:OutlierEjection", Subject: "acs.mse:cn-hangzhou:1234567890123456:/instances/mse-cn-abc123def456",
		Time: "2024-01-01T00:00:00Z", SourceID: "src_0123456789", Format: "cloudevents",
		ReceivedAt: at, NormalizedAt: at.Add(10 * time.Millisecond), StoredAt: at.Add(30 * time.Millisecond),
		Event: json.RawMessage(patterntest.MSEEvent),
	}
	return ev
}

// BenchmarkPutEvent is persist's write: the event item, marshalled into one
// conditional put.
func BenchmarkPutEvent(b *testing.B) {
	s := New(nopDB{}, "events", 30*24*time.Hour)
	ev := benchEvent()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.PutEvent(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalEventItem(b *testing.B) {
	ev := benchEvent()
	item := eventItem{keyAttrs: keyAttrs{PK: pkEvent + ev.Key, SK: skEvent}, Event: ev, Body: string(ev.Event)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := attributevalue.MarshalMap(item); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	ev := benchEvent()
	av, err := attributevalue.MarshalMap(eventItem{keyAttrs: keyAttrs{PK: pkEvent + ev.Key, SK: skEvent}, Event: ev, Body: string(ev.Event)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeEvent(av); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimAttempt is notify's claim of a first delivery attempt.
func BenchmarkClaimAttempt(b *testing.B) {
	s := New(nopDB{}, "events", 30*24*time.Hour)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ClaimAttempt(ctx, "evt_abcdefghijklmnopqrstuvwxyz", "sub_0123456789", "msg_abcdefghijklmnopqrstuvwxyz", 1, 45*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
