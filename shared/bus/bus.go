// Package bus is eventhub's EventBridge contract: the sources, detail types and details
// of the entries the pipeline puts on its bus, and a publisher that survives PutEvents'
// partial failures and EventBridge's entry size limit.
package bus

import (
	"encoding/json"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
)

// Sources and detail types of the entries on the bus (DESIGN.md §2).
const (
	SourceIngest    = "eventhub.ingest"
	SourceNormalize = "eventhub.normalize"
	SourcePersist   = "eventhub.persist"
	SourceNotify    = "eventhub.notify"

	Received       = "Event Received"
	Normalized     = "Event Normalized"
	Stored         = "Event Stored"
	DeliveryFailed = "Delivery Failed"
	// SubscriptionDisabled is put by notify when it turns a subscription off: its
	// endpoint answered 410 Gone, or every attempt failed for the configured period.
	SubscriptionDisabled = "Subscription Disabled"
)

// MaxEvent is the largest event, as sent or as a CloudEvent, that an entry carries
// with its hub: EventBridge's 1 MB entry, less room for the hub and the envelope.
const MaxEvent = 1<<20 - 16<<10

// CheckFits reports whether a canonical event fits the Event Normalized and Event
// Stored entries that carry it: a fault.TooLarge when it does not. Ingest and
// normalize check it, so that no accepted event is stuck between two functions.
func CheckFits(event []byte) error {
	if len(event) > MaxEvent {
		return fault.New(fault.TooLarge, "event is %d bytes as a CloudEvent; an event on the bus is limited to %d", len(event), MaxEvent)
	}
	return nil
}

// Hub is the pipeline's metadata about one event, carried through every stage.
type Hub struct {
	Key          string    `json:"key"`                   // storage key (cloudevent.Key)
	SourceID     string    `json:"sourceId,omitempty"`    // the producer source that sent it
	Format       string    `json:"format,omitempty"`      // the adapter that reads it
	ContentType  string    `json:"contentType,omitempty"` // of the producer's request
	ReceivedAt   time.Time `json:"receivedAt"`
	NormalizedAt time.Time `json:"normalizedAt,omitzero"`
	StoredAt     time.Time `json:"storedAt,omitzero"` // set by persist on Event Stored
	RequestID    string    `json:"requestId,omitempty"`
	// DataRef is set on an Event Stored whose data was left in the store (StoredEntry):
	// the URL of the data, also the event's dataref extension.
	DataRef string `json:"dataref,omitempty"`
	// Quarantine is set by ingest on an event of a source that quarantines what it
	// cannot read (store.OnInvalidQuarantine) when the event failed ingest's checks:
	// the id of the quarantine item normalize is to make of it, and ingest's reason.
	Quarantine *Quarantine `json:"quarantine,omitempty"`
	// Signed is set by ingest on an event that came through the signed iuap route,
	// the only one whose events may carry an iuap identity.
	Signed bool `json:"signed,omitempty"`
	// Headers are the request headers the event's mapping reads (lower-case names),
	// and only those: a mapping cannot read a header that carries a credential.
	Headers map[string]string `json:"headers,omitempty"`
	// MappingVersion is the version of the source's own mapping the event was received
	// under, which normalize applies (0: the source had none; its format reads it).
	MappingVersion int64 `json:"mappingVersion,omitempty"`
}

// Quarantine is what ingest tells normalize about an event it accepted although it
// could not read it.
type Quarantine struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// ReceivedDetail is the detail of an Event Received entry: the producer's event as sent.
// Raw is the event's JSON, or a JSON string holding a non-JSON payload.
type ReceivedDetail struct {
	Raw    json.RawMessage `json:"raw"`
	Format string          `json:"format"`
	Hub    Hub             `json:"hub"`
}

// EventDetail is the detail of Event Normalized and Event Stored entries: the canonical
// CloudEvent and the pipeline's metadata.
type EventDetail struct {
	Event json.RawMessage `json:"event"`
	Hub   Hub             `json:"hub"`
}

// Batch is what ingest handed persist by asynchronous Lambda invocation before every
// event went through the bus (eventhub before the three-hop chain): the accepted events
// of one request, each as an Event Normalized detail, or a claim reference to them.
// Persist still reads it, so that invocations queued by an older ingest, and the
// pipeline dead-letter records they left, are stored after an upgrade
// (docs/upgrading.md); nothing sends it any more.
type Batch struct {
	Events []EventDetail `json:"events"`
}

// DeliveryFailedDetail is the detail of a Delivery Failed entry.
type DeliveryFailedDetail struct {
	Key            string    `json:"key"`
	EventID        string    `json:"eventId"`
	EventSource    string    `json:"eventSource"`
	EventType      string    `json:"eventType"`
	SubscriptionID string    `json:"subscriptionId"`
	URL            string    `json:"url"` // redacted: no credentials, no query values (webhook.RedactURL)
	Attempts       int       `json:"attempts"`
	LastStatus     int       `json:"lastStatus,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
	FailedAt       time.Time `json:"failedAt"`
}

// SubscriptionDisabledDetail is the detail of a Subscription Disabled entry. Reason is
// "gone" (the endpoint answered 410) or "failing" (only failures since FailingSince).
type SubscriptionDisabledDetail struct {
	SubscriptionID string     `json:"subscriptionId"`
	Name           string     `json:"name"`
	URL            string     `json:"url"` // redacted, as in DeliveryFailedDetail
	Reason         string     `json:"reason"`
	LastStatus     int        `json:"lastStatus,omitempty"`
	LastError      string     `json:"lastError,omitempty"`
	FailingSince   *time.Time `json:"failingSince,omitempty"`
	DisabledAt     time.Time  `json:"disabledAt"`
}
