// Package floorddb makes a cold-start floor's DynamoDB requests.
package floorddb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/infra/bench/floor"
)

// Do sends r's body (floor.Rewrite's) through c as r's operation: the client
// serializes a minimal input of the operation on table, then sends the body instead.
func Do(ctx context.Context, c *dynamodb.Client, table string, r floor.Request, body []byte) error {
	// The minimal item goes through attributevalue, as the functions' store writes
	// theirs (the card's feature/dynamodb/attributevalue, and what it links).
	key, err := attributevalue.MarshalMap(struct {
		PK string `dynamodbav:"pk"`
		SK string `dynamodbav:"sk"`
	}{"BENCHFLOOR", "FLOOR"})
	if err != nil {
		return err
	}
	opt := func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, floor.Body(body)) }
	switch r.Op {
	case "GetItem":
		_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key}, opt)
	case "Query":
		_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: &table}, opt)
	case "PutItem":
		_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key}, opt)
	case "UpdateItem":
		_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key}, opt)
	case "DeleteItem":
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: key}, opt)
	case "BatchGetItem":
		_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: []map[string]types.AttributeValue{key}}}}, opt)
	case "BatchWriteItem":
		_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {{PutRequest: &types.PutRequest{Item: key}}}}}, opt)
	case "TransactWriteItems":
		_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: &table, Item: key}}}}, opt)
	case "Scan":
		_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: &table}, opt)
	default:
		return fmt.Errorf("floor: no DynamoDB request for %s", r.Op)
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		// A write on a condition about the item's state (a rate bucket's version) that
		// a replay cannot reproduce: the request made the same round trip.
		return nil
	}
	if err != nil {
		return fmt.Errorf("floor %s: %w", r, err)
	}
	return nil
}
