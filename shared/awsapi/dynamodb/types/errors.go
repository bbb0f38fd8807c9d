package types

import (
	"encoding/json"

	"github.com/eventhub/eventhub/shared/awsapi"
)

// apiError is what every DynamoDB error has: the service's answer. errors.As finds the
// *awsapi.Error under each of them.
type apiError struct{ err *awsapi.Error }

func (e apiError) Error() string {
	if e.err == nil {
		return "DynamoDB error"
	}
	return e.err.Error()
}

// ErrorCode is the AWS error code.
func (e apiError) ErrorCode() string {
	if e.err == nil {
		return ""
	}
	return e.err.Code
}

// ErrorMessage is the error's message.
func (e apiError) ErrorMessage() string {
	if e.err == nil {
		return ""
	}
	return e.err.Message
}

// Unwrap returns the service's answer.
func (e apiError) Unwrap() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

// ConditionalCheckFailedException is a write whose condition was false. Item is the
// item as it was when the request asked for it with ReturnValuesOnConditionCheckFailure.
type ConditionalCheckFailedException struct {
	apiError
	Message *string
	Item    map[string]AttributeValue
}

// TransactionCanceledException is a transaction that wrote nothing; its
// CancellationReasons say why, item by item.
type TransactionCanceledException struct {
	apiError
	Message             *string
	CancellationReasons []CancellationReason
}

// TransactionConflictException is an item that another transaction is writing.
type TransactionConflictException struct {
	apiError
	Message *string
}

// ProvisionedThroughputExceededException is a request over the table's throughput.
type ProvisionedThroughputExceededException struct {
	apiError
	Message *string
}

// ThrottlingException is a request over an account or control-plane rate.
type ThrottlingException struct {
	apiError
	Message *string
}

// RequestLimitExceeded is a request over the account's throughput.
type RequestLimitExceeded struct {
	apiError
	Message *string
}

// ResourceNotFoundException is a table or index that does not exist.
type ResourceNotFoundException struct {
	apiError
	Message *string
}

// InternalServerError is a failure of DynamoDB.
type InternalServerError struct {
	apiError
	Message *string
}

// FromError returns the typed error of the service's answer: one of the exceptions
// above, or e itself for other codes.
func FromError(e *awsapi.Error) error {
	var msg *string
	if e.Message != "" {
		m := e.Message
		msg = &m
	}
	base := apiError{e}
	switch e.Code {
	case "ConditionalCheckFailedException":
		var body struct{ Item map[string]json.RawMessage }
		_ = json.Unmarshal(e.Body, &body)
		item, _ := DecodeMap(body.Item)
		return &ConditionalCheckFailedException{apiError: base, Message: msg, Item: item}
	case "TransactionCanceledException":
		var body struct{ CancellationReasons []CancellationReason }
		_ = json.Unmarshal(e.Body, &body)
		return &TransactionCanceledException{apiError: base, Message: msg, CancellationReasons: body.CancellationReasons}
	case "TransactionConflictException":
		return &TransactionConflictException{apiError: base, Message: msg}
	case "ProvisionedThroughputExceededException":
		return &ProvisionedThroughputExceededException{apiError: base, Message: msg}
	case "ThrottlingException":
		return &ThrottlingException{apiError: base, Message: msg}
	case "RequestLimitExceeded":
		return &RequestLimitExceeded{apiError: base, Message: msg}
	case "ResourceNotFoundException":
		return &ResourceNotFoundException{apiError: base, Message: msg}
	case "InternalServerError":
		return &InternalServerError{apiError: base, Message: msg}
	}
	return e
}
