package attributevalue_test

import (
	"encoding/json"

	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
)

func decodeItem(raw map[string]json.RawMessage) (map[string]types.AttributeValue, error) {
	return types.DecodeMap(raw)
}
