// Package floor is what make bench's cold-start floors do: a floor is a hello-world
// generated for one function, which builds the SDK clients the function builds, the way
// it builds them, and on its first invocation makes the AWS requests the function made
// on its first invocation (the same operations in the same order, writes of about the
// same size). The subpackages make the requests of one service each, so that a floor
// links the function's service packages and no other.
package floor

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Env is the variable that hands a floor its requests, in Format's form.
const Env = "BENCH_FLOOR_REQUESTS"

// QueueEnv names the queue a floor's SQS requests go to (a queue of the bench's own:
// nothing consumes it).
const QueueEnv = "BENCH_FLOOR_QUEUE_URL"

// Request is one AWS request of a first invocation.
type Request struct {
	Service string // the endpoint variable's suffix, lower case: dynamodb, eventbridge, sqs, lambda
	Op      string // the operation: GetItem, PutEvents, SendMessage...
	Bytes   int    // the request body's size
}

func (r Request) String() string { return r.Service + "." + r.Op }

// Supported lists the operations a floor can make, by service.
var Supported = map[string][]string{
	"dynamodb":    {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "Scan"},
	"eventbridge": {"PutEvents"},
	"sqs":         {"SendMessage", "SendMessageBatch", "ReceiveMessage", "GetQueueAttributes"},
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

// Format is the value of Env for rs: "dynamodb.GetItem:180,eventbridge.PutEvents:1450".
func Format(rs []Request) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String() + ":" + strconv.Itoa(r.Bytes)
	}
	return strings.Join(parts, ",")
}

// Parse reads Format's form.
func Parse(s string) ([]Request, error) {
	if s == "" {
		return nil, nil
	}
	var out []Request
	for _, part := range strings.Split(s, ",") {
		name, size, ok := strings.Cut(part, ":")
		svc, op, ok2 := strings.Cut(name, ".")
		n, err := strconv.Atoi(size)
		if !ok || !ok2 || err != nil || n < 0 {
			return nil, fmt.Errorf("floor request %q: want service.Operation:bytes", part)
		}
		out = append(out, Request{Service: svc, Op: op, Bytes: n})
	}
	return out, nil
}

// Pad returns a string that brings a request whose fixed part is about overhead bytes
// to about r.Bytes.
func Pad(r Request, overhead int) string {
	return strings.Repeat("x", max(1, r.Bytes-overhead))
}

// Key returns a new random key, so that a floor's writes create items of their own.
func Key() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "BENCHFLOOR#" + hex.EncodeToString(b[:])
}
