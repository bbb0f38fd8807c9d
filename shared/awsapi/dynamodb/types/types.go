// Package types holds DynamoDB's attribute values, the parts of requests and the
// errors of the calls eventhub makes, in the shapes of the SDK's
// service/dynamodb/types.
package types

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// AttributeValue is one of the AttributeValueMember types.
type AttributeValue interface {
	isAttributeValue()
	json.Marshaler
}

// AttributeValueMemberB is a binary value.
type AttributeValueMemberB struct{ Value []byte }

// AttributeValueMemberBOOL is a boolean.
type AttributeValueMemberBOOL struct{ Value bool }

// AttributeValueMemberBS is a binary set.
type AttributeValueMemberBS struct{ Value [][]byte }

// AttributeValueMemberL is a list.
type AttributeValueMemberL struct{ Value []AttributeValue }

// AttributeValueMemberM is a map.
type AttributeValueMemberM struct{ Value map[string]AttributeValue }

// AttributeValueMemberN is a number, as its decimal string.
type AttributeValueMemberN struct{ Value string }

// AttributeValueMemberNS is a number set.
type AttributeValueMemberNS struct{ Value []string }

// AttributeValueMemberNULL is a null.
type AttributeValueMemberNULL struct{ Value bool }

// AttributeValueMemberS is a string.
type AttributeValueMemberS struct{ Value string }

// AttributeValueMemberSS is a string set.
type AttributeValueMemberSS struct{ Value []string }

func (*AttributeValueMemberB) isAttributeValue()    {}
func (*AttributeValueMemberBOOL) isAttributeValue() {}
func (*AttributeValueMemberBS) isAttributeValue()   {}
func (*AttributeValueMemberL) isAttributeValue()    {}
func (*AttributeValueMemberM) isAttributeValue()    {}
func (*AttributeValueMemberN) isAttributeValue()    {}
func (*AttributeValueMemberNS) isAttributeValue()   {}
func (*AttributeValueMemberNULL) isAttributeValue() {}
func (*AttributeValueMemberS) isAttributeValue()    {}
func (*AttributeValueMemberSS) isAttributeValue()   {}

// MarshalJSON writes the value in DynamoDB's JSON ({"S":"..."}).
func (v *AttributeValueMemberB) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ B []byte }{nonNil(v.Value)})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberBOOL) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ BOOL bool }{v.Value})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberBS) MarshalJSON() ([]byte, error) {
	bs := make([][]byte, len(v.Value))
	for i, b := range v.Value {
		bs[i] = nonNil(b)
	}
	return json.Marshal(struct{ BS [][]byte }{bs})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberL) MarshalJSON() ([]byte, error) {
	l := v.Value
	if l == nil {
		l = []AttributeValue{}
	}
	return json.Marshal(struct{ L []AttributeValue }{l})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberM) MarshalJSON() ([]byte, error) {
	m := v.Value
	if m == nil {
		m = map[string]AttributeValue{}
	}
	return json.Marshal(struct{ M map[string]AttributeValue }{m})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberN) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ N string }{v.Value})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberNS) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ NS []string }{nonNilStrings(v.Value)})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberNULL) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ NULL bool }{v.Value})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberS) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ S string }{v.Value})
}

// MarshalJSON writes the value in DynamoDB's JSON.
func (v *AttributeValueMemberSS) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ SS []string }{nonNilStrings(v.Value)})
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// wire is an attribute value as DynamoDB's JSON has it.
type wire struct {
	S    *string
	N    *string
	B    *string
	BOOL *bool
	NULL *bool
	M    map[string]json.RawMessage
	L    []json.RawMessage
	SS   []string
	NS   []string
	BS   []string
}

// DecodeJSON reads one attribute value in DynamoDB's JSON.
func DecodeJSON(data []byte) (AttributeValue, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	switch {
	case w.S != nil:
		return &AttributeValueMemberS{Value: *w.S}, nil
	case w.N != nil:
		return &AttributeValueMemberN{Value: *w.N}, nil
	case w.BOOL != nil:
		return &AttributeValueMemberBOOL{Value: *w.BOOL}, nil
	case w.NULL != nil:
		return &AttributeValueMemberNULL{Value: *w.NULL}, nil
	case w.B != nil:
		b, err := base64.StdEncoding.DecodeString(*w.B)
		if err != nil {
			return nil, fmt.Errorf("attribute value B: %w", err)
		}
		return &AttributeValueMemberB{Value: b}, nil
	case w.M != nil:
		m, err := DecodeMap(w.M)
		if err != nil {
			return nil, err
		}
		return &AttributeValueMemberM{Value: m}, nil
	case w.L != nil:
		l := make([]AttributeValue, len(w.L))
		for i, raw := range w.L {
			v, err := DecodeJSON(raw)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return &AttributeValueMemberL{Value: l}, nil
	case w.SS != nil:
		return &AttributeValueMemberSS{Value: w.SS}, nil
	case w.NS != nil:
		return &AttributeValueMemberNS{Value: w.NS}, nil
	case w.BS != nil:
		bs := make([][]byte, len(w.BS))
		for i, s := range w.BS {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("attribute value BS: %w", err)
			}
			bs[i] = b
		}
		return &AttributeValueMemberBS{Value: bs}, nil
	}
	return nil, fmt.Errorf("attribute value %s: no known member", truncate(data))
}

// DecodeMap reads a map of attribute values in DynamoDB's JSON (nil for nil).
func DecodeMap(raw map[string]json.RawMessage) (map[string]AttributeValue, error) {
	if raw == nil {
		return nil, nil
	}
	m := make(map[string]AttributeValue, len(raw))
	for k, r := range raw {
		v, err := DecodeJSON(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = v
	}
	return m, nil
}

// DecodeMaps reads a list of items.
func DecodeMaps(raw []map[string]json.RawMessage) ([]map[string]AttributeValue, error) {
	if raw == nil {
		return nil, nil
	}
	out := make([]map[string]AttributeValue, len(raw))
	for i, r := range raw {
		m, err := DecodeMap(r)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}

// ReturnValue is what UpdateItem, PutItem and DeleteItem return of the item.
type ReturnValue string

// The ReturnValue values.
const (
	ReturnValueNone       ReturnValue = "NONE"
	ReturnValueAllOld     ReturnValue = "ALL_OLD"
	ReturnValueUpdatedOld ReturnValue = "UPDATED_OLD"
	ReturnValueAllNew     ReturnValue = "ALL_NEW"
	ReturnValueUpdatedNew ReturnValue = "UPDATED_NEW"
)

// ReturnValuesOnConditionCheckFailure is what a failed condition returns of the item.
type ReturnValuesOnConditionCheckFailure string

// The ReturnValuesOnConditionCheckFailure values.
const (
	ReturnValuesOnConditionCheckFailureAllOld ReturnValuesOnConditionCheckFailure = "ALL_OLD"
	ReturnValuesOnConditionCheckFailureNone   ReturnValuesOnConditionCheckFailure = "NONE"
)

// Select is what a Query returns.
type Select string

// The Select values.
const (
	SelectAllAttributes          Select = "ALL_ATTRIBUTES"
	SelectAllProjectedAttributes Select = "ALL_PROJECTED_ATTRIBUTES"
	SelectSpecificAttributes     Select = "SPECIFIC_ATTRIBUTES"
	SelectCount                  Select = "COUNT"
)

// TransactWriteItem is one write of a TransactWriteItems call.
type TransactWriteItem struct {
	ConditionCheck *ConditionCheck `json:",omitempty"`
	Delete         *Delete         `json:",omitempty"`
	Put            *Put            `json:",omitempty"`
	Update         *Update         `json:",omitempty"`
}

// ConditionCheck is a condition on an item that a transaction does not write.
type ConditionCheck struct {
	ConditionExpression                 *string                             `json:",omitempty"`
	Key                                 map[string]AttributeValue           `json:",omitempty"`
	TableName                           *string                             `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                   `json:",omitempty"`
	ExpressionAttributeValues           map[string]AttributeValue           `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// Delete is a delete in a transaction.
type Delete struct {
	Key                                 map[string]AttributeValue           `json:",omitempty"`
	TableName                           *string                             `json:",omitempty"`
	ConditionExpression                 *string                             `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                   `json:",omitempty"`
	ExpressionAttributeValues           map[string]AttributeValue           `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// Put is a put in a transaction.
type Put struct {
	Item                                map[string]AttributeValue           `json:",omitempty"`
	TableName                           *string                             `json:",omitempty"`
	ConditionExpression                 *string                             `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                   `json:",omitempty"`
	ExpressionAttributeValues           map[string]AttributeValue           `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// Update is an update in a transaction.
type Update struct {
	Key                                 map[string]AttributeValue           `json:",omitempty"`
	UpdateExpression                    *string                             `json:",omitempty"`
	TableName                           *string                             `json:",omitempty"`
	ConditionExpression                 *string                             `json:",omitempty"`
	ExpressionAttributeNames            map[string]string                   `json:",omitempty"`
	ExpressionAttributeValues           map[string]AttributeValue           `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure ReturnValuesOnConditionCheckFailure `json:",omitempty"`
}

// KeysAndAttributes is the keys of one table in a BatchGetItem call.
type KeysAndAttributes struct {
	Keys                     []map[string]AttributeValue `json:",omitempty"`
	AttributesToGet          []string                    `json:",omitempty"`
	ConsistentRead           *bool                       `json:",omitempty"`
	ExpressionAttributeNames map[string]string           `json:",omitempty"`
	ProjectionExpression     *string                     `json:",omitempty"`
}

// UnmarshalJSON reads the keys DynamoDB returns as unprocessed.
func (k *KeysAndAttributes) UnmarshalJSON(data []byte) error {
	var w struct {
		Keys                     []map[string]json.RawMessage
		AttributesToGet          []string
		ConsistentRead           *bool
		ExpressionAttributeNames map[string]string
		ProjectionExpression     *string
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	keys, err := DecodeMaps(w.Keys)
	if err != nil {
		return err
	}
	*k = KeysAndAttributes{Keys: keys, AttributesToGet: w.AttributesToGet, ConsistentRead: w.ConsistentRead,
		ExpressionAttributeNames: w.ExpressionAttributeNames, ProjectionExpression: w.ProjectionExpression}
	return nil
}

// CancellationReason is why a transaction did not write one of its items, in the
// order of the items: Code is "None" for an item that was not the cause.
type CancellationReason struct {
	Code    *string
	Item    map[string]AttributeValue
	Message *string
}

// UnmarshalJSON reads a reason.
func (r *CancellationReason) UnmarshalJSON(data []byte) error {
	var w struct {
		Code    *string
		Message *string
		Item    map[string]json.RawMessage
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	item, err := DecodeMap(w.Item)
	if err != nil {
		return err
	}
	*r = CancellationReason{Code: w.Code, Message: w.Message, Item: item}
	return nil
}
