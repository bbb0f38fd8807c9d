package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/adapter/cloudevents"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/mapping"
)

// item is one event of a request: its raw JSON and format, then its key once read, or
// the reason it is rejected.
type item struct {
	prefix string // "[i]" inside a batch, "" for a single event
	raw    json.RawMessage
	sent   []byte // a single event's body as sent, when raw is it compacted
	format string
	event  *cloudevent.Event // already read (binary mode)
	binary bool              // a CloudEvent in binary mode: its attributes are ce-* headers
	signed bool              // came through the signed iuap route
	// mapping reads the event instead of the format's adapter: the source's own, or
	// its format's preset. dropped is the name of its rule that dropped the event.
	mapping *mapping.Mapping
	dropped string
	key     string
	err     error
	// quarantine is set, instead of err, when the source quarantines what it cannot
	// read (store.OnInvalidQuarantine).
	quarantine *bus.Quarantine
}

// jsonTypes are the content types of JSON bodies; a CloudEvents type also fixes the
// format.
var jsonTypes = map[string]string{
	"":                                   "",
	"application/json":                   "",
	"text/json":                          "",
	"application/cloudevents+json":       adapter.CloudEvents,
	"application/cloudevents-batch+json": adapter.CloudEvents,
}

// split turns a request body into its events: a CloudEvent in binary mode, one JSON
// event, a JSON array of events, or a BlueKing envelope. A body that cannot be read
// at all is an error; a batch whose members are partly wrong yields per-item errors.
func split(req *apigw.Request, format string, body []byte, d doc, env *envelope) ([]item, error) {
	mt := apigw.MediaType(req)
	// The HTTP binding: a CloudEvents media type means structured mode, whatever
	// ce-* headers came with it; otherwise ce-specversion means binary mode.
	if apigw.Header(req, "ce-specversion") != "" && !strings.HasPrefix(mt, "application/cloudevents") {
		return binary(req, body)
	}
	forced, ok := jsonTypes[mt]
	if !ok && !strings.HasSuffix(mt, "+json") {
		return nil, fault.New(fault.UnsupportedMedia, "content type %q is not supported: send application/json, application/cloudevents+json, application/cloudevents-batch+json, or a CloudEvent in binary mode (ce-* headers)", mt)
	}
	if _, explicit := req.QueryStringParameters["format"]; forced != "" && !explicit {
		format = forced
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object or array")
	}
	if d.err != nil {
		return nil, d.err
	}
	if env != nil {
		return batch(env.events, adapter.BKMonitor, "data")
	}
	if d.array {
		return batch(d.elements, format, "")
	}
	if mt == "application/cloudevents-batch+json" {
		return nil, fault.At("$", "a CloudEvents batch must be a JSON array")
	}
	if len(body) > maxEvent {
		return nil, fault.New(fault.TooLarge, "event is %d bytes; the limit is %d", len(body), maxEvent)
	}
	return []item{{raw: compact(body), sent: body, format: format}}, nil
}

// whole reads a request body that a mapping reads: one JSON value, whatever it is (a
// webhook's payload, arrays too), never a batch.
func whole(req *apigw.Request, format string, body []byte, d doc, m *mapping.Mapping) ([]item, error) {
	mt := apigw.MediaType(req)
	if _, ok := jsonTypes[mt]; !ok && !strings.HasSuffix(mt, "+json") {
		return nil, fault.New(fault.UnsupportedMedia, "content type %q is not supported: a mapped source's producer sends JSON (for GitHub, choose the content type application/json)", mt)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON value")
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(body) > maxEvent {
		return nil, fault.New(fault.TooLarge, "event is %d bytes; the limit is %d", len(body), maxEvent)
	}
	return []item{{raw: body, format: format, mapping: m}}, nil
}

func batch(raws []json.RawMessage, format, path string) ([]item, error) {
	if len(raws) == 0 {
		return nil, fault.New(fault.Invalid, "empty batch: expected at least one event")
	}
	if len(raws) > maxEvents {
		return nil, fault.New(fault.TooLarge, "batch has %d events; the limit is %d", len(raws), maxEvents)
	}
	items := make([]item, len(raws))
	for i, raw := range raws {
		items[i] = item{prefix: path + "[" + strconv.Itoa(i) + "]", raw: compact(raw), format: format}
		if len(raw) > maxEvent {
			items[i].err = fault.New(fault.TooLarge, "%s: event is %d bytes; the limit is %d", items[i].prefix, len(raw), maxEvent)
		}
	}
	return items, nil
}

// binary reads a CloudEvent in binary mode: the ce-* headers and the data as the body.
func binary(req *apigw.Request, body []byte) ([]item, error) {
	if len(body) > maxEvent {
		return nil, fault.New(fault.TooLarge, "event is %d bytes; the limit is %d", len(body), maxEvent)
	}
	ev, err := cloudevents.Binary(req.Headers, apigw.Header(req, "content-type"), body)
	if err != nil {
		return nil, err
	}
	raw, err := ev.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if len(raw) > maxEvent+maxEvent/3+1024 { // base64 and the attributes
		return nil, fault.New(fault.TooLarge, "event is %d bytes in the JSON format; the limit is %d", len(raw), maxEvent)
	}
	return []item{{raw: raw, format: adapter.CloudEvents, event: ev, binary: true}}, nil
}

func compact(raw []byte) json.RawMessage {
	v := jsontext.Value(bytes.Clone(raw))
	if err := v.Compact(); err != nil {
		return raw
	}
	return json.RawMessage(v)
}

// at places an adapter's error inside a batch: "[3].id", or "[3]" for the item itself.
func at(prefix string, err error) error {
	e, ok := fault.As(err)
	if !ok || prefix == "" {
		return err
	}
	c := *e
	switch {
	case c.Path == "" || c.Path == "$":
		c.Path = prefix
	case strings.HasPrefix(c.Path, "ce-"):
	default:
		c.Path = prefix + "." + c.Path
	}
	// Offsets were counted in the item, not the request body.
	c.Offset, c.Line, c.Column = 0, 0, 0
	return &c
}

// envelope is the body BlueKing's HTTP report sends: the data id and token of the
// plugin instance, and its events.
//
//	{"data_id": 1500001, "access_token": "<token>", "data": [{"alert_name": ...}, ...]}
type envelope struct {
	dataID int64
	token  string
	events []json.RawMessage
}

// doc is what ingest's one reading of a request body finds: why it is not JSON
// ingest takes, the elements of a body that is an array, and the BlueKing envelope
// the body is. The reading checks syntax, UTF-8 and depth as it goes, and locates
// what it refuses (offset, line, column, JSON path).
type doc struct {
	err      error
	array    bool
	elements []json.RawMessage
	env      *envelope
}

// readBody reads a request body once, token by token (jsontext).
func readBody(body []byte) doc {
	var r doc
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true))
	var (
		top        jsontext.Kind
		elemDepth  int // the depth of the container whose elements are kept, 0 for none
		elemStart  = -1
		elements   []json.RawMessage
		name       string // the member of the top object whose value comes next
		seen       [4]bool
		dataID     int64
		idOK       bool
		token      [2]string // access_token, token
		data       []json.RawMessage
		dataKind   jsontext.Kind
		dataStart  = -1
		dataInside bool // reading the elements of data
	)
	for {
		before := int(dec.InputOffset())
		pre := dec.StackDepth()
		isName := false
		if pre == 1 && top == '{' {
			_, n := dec.StackIndex(1)
			isName = n%2 == 0
		}
		tok, err := dec.ReadToken()
		if err == io.EOF && top != 0 {
			break
		}
		if err != nil {
			r.err = fault.Text(body, err)
			return r
		}
		k := tok.Kind()
		end := int(dec.InputOffset())
		if pre == 0 && top != 0 { // the decoder reads a stream; a body is one value
			at := tokenStart(body, before)
			e := fault.New(fault.Invalid, "malformed JSON: invalid character %q after top-level value", body[at])
			e.Offset, e.Line, e.Column = fault.Locate(body, at)
			r.err = e
			return r
		}
		if pre == 0 {
			top = k
			if k == '[' {
				elemDepth = 1
			}
			continue
		}
		if (k == '{' || k == '[') && dec.StackDepth() > maxDepth {
			e := fault.New(fault.Invalid, "JSON is nested more than %d levels deep", maxDepth)
			e.Path = fault.PointerPath(dec.StackPointer())
			e.Offset, e.Line, e.Column = fault.Locate(body, end-1)
			r.err = e
			return r
		}
		// The elements of the array kept: the top array, or the envelope's data.
		if elemDepth > 0 && pre == elemDepth && k != ']' {
			start := tokenStart(body, before)
			if k == '{' || k == '[' {
				elemStart = start
			} else {
				elements = append(elements, body[start:end])
			}
		} else if elemDepth > 0 && elemStart >= 0 && (k == '}' || k == ']') && dec.StackDepth() == elemDepth {
			elements = append(elements, body[elemStart:end])
			elemStart = -1
		}
		if top != '{' {
			continue
		}
		// The members of a top object that make it a BlueKing envelope.
		post := dec.StackDepth()
		switch {
		case isName:
			name = tok.String()
		case dataInside && post == 1:
			dataInside, elemDepth = false, 0
			data, elements = elements, nil
		case dataStart >= 0 && post == 1:
			data = []json.RawMessage{body[dataStart:end]}
			dataStart = -1
		case pre == 1:
			i := slices.Index(envelopeNames[:], name)
			if i < 0 || seen[i] {
				break // the first of each name counts, as a null one
			}
			seen[i] = true
			switch {
			case i == 0 && (k == '0' || k == '"'): // data_id: a number or a string of digits
				dataID, err = strconv.ParseInt(strings.TrimSpace(tok.String()), 10, 64)
				idOK = err == nil
			case i == 1 || i == 2:
				if k == '"' {
					token[i-1] = tok.String()
				}
			case i == 3:
				dataKind = k
				switch k {
				case '[':
					dataInside, elemDepth = true, 2
				case '{':
					dataStart = tokenStart(body, before)
				}
			}
		}
	}
	r.array = top == '['
	if r.array {
		r.elements = elements
	}
	if top == '{' && idOK && (dataKind == '[' || dataKind == '{') {
		r.env = &envelope{dataID: dataID, token: cmp.Or(token[0], token[1]), events: data}
	}
	return r
}

// envelopeNames are the members of a BlueKing envelope, in the order readBody keeps them.
var envelopeNames = [4]string{"data_id", "access_token", "token", "data"}

// tokenStart is where the token read after offset off begins: past whitespace and
// the separator.
func tokenStart(body []byte, off int) int {
	for off < len(body) {
		switch body[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}
