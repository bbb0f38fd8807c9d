package cloudevents_test

import (
	"encoding/json"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter/cloudevents"
	"github.com/eventhub/eventhub/shared/adapter/golden"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// TestGolden runs the structured mode on the seed document's MSE examples and
// variants in testdata; go test -update rewrites the golden files.
func TestGolden(t *testing.T) { golden.Run(t, "testdata", cloudevents.Parse) }

// binaryRequest is how testdata/binary describes a binary-mode request.
type binaryRequest struct {
	Header      map[string]string `json:"header"`
	ContentType string            `json:"contentType"`
	Body        string            `json:"body"`
}

func parseBinary(raw []byte) (*cloudevent.Event, error) {
	var req binaryRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	return cloudevents.Binary(req.Header, req.ContentType, []byte(req.Body))
}

// TestGoldenBinary runs the binary mode on the requests described in testdata/binary.
func TestGoldenBinary(t *testing.T) { golden.Run(t, "testdata/binary", parseBinary) }

func FuzzCloudEvents(f *testing.F) {
	golden.Seeds(f, "testdata")
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := cloudevents.Parse(raw)
		golden.Check(t, cloudevents.Parse, raw, ev, err)
		golden.Oracle(t, raw, err)
	})
}

func FuzzCloudEventsBinary(f *testing.F) {
	f.Add("1.0", "id-1", "/s", "t", "ext", "v%20x", "application/json", []byte(`{"a":1}`))
	f.Add("1.0", "id-2", "acs.mse", "mse:Agent:OutlierEjection", "aliyunregionid", "cn-hangzhou", "text/plain", []byte("hi"))
	f.Add("1.0", "", "/s", "t", "Bad_Name", "%zz", "application/octet-stream", []byte{0, 0xff})
	f.Fuzz(func(t *testing.T, spec, id, source, typ, ext, extValue, contentType string, body []byte) {
		header := map[string]string{"ce-specversion": spec, "ce-id": id, "ce-source": source, "ce-type": typ, "ce-" + ext: extValue}
		parse := func([]byte) (*cloudevent.Event, error) { return cloudevents.Binary(header, contentType, body) }
		ev, err := parse(nil)
		golden.Check(t, parse, nil, ev, err)
	})
}
