// Package types holds the entries of EventBridge's PutEvents, in the shapes of the
// SDK's service/eventbridge/types.
package types

// PutEventsRequestEntry is one event to put on a bus.
type PutEventsRequestEntry struct {
	Detail       *string  `json:",omitempty"`
	DetailType   *string  `json:",omitempty"`
	EventBusName *string  `json:",omitempty"`
	Resources    []string `json:",omitempty"`
	Source       *string  `json:",omitempty"`
	TraceHeader  *string  `json:",omitempty"`
}

// PutEventsResultEntry is the outcome of one entry: an EventId, or an ErrorCode and
// ErrorMessage.
type PutEventsResultEntry struct {
	ErrorCode    *string
	ErrorMessage *string
	EventId      *string
}
