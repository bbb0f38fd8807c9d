// Package sqsquery lets clients that speak SQS's query protocol (AWS CLIs and SDKs
// from before SQS's JSON protocol, Debian's awscli 2.9 among them) use an SQS
// emulator that answers the JSON protocol only: it translates their form requests
// into JSON requests and the JSON answers into the XML they expect, and passes JSON
// requests through unchanged.
package sqsquery

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	namespace = "http://queue.amazonaws.com/doc/2012-11-05/"
	maxBody   = 2 << 20 // a batch of ten 256 KB messages, form-encoded, fits
)

// Handler serves SQS's query and JSON protocols in front of a JSON-only backend.
type Handler struct {
	backend string // http://host:port
	proxy   *httputil.ReverseProxy
	client  *http.Client
}

// New returns a handler in front of the JSON-protocol SQS endpoint backend.
func New(backend string) (*Handler, error) {
	u, err := url.Parse(backend)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("sqsquery: backend %q is not a URL", backend)
	}
	return &Handler{
		backend: strings.TrimRight(backend, "/"),
		proxy:   httputil.NewSingleHostReverseProxy(u),
		client:  &http.Client{Timeout: 30 * time.Second}, // ReceiveMessage waits at most 20 s
	}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "" || !isQuery(r) {
		h.proxy.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "Sender", "MalformedQueryString", err.Error())
		return
	}
	form := r.Form
	action := form.Get("Action")
	a, ok := actions[action]
	if !ok {
		writeError(w, http.StatusBadRequest, "Sender", "InvalidAction",
			fmt.Sprintf("The action %q is not valid for this endpoint (the local SQS translates %s).", action, strings.Join(actionNames(), ", ")))
		return
	}
	in := a.input(form)
	if _, given := in["QueueUrl"]; !given && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 1 {
		// Older clients send a queue's requests to the queue URL itself.
		in["QueueUrl"] = "http://" + r.Host + r.URL.Path
	}
	body, err := json.Marshal(in)
	if err != nil { // unreachable: the input is plain data
		writeError(w, http.StatusInternalServerError, "Receiver", "InternalFailure", err.Error())
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, h.backend+"/", bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Receiver", "InternalFailure", err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	if auth := r.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth) // the emulator reads the region from the credential scope
	}
	resp, err := h.client.Do(req)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "Receiver", "ServiceUnavailable", "the SQS emulator did not answer: "+err.Error())
		return
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		writeError(w, http.StatusBadGateway, "Receiver", "InternalFailure", "reading the SQS emulator's answer: "+err.Error())
		return
	}
	if resp.StatusCode != http.StatusOK {
		typ, code, msg := jsonError(resp.Header.Get("X-Amzn-Query-Error"), raw)
		writeError(w, resp.StatusCode, typ, code, msg)
		return
	}
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			writeError(w, http.StatusBadGateway, "Receiver", "InternalFailure", "the SQS emulator's answer is not JSON: "+err.Error())
			return
		}
	}
	var x xmlWriter
	x.open(action+"Response", `xmlns="`+namespace+`"`)
	x.open(action + "Result")
	if a.output != nil {
		a.output(&x, out)
	}
	x.close(action + "Result")
	x.open("ResponseMetadata")
	x.leaf("RequestId", resp.Header.Get("X-Amzn-Requestid"))
	x.close("ResponseMetadata")
	x.close(action + "Response")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(x.Bytes())
}

// isQuery reports whether a request is in the query protocol: a form POST, or a GET
// with an Action.
func isQuery(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return (r.Method == http.MethodPost && strings.HasPrefix(ct, "application/x-www-form-urlencoded")) ||
		(r.Method == http.MethodGet && r.URL.Query().Get("Action") != "")
}

// jsonError reads a JSON-protocol error: its query-protocol code and fault from the
// x-amzn-query-error header ("AWS.SimpleQueueService.NonExistentQueue;Sender") when
// the emulator sends one, else from __type.
func jsonError(queryError string, raw []byte) (typ, code, msg string) {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Msg     string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &e)
	msg = e.Message
	if msg == "" {
		msg = e.Msg
	}
	code = e.Type[strings.LastIndexAny(e.Type, "#.")+1:]
	typ = "Sender"
	if c, fault, ok := strings.Cut(queryError, ";"); ok && c != "" {
		code, typ = c, fault
	}
	if code == "" {
		code = "InternalFailure"
	}
	return typ, code, msg
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var x xmlWriter
	x.open("ErrorResponse", `xmlns="`+namespace+`"`)
	x.open("Error")
	x.leaf("Type", typ)
	x.leaf("Code", code)
	x.leaf("Message", msg)
	x.leaf("Detail", "")
	x.close("Error")
	x.leaf("RequestId", strconv.FormatInt(time.Now().UnixNano(), 36))
	x.close("ErrorResponse")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(x.Bytes())
}

// action translates one operation: its form parameters into the JSON input, and the
// JSON output into the members of its XML Result.
type action struct {
	input  func(url.Values) map[string]any
	output func(*xmlWriter, map[string]any)
}

var actions = map[string]action{
	"CreateQueue": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueName"), pairs("Attributes", "Attribute", "Name", "Value"), pairs("tags", "Tag", "Key", "Value"))
		},
		output: fields("QueueUrl"),
	},
	"GetQueueUrl": {
		input:  func(f url.Values) map[string]any { return obj(f, scalars("QueueName", "QueueOwnerAWSAccountId")) },
		output: fields("QueueUrl"),
	},
	"ListQueues": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueNamePrefix", "NextToken"), ints("MaxResults"))
		},
		output: queueURLs("QueueUrls"),
	},
	"DeleteQueue": {input: func(f url.Values) map[string]any { return obj(f, scalars("QueueUrl")) }},
	"PurgeQueue":  {input: func(f url.Values) map[string]any { return obj(f, scalars("QueueUrl")) }},
	"GetQueueAttributes": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl"), list("AttributeNames", "AttributeName"))
		},
		output: func(x *xmlWriter, out map[string]any) { x.attributes("Attribute", out["Attributes"]) },
	},
	"SetQueueAttributes": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl"), pairs("Attributes", "Attribute", "Name", "Value"))
		},
	},
	"SendMessage": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl", "MessageBody", "MessageDeduplicationId", "MessageGroupId"), ints("DelaySeconds"),
				messageAttributes("MessageAttributes", "MessageAttribute"))
		},
		output: fields("MD5OfMessageBody", "MD5OfMessageAttributes", "MD5OfMessageSystemAttributes", "MessageId", "SequenceNumber"),
	},
	"SendMessageBatch": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl"), entries("Entries", "SendMessageBatchRequestEntry",
				scalars("Id", "MessageBody", "MessageDeduplicationId", "MessageGroupId"), ints("DelaySeconds"),
				messageAttributes("MessageAttributes", "MessageAttribute")))
		},
		output: batchResult("SendMessageBatchResultEntry", "Id", "MessageId", "MD5OfMessageBody", "MD5OfMessageAttributes", "SequenceNumber"),
	},
	"ReceiveMessage": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl", "ReceiveRequestAttemptId"), ints("MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds"),
				list("AttributeNames", "AttributeName"), list("MessageSystemAttributeNames", "MessageSystemAttributeName"),
				list("MessageAttributeNames", "MessageAttributeName"))
		},
		output: func(x *xmlWriter, out map[string]any) {
			msgs, _ := out["Messages"].([]any)
			for _, m := range msgs {
				msg, _ := m.(map[string]any)
				x.open("Message")
				for _, k := range []string{"MessageId", "ReceiptHandle", "MD5OfBody", "Body", "MD5OfMessageAttributes"} {
					x.field(k, msg)
				}
				x.attributes("Attribute", msg["Attributes"])
				attrs, _ := msg["MessageAttributes"].(map[string]any)
				for _, name := range sortedKeys(attrs) {
					v, _ := attrs[name].(map[string]any)
					x.open("MessageAttribute")
					x.leaf("Name", name)
					x.open("Value")
					for _, k := range []string{"StringValue", "BinaryValue", "DataType"} {
						x.field(k, v)
					}
					x.close("Value")
					x.close("MessageAttribute")
				}
				x.close("Message")
			}
		},
	},
	"DeleteMessage": {input: func(f url.Values) map[string]any { return obj(f, scalars("QueueUrl", "ReceiptHandle")) }},
	"DeleteMessageBatch": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl"), entries("Entries", "DeleteMessageBatchRequestEntry", scalars("Id", "ReceiptHandle")))
		},
		output: batchResult("DeleteMessageBatchResultEntry", "Id"),
	},
	"ChangeMessageVisibility": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl", "ReceiptHandle"), ints("VisibilityTimeout"))
		},
	},
	"ChangeMessageVisibilityBatch": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl"), entries("Entries", "ChangeMessageVisibilityBatchRequestEntry",
				scalars("Id", "ReceiptHandle"), ints("VisibilityTimeout")))
		},
		output: batchResult("ChangeMessageVisibilityBatchResultEntry", "Id"),
	},
	"ListDeadLetterSourceQueues": {
		input: func(f url.Values) map[string]any {
			return obj(f, scalars("QueueUrl", "NextToken"), ints("MaxResults"))
		},
		output: queueURLs("queueUrls"),
	},
}

func actionNames() []string {
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// A member reads form parameters (under a prefix, for list entries) into a JSON
// object.
type member func(f url.Values, prefix string, into map[string]any)

func obj(f url.Values, members ...member) map[string]any {
	out := map[string]any{}
	for _, m := range members {
		m(f, "", out)
	}
	return out
}

func scalars(names ...string) member {
	return func(f url.Values, prefix string, into map[string]any) {
		for _, n := range names {
			if v, ok := f[prefix+n]; ok {
				into[n] = v[0]
			}
		}
	}
}

func ints(names ...string) member {
	return func(f url.Values, prefix string, into map[string]any) {
		for _, n := range names {
			if v, ok := f[prefix+n]; ok {
				if i, err := strconv.Atoi(v[0]); err == nil {
					into[n] = i
				} else {
					into[n] = v[0] // let the emulator refuse it, in its words
				}
			}
		}
	}
}

// list reads Name.1, Name.2, ... into a JSON list.
func list(json, name string) member {
	return func(f url.Values, prefix string, into map[string]any) {
		var out []string
		for i := 1; ; i++ {
			v, ok := f[fmt.Sprintf("%s%s.%d", prefix, name, i)]
			if !ok {
				break
			}
			out = append(out, v[0])
		}
		if out != nil {
			into[json] = out
		}
	}
}

// pairs reads Name.N.Key and Name.N.Value into a JSON map.
func pairs(json, name, key, value string) member {
	return func(f url.Values, prefix string, into map[string]any) {
		out := map[string]string{}
		for i := 1; ; i++ {
			base := fmt.Sprintf("%s%s.%d.", prefix, name, i)
			k, ok := f[base+key]
			if !ok {
				break
			}
			out[k[0]] = f.Get(base + value)
		}
		if len(out) > 0 {
			into[json] = out
		}
	}
}

// messageAttributes reads Name.N.Name and Name.N.Value.{DataType,StringValue,BinaryValue}.
func messageAttributes(json, name string) member {
	return func(f url.Values, prefix string, into map[string]any) {
		out := map[string]any{}
		for i := 1; ; i++ {
			base := fmt.Sprintf("%s%s.%d.", prefix, name, i)
			n, ok := f[base+"Name"]
			if !ok {
				break
			}
			v := map[string]any{}
			scalars("DataType", "StringValue", "BinaryValue")(f, base+"Value.", v)
			out[n[0]] = v
		}
		if len(out) > 0 {
			into[json] = out
		}
	}
}

// entries reads Name.N.<member> into a JSON list of objects.
func entries(json, name string, members ...member) member {
	return func(f url.Values, prefix string, into map[string]any) {
		var out []map[string]any
		for i := 1; ; i++ {
			base := fmt.Sprintf("%s%s.%d.", prefix, name, i)
			e := map[string]any{}
			for _, m := range members {
				m(f, base, e)
			}
			if len(e) == 0 {
				break
			}
			out = append(out, e)
		}
		if out != nil {
			into[json] = out
		}
	}
}

// queueURLs writes a listing of queues: the JSON list member as repeated QueueUrl,
// and the NextToken.
func queueURLs(member string) func(*xmlWriter, map[string]any) {
	return func(x *xmlWriter, out map[string]any) {
		x.repeated("QueueUrl", out[member])
		x.field("NextToken", out)
	}
}

// fields writes the named members of the output, in order.
func fields(names ...string) func(*xmlWriter, map[string]any) {
	return func(x *xmlWriter, out map[string]any) {
		for _, n := range names {
			x.field(n, out)
		}
	}
}

// batchResult writes a batch's Successful entries under entry and its Failed ones
// as BatchResultErrorEntry.
func batchResult(entry string, names ...string) func(*xmlWriter, map[string]any) {
	return func(x *xmlWriter, out map[string]any) {
		ok, _ := out["Successful"].([]any)
		for _, e := range ok {
			m, _ := e.(map[string]any)
			x.open(entry)
			fields(names...)(x, m)
			x.close(entry)
		}
		failed, _ := out["Failed"].([]any)
		for _, e := range failed {
			m, _ := e.(map[string]any)
			x.open("BatchResultErrorEntry")
			fields("Id", "SenderFault", "Code", "Message")(x, m)
			x.close("BatchResultErrorEntry")
		}
	}
}

// xmlWriter writes the query protocol's XML.
type xmlWriter struct{ bytes.Buffer }

func (x *xmlWriter) open(name string, attrs ...string) {
	x.WriteString("<" + name)
	for _, a := range attrs {
		x.WriteString(" " + a)
	}
	x.WriteString(">")
}

func (x *xmlWriter) close(name string) { x.WriteString("</" + name + ">") }

func (x *xmlWriter) leaf(name, text string) {
	x.open(name)
	_ = xml.EscapeText(x, []byte(text)) // a bytes.Buffer does not fail
	x.close(name)
}

// field writes out[name] as a leaf, when it is there.
func (x *xmlWriter) field(name string, out map[string]any) {
	v, ok := out[name]
	if !ok || v == nil {
		return
	}
	x.leaf(name, text(v))
}

// repeated writes each element of a JSON list as a leaf.
func (x *xmlWriter) repeated(name string, list any) {
	items, _ := list.([]any)
	for _, it := range items {
		x.leaf(name, text(it))
	}
}

// attributes writes a JSON map as repeated <name><Name/><Value/></name>.
func (x *xmlWriter) attributes(name string, m any) {
	attrs, _ := m.(map[string]any)
	for _, k := range sortedKeys(attrs) {
		x.open(name)
		x.leaf("Name", k)
		x.leaf("Value", text(attrs[k]))
		x.close(name)
	}
}

func text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
