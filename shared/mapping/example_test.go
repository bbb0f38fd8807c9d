package mapping_test

import (
	"fmt"

	"github.com/eventhub/eventhub/shared/mapping"
)

// The first mapping of docs/mapping.md.
func Example() {
	m, err := mapping.Compile([]byte(`{
	  "id":      {"path": "$.event_id"},
	  "type":    {"template": "com.acme.{$.kind}"},
	  "source":  {"template": "/sources/{sourceId}/{$.service}"},
	  "subject": {"path": "$.service"},
	  "time":    {"path": "$.at", "format": "unix"},
	  "extensions": {"severity": {"path": "$.severity", "map": {"1": "fatal", "2": "warning", "3": "remind"}, "default": "info"}},
	  "data":    {"path": "$.payload"},
	  "drop":    [{"name": "ignore-tests", "pattern": {"service": [{"prefix": "test-"}]}}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, body := range []string{
		`{"event_id": "a-7731", "kind": "deploy", "service": "checkout", "at": 1795428245, "severity": 2, "payload": {"version": "1.4.2", "by": "ci"}}`,
		`{"event_id": "a-7732", "kind": "deploy", "service": "test-checkout"}`,
		`{"event_id": "a-7733", "service": "checkout"}`,
	} {
		res, err := m.Apply(mapping.Input{Body: []byte(body), SourceID: "src_1"})
		switch {
		case err != nil:
			fmt.Println("error:", err)
		case res.Event == nil:
			fmt.Println("dropped by", res.Dropped)
		default:
			b, _ := res.Event.MarshalJSON()
			fmt.Println(string(b))
		}
	}
	// Output:
	// {"specversion":"1.0","id":"a-7731","source":"/sources/src_1/checkout","type":"com.acme.deploy","subject":"checkout","time":"2026-11-23T10:04:05Z","datacontenttype":"application/json","severity":"warning","data":{"version":"1.4.2","by":"ci"}}
	// dropped by ignore-tests
	// error: $.kind: type: required value is missing
}
