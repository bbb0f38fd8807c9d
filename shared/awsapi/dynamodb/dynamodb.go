// Package dynamodb is a DynamoDB client for the calls eventhub makes, in the shapes of
// the SDK's service/dynamodb, over shared/awsapi.
package dynamodb

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/eventhub/eventhub/shared/awsapi"
	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
)

// Service is DynamoDB's JSON protocol.
var Service = awsapi.Service{SDKID: "DynamoDB", SigningName: "dynamodb", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0"}

// Client calls DynamoDB.
type Client struct{ c *awsapi.Client }

// New returns a client on cfg.
func New(cfg awsapi.Config) *Client { return &Client{awsapi.New(cfg, Service)} }

// Endpoint is where the client sends its requests.
func (c *Client) Endpoint() string { return c.c.Endpoint() }

func (c *Client) do(ctx context.Context, op string, in, out any) error {
	err := c.c.Do(ctx, op, in, out)
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return types.FromError(ae)
	}
	return err
}

type attrs = map[string]types.AttributeValue

// wireItem is an item in DynamoDB's JSON, decoded into attribute values afterwards.
type wireItem = map[string]json.RawMessage

// GetItemInput is the request of GetItem.
type GetItemInput struct {
	Key                      attrs             `json:",omitempty"`
	TableName                *string           `json:",omitempty"`
	ConsistentRead           *bool             `json:",omitempty"`
	ExpressionAttributeNames map[string]string `json:",omitempty"`
	ProjectionExpression     *string           `json:",omitempty"`
}

// GetItemOutput is the answer of GetItem; Item is nil when there is no such item.
type GetItemOutput struct {
	Item attrs
}

// GetItem reads one item.
func (c *Client) GetItem(ctx context.Context, in *GetItemInput) (*GetItemOutput, error) {
	var w struct{ Item wireItem }
	if err := c.do(ctx, "GetItem", in, &w); err != nil {
		return nil, err
	}
	item, err := types.DecodeMap(w.Item)
	if err != nil {
		return nil, err
	}
	return &GetItemOutput{Item: item}, nil
}

// PutItemInput is the request of PutItem.
type PutItemInput struct {
	Item                                attrs                                     `json:",omitempty"`
	TableName                           *string                                   `json:",omitempty"`
	ConditionExpression                 *string                                   `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                         `json:",omitempty"`
	ExpressionAttributeValues           attrs                                     `json:",omitempty"`
	ReturnValues                        types.ReturnValue                         `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// PutItemOutput is the answer of PutItem.
type PutItemOutput struct {
	Attributes attrs
}

// PutItem writes one item.
func (c *Client) PutItem(ctx context.Context, in *PutItemInput) (*PutItemOutput, error) {
	a, err := c.attributes(ctx, "PutItem", in)
	if err != nil {
		return nil, err
	}
	return &PutItemOutput{Attributes: a}, nil
}

func (c *Client) attributes(ctx context.Context, op string, in any) (attrs, error) {
	var w struct{ Attributes wireItem }
	if err := c.do(ctx, op, in, &w); err != nil {
		return nil, err
	}
	return types.DecodeMap(w.Attributes)
}

// UpdateItemInput is the request of UpdateItem.
type UpdateItemInput struct {
	Key                                 attrs                                     `json:",omitempty"`
	TableName                           *string                                   `json:",omitempty"`
	UpdateExpression                    *string                                   `json:",omitempty"`
	ConditionExpression                 *string                                   `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                         `json:",omitempty"`
	ExpressionAttributeValues           attrs                                     `json:",omitempty"`
	ReturnValues                        types.ReturnValue                         `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// UpdateItemOutput is the answer of UpdateItem.
type UpdateItemOutput struct {
	Attributes attrs
}

// UpdateItem changes or creates one item.
func (c *Client) UpdateItem(ctx context.Context, in *UpdateItemInput) (*UpdateItemOutput, error) {
	a, err := c.attributes(ctx, "UpdateItem", in)
	if err != nil {
		return nil, err
	}
	return &UpdateItemOutput{Attributes: a}, nil
}

// DeleteItemInput is the request of DeleteItem.
type DeleteItemInput struct {
	Key                                 attrs                                     `json:",omitempty"`
	TableName                           *string                                   `json:",omitempty"`
	ConditionExpression                 *string                                   `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                         `json:",omitempty"`
	ExpressionAttributeValues           attrs                                     `json:",omitempty"`
	ReturnValues                        types.ReturnValue                         `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// DeleteItemOutput is the answer of DeleteItem.
type DeleteItemOutput struct {
	Attributes attrs
}

// DeleteItem deletes one item.
func (c *Client) DeleteItem(ctx context.Context, in *DeleteItemInput) (*DeleteItemOutput, error) {
	a, err := c.attributes(ctx, "DeleteItem", in)
	if err != nil {
		return nil, err
	}
	return &DeleteItemOutput{Attributes: a}, nil
}

// QueryInput is the request of Query.
type QueryInput struct {
	TableName                 *string           `json:",omitempty"`
	IndexName                 *string           `json:",omitempty"`
	KeyConditionExpression    *string           `json:",omitempty"`
	FilterExpression          *string           `json:",omitempty"`
	ProjectionExpression      *string           `json:",omitempty"`
	ExpressionAttributeNames  map[string]string `json:",omitempty"`
	ExpressionAttributeValues attrs             `json:",omitempty"`
	ExclusiveStartKey         attrs             `json:",omitempty"`
	ConsistentRead            *bool             `json:",omitempty"`
	Limit                     *int32            `json:",omitempty"`
	ScanIndexForward          *bool             `json:",omitempty"`
	Select                    types.Select      `json:",omitempty"`
}

// QueryOutput is a page of a Query.
type QueryOutput struct {
	Items            []map[string]types.AttributeValue
	LastEvaluatedKey attrs
	Count            int32
	ScannedCount     int32
}

// Query reads a page of the items of a partition.
func (c *Client) Query(ctx context.Context, in *QueryInput) (*QueryOutput, error) {
	var w struct {
		Items            []wireItem
		LastEvaluatedKey wireItem
		Count            int32
		ScannedCount     int32
	}
	if err := c.do(ctx, "Query", in, &w); err != nil {
		return nil, err
	}
	items, err := types.DecodeMaps(w.Items)
	if err != nil {
		return nil, err
	}
	last, err := types.DecodeMap(w.LastEvaluatedKey)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []map[string]types.AttributeValue{}
	}
	return &QueryOutput{Items: items, LastEvaluatedKey: last, Count: w.Count, ScannedCount: w.ScannedCount}, nil
}

// BatchGetItemInput is the request of BatchGetItem.
type BatchGetItemInput struct {
	RequestItems map[string]types.KeysAndAttributes
}

// BatchGetItemOutput is the answer of BatchGetItem: the items found by table, and the
// keys DynamoDB did not get to, to ask again.
type BatchGetItemOutput struct {
	Responses       map[string][]map[string]types.AttributeValue
	UnprocessedKeys map[string]types.KeysAndAttributes
}

// BatchGetItem reads up to 100 items by key.
func (c *Client) BatchGetItem(ctx context.Context, in *BatchGetItemInput) (*BatchGetItemOutput, error) {
	var w struct {
		Responses       map[string][]wireItem
		UnprocessedKeys map[string]types.KeysAndAttributes
	}
	if err := c.do(ctx, "BatchGetItem", in, &w); err != nil {
		return nil, err
	}
	out := &BatchGetItemOutput{Responses: make(map[string][]map[string]types.AttributeValue, len(w.Responses)), UnprocessedKeys: w.UnprocessedKeys}
	for table, items := range w.Responses {
		got, err := types.DecodeMaps(items)
		if err != nil {
			return nil, err
		}
		out.Responses[table] = got
	}
	return out, nil
}

// TransactWriteItemsInput is the request of TransactWriteItems.
type TransactWriteItemsInput struct {
	TransactItems      []types.TransactWriteItem
	ClientRequestToken *string `json:",omitempty"`
}

// TransactWriteItemsOutput is the answer of TransactWriteItems.
type TransactWriteItemsOutput struct{}

// TransactWriteItems writes up to 100 items all or none.
func (c *Client) TransactWriteItems(ctx context.Context, in *TransactWriteItemsInput) (*TransactWriteItemsOutput, error) {
	if err := c.do(ctx, "TransactWriteItems", in, nil); err != nil {
		return nil, err
	}
	return &TransactWriteItemsOutput{}, nil
}
