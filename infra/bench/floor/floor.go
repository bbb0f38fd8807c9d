// Package floor is what make bench's cold-start floors do. A floor is a hello-world
// generated for one function (infra/bench/floorgen.go): it builds the SDK clients the
// function builds, the way it builds them, and on its first invocation sends, through
// those clients, the AWS requests the function sent on its first invocation, byte for
// byte (the items' keys renamed, so that conditional writes succeed as they did for
// the function; the bus entries' sources renamed, so that no rule routes them; SQS
// requests to a queue of the bench's). The subpackages make the requests of one
// service each, so that a floor links the function's service packages and no other.
package floor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Env is the variable that hands a floor its requests, in Format's form.
const Env = "BENCH_FLOOR_REQUESTS"

// QueueEnv names the queue a floor's SQS requests go to (a queue of the bench's own:
// nothing consumes it).
const QueueEnv = "BENCH_FLOOR_QUEUE_URL"

// Request is one AWS request of a first invocation.
type Request struct {
	Service string `json:"service"` // the endpoint variable's suffix, lower case: dynamodb, eventbridge, sqs, lambda
	Op      string `json:"op"`      // the operation: GetItem, PutEvents, SendMessage...
	Body    []byte `json:"body"`    // as the function sent it
}

func (r Request) String() string { return r.Service + "." + r.Op }

// Supported lists the operations a floor can make, by service.
var Supported = map[string][]string{
	"dynamodb":    {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "Scan"},
	"eventbridge": {"PutEvents"},
	"sqs":         {"SendMessage", "ReceiveMessage", "GetQueueAttributes", "DeleteMessage", "ChangeMessageVisibility"},
}

// Supports reports whether a floor can make r.
func Supports(r Request) bool {
	for _, op := range Supported[r.Service] {
		if op == r.Op {
			return true
		}
	}
	return false
}

// Format is the value of Env for rs.
func Format(rs []Request) string {
	b, _ := json.Marshal(rs) // a slice of plain structs always marshals
	return string(b)
}

// Parse reads Format's form.
func Parse(s string) ([]Request, error) {
	if s == "" {
		return nil, nil
	}
	var rs []Request
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", Env, err)
	}
	return rs, nil
}

// Rewrite returns r's body for a new run: every event storage key (evt_ and 26
// base32 letters) and the partition key of every item a write names gets suffix, bus entries' sources starting "eventhub." start "benchfloor.", and an
// SQS request's queue is queueURL.
func Rewrite(r Request, suffix, queueURL string) []byte {
	b := renameKeys(r.Body, suffix)
	if r.Service == "dynamodb" && (strings.Contains(r.Op, "Write") || r.Op == "PutItem" || r.Op == "UpdateItem") {
		// A conditional write of an item that is not an event's (a source's rate
		// bucket) succeeds for the floor as for the function: on an item of its own.
		b = pkValue.ReplaceAllFunc(b, func(m []byte) []byte {
			if bytes.Contains(m, []byte(suffix)) {
				return m
			}
			return append(m[:len(m)-1:len(m)-1], suffix+`"`...)
		})
	}
	switch r.Service {
	case "eventbridge":
		b = bytes.ReplaceAll(b, []byte(`"Source":"eventhub.`), []byte(`"Source":"benchfloor.`))
	case "sqs":
		const field = `"QueueUrl":"`
		if i := bytes.Index(b, []byte(field)); i >= 0 {
			start := i + len(field)
			if n := bytes.IndexByte(b[start:], '"'); n >= 0 {
				b = append(append(b[:start:start], queueURL...), b[start+n:]...)
			}
		}
	}
	return b
}

// pkValue is an item's partition key in a DynamoDB request's JSON, without its
// closing quote ("pk":{"S":"RATE#src_1).
var pkValue = regexp.MustCompile(`("pk":\{"S":"[^"\\]*)"`)

// renameKeys appends suffix to every storage key in b.
func renameKeys(b []byte, suffix string) []byte {
	const prefix, n = "evt_", 26
	var out []byte
	last := 0
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(prefix))
		if j < 0 {
			break
		}
		start := i + j
		end := start + len(prefix)
		for end < len(b) && end-start-len(prefix) < n && (b[end] >= 'a' && b[end] <= 'z' || b[end] >= '2' && b[end] <= '7') {
			end++
		}
		if end-start-len(prefix) == n {
			out = append(append(out, b[last:end]...), suffix...)
			last = end
		}
		i = end
	}
	if out == nil {
		return bytes.Clone(b)
	}
	return append(out, b[last:]...)
}

// Suffix is a new suffix for Rewrite: a floor's keys are its own.
func Suffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "-f" + hex.EncodeToString(b[:])
}

// Body is an API option that sends body in place of what the operation serialized:
// the client signs and sends it, and reads the answer, as it would its own.
func Body(body []byte) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Serialize.Add(middleware.SerializeMiddlewareFunc("BenchFloorBody",
			func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("floor: unexpected request type %T", in.Request)
				}
				r, err := req.SetStream(bytes.NewReader(body))
				if err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				r.ContentLength = int64(len(body))
				r.Header.Set("Content-Length", strconv.Itoa(len(body)))
				in.Request = r
				return next.HandleSerialize(ctx, in)
			}), middleware.After)
	}
}
