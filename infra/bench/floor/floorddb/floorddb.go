// Package floorddb makes a cold-start floor's DynamoDB requests.
package floorddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/infra/bench/floor"
)

// overhead is about what a request below carries besides the padding.
const overhead = 160

// Do makes one request of r's operation on table, about r's size.
func Do(ctx context.Context, c *dynamodb.Client, table string, r floor.Request) error {
	pk := floor.Key()
	key := map[string]types.AttributeValue{"pk": s(pk), "sk": s("FLOOR")}
	// Items through attributevalue, as the functions' store writes them (the card's
	// feature/dynamodb/attributevalue, and the packages it links).
	item, err := attributevalue.MarshalMap(struct {
		PK  string `dynamodbav:"pk"`
		SK  string `dynamodbav:"sk"`
		Pad string `dynamodbav:"pad"`
	}{pk, "FLOOR", floor.Pad(r, overhead)})
	if err != nil {
		return err
	}
	switch r.Op {
	case "GetItem":
		_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	case "Query":
		_, err = c.Query(ctx, &dynamodb.QueryInput{
			TableName: &table, KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)}, ConsistentRead: aws.Bool(true),
		})
	case "PutItem":
		_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	case "UpdateItem":
		_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &table, Key: key, UpdateExpression: aws.String("SET #p = :p"),
			ExpressionAttributeNames:  map[string]string{"#p": "pad"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": item["pad"]},
		})
	case "DeleteItem":
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: key})
	case "BatchGetItem":
		_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: []map[string]types.AttributeValue{key}}}})
	case "BatchWriteItem":
		_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {{PutRequest: &types.PutRequest{Item: item}}}}})
	case "TransactWriteItems":
		_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: &table, Item: item}}}})
	case "Scan":
		_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: &table, Limit: aws.Int32(1)})
	default:
		return fmt.Errorf("floor: no DynamoDB request for %s", r.Op)
	}
	if err != nil {
		return fmt.Errorf("floor %s: %w", r, err)
	}
	return nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
