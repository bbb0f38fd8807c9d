// Package faultproxy puts fault-injecting reverse proxies in front of the local stack's
// emulators for the chaos harness: DynamoDB requests answered with
// ProvisionedThroughputExceededException, SQS deletes acknowledged without being made.
// Nothing in it is used by production code.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
)

// maxBody bounds what a proxy reads of a request it may answer itself; DynamoDB's
// largest request (a 100-item transaction of 400 KB items) stays far below.
const maxBody = 64 << 20

// DynamoDB returns a proxy to the DynamoDB endpoint target. throttle is asked about
// every request by operation name ("PutItem", "TransactWriteItems", ...); when it
// answers true the request is not forwarded and the client gets DynamoDB's
// ProvisionedThroughputExceededException, which the AWS SDKs retry with backoff.
func DynamoDB(target string, throttle func(op string) bool) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	proxy := newProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if op != "" && throttle(op) {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
			writeThrottled(w)
			return
		}
		proxy.ServeHTTP(w, r)
	}), nil
}

// newProxy forwards to u. A failure to reach u is answered 502 without a log line:
// most are clients that went away (a function process killed by the harness), and
// the others show at the client.
func newProxy(u *url.URL) *httputil.ReverseProxy {
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	return p
}

// throttledBody is what DynamoDB answers when a table's throughput is exceeded.
const throttledBody = `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",` +
	`"message":"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}`

func writeThrottled(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Errortype", "ProvisionedThroughputExceededException")
	// The Go SDK checks this header when it is present; DynamoDB always sends it.
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(throttledBody))), 10))
	h.Set("Content-Length", strconv.Itoa(len(throttledBody)))
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, throttledBody)
}

// SQS returns a proxy to the SQS endpoint target (AWS JSON protocol). drop is asked
// about every DeleteMessage and DeleteMessageBatch; when it answers true the proxy
// answers success without deleting anything, so the messages are received again once
// their visibility timeout ends: SQS's at-least-once delivery, on demand.
func SQS(target string, drop func(op string) bool) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	proxy := newProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if op != "DeleteMessage" && op != "DeleteMessageBatch" || !drop(op) {
			proxy.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		answer := []byte("{}")
		if op == "DeleteMessageBatch" {
			if answer, err = fakeBatchSuccess(body); err != nil {
				// Not a request this proxy understands: let SQS answer it.
				proxy.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = w.Write(answer)
	}), nil
}

// fakeBatchSuccess answers a DeleteMessageBatch request as if every entry succeeded.
func fakeBatchSuccess(req []byte) ([]byte, error) {
	var in struct {
		Entries []struct{ Id string }
	}
	if err := json.Unmarshal(req, &in); err != nil {
		return nil, err
	}
	type ok struct {
		Id string
	}
	out := struct {
		Successful []ok
		Failed     []struct{}
	}{Successful: make([]ok, len(in.Entries)), Failed: []struct{}{}}
	for i, e := range in.Entries {
		out.Successful[i] = ok{e.Id}
	}
	return json.Marshal(out)
}
