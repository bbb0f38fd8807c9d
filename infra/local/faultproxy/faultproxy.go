// Package faultproxy puts fault-injecting reverse proxies in front of the local stack's
// emulators for the chaos harness: DynamoDB requests answered with
// ProvisionedThroughputExceededException, SQS deletes acknowledged without being made.
// Nothing in it is used by production code.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
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
// about every message a DeleteMessage or DeleteMessageBatch deletes; the messages it
// answers true for are reported deleted without being deleted, so they are received
// again once their visibility timeout ends: SQS's at-least-once delivery, on demand.
func SQS(target string, drop func(op string) bool) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	proxy := newProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if op != "DeleteMessage" && op != "DeleteMessageBatch" {
			proxy.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if op == "DeleteMessage" {
			if !drop(op) {
				proxy.ServeHTTP(w, r)
				return
			}
			writeJSON(w, http.StatusOK, []byte("{}"))
			return
		}
		var in map[string]json.RawMessage
		var entries []struct{ Id string }
		if json.Unmarshal(body, &in) != nil || json.Unmarshal(in["Entries"], &entries) != nil {
			proxy.ServeHTTP(w, r) // not a request this proxy understands: SQS answers it
			return
		}
		var kept []json.RawMessage
		var raw []json.RawMessage
		_ = json.Unmarshal(in["Entries"], &raw)
		var dropped []string
		for i, e := range entries {
			if drop(op) {
				dropped = append(dropped, e.Id)
			} else {
				kept = append(kept, raw[i])
			}
		}
		if len(dropped) == 0 {
			proxy.ServeHTTP(w, r)
			return
		}
		out := batchResult{Successful: []batchSuccess{}, Failed: []json.RawMessage{}}
		if len(kept) > 0 {
			in["Entries"], _ = json.Marshal(kept)
			if out, err = forward(r, u, in); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		for _, id := range dropped {
			out.Successful = append(out.Successful, batchSuccess{Id: id})
		}
		answer, _ := json.Marshal(out)
		writeJSON(w, http.StatusOK, answer)
	}), nil
}

type batchSuccess struct {
	Id string
}

// batchResult is a DeleteMessageBatch answer; failures pass through untouched.
type batchResult struct {
	Successful []batchSuccess
	Failed     []json.RawMessage
}

// forward sends the DeleteMessageBatch request in (with fewer entries than r had) to
// u with r's headers and returns SQS's answer.
func forward(r *http.Request, u *url.URL, in map[string]json.RawMessage) (batchResult, error) {
	var out batchResult
	body, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u.JoinPath(r.URL.Path).String(), bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return out, err
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("SQS answered %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, err
	}
	if out.Successful == nil {
		out.Successful = []batchSuccess{}
	}
	if out.Failed == nil {
		out.Failed = []json.RawMessage{}
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
