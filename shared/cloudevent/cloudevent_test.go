package cloudevent

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
)

const mse = `{"specversion":"1.0","id":"45ef4dewdwe1-7c35-447a-bd93-fab****","source":"acs.mse","type":"mse:Agent:OutlierEjection",
"subject":"acs.mse:cn-hangzhou:123456789098****:215672","time":"2020-11-19T21:04:41+08:00","datacontenttype":"application/json",
"aliyunaccountid":"123456789098****","aliyunpublishtime":"2020-11-19T21:04:42.179PRC","aliyuneventbusname":"default",
"aliyunregionid":"cn-hangzhou","aliyunpublishaddr":"172.25.XX.XX","data":{"timestamp":1605791081000,"ip":"10.0.0.1"}}`

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		path    string // wanted error path; "" = success
		message string // substring of the wanted error
	}{
		{name: "mse event", in: mse},
		{name: "minimal", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t"}`},
		{name: "base64 data", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"AAEC"}`},
		{name: "missing id", in: `{"specversion":"1.0","source":"/s","type":"t"}`, path: "id", message: "missing"},
		{name: "empty type", in: `{"specversion":"1.0","id":"1","source":"/s","type":""}`, path: "type", message: "empty"},
		{name: "old version", in: `{"specversion":"0.3","id":"1","source":"/s","type":"t"}`, path: "specversion"},
		{name: "numeric id", in: `{"specversion":"1.0","id":1,"source":"/s","type":"t"}`, path: "id", message: "string"},
		{name: "bad time", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}`, path: "time"},
		{name: "upper-case extension", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t","Foo":"x"}`, path: "Foo"},
		{name: "object extension", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t","foo":{}}`, path: "foo"},
		{name: "data and data_base64", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA"}`, path: "data_base64"},
		{name: "relative dataschema", in: `{"specversion":"1.0","id":"1","source":"/s","type":"t","dataschema":"x"}`, path: "dataschema"},
		{name: "array", in: `[1]`, path: "$", message: "object"},
		{name: "empty", in: ` `, message: "empty"},
		{name: "broken", in: `{"id": ""regionid1"}`, message: "malformed JSON"},
		{name: "invalid utf-8", in: "{\"id\":\"\xff\"}", path: "id", message: "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse([]byte(tc.in))
			if tc.path == "" && tc.message == "" {
				if err != nil {
					t.Fatalf("Parse = %v; want success", err)
				}
				if err := e.Validate(); err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok {
				t.Fatalf("Parse = %v, %v; want a *fault.Error", e, err)
			}
			if fe.Path != tc.path || !strings.Contains(fe.Message, tc.message) {
				t.Errorf("Parse error = {path %q, %q}; want {path %q, containing %q}", fe.Path, fe.Message, tc.path, tc.message)
			}
		})
	}
}

func TestRoundTripKeepsExtensions(t *testing.T) {
	e, err := Parse([]byte(mse))
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(MarshalJSON) = %v", err)
	}
	for _, name := range []string{"aliyunaccountid", "aliyunpublishtime", "aliyuneventbusname", "aliyunregionid", "aliyunpublishaddr"} {
		want, _ := e.Extension(name)
		if got, ok := again.Extension(name); !ok || got != want {
			t.Errorf("extension %s = %q, %v; want %q", name, got, ok, want)
		}
	}
	if string(again.Data) != `{"timestamp":1605791081000,"ip":"10.0.0.1"}` {
		t.Errorf("data = %s", again.Data)
	}
}

func TestKey(t *testing.T) {
	a, b := Key("acs.mse", "1"), Key("acs.mse", "1")
	if a != b || !ValidKey(a) {
		t.Fatalf("Key not stable or not valid: %q %q", a, b)
	}
	if Key("acs.mse", "1") == Key("acs.ms", "e1") {
		t.Error("Key collides on the source/id boundary")
	}
	if ValidKey("evt_../../etc") || ValidKey("") {
		t.Error("ValidKey accepts garbage")
	}
}

func TestPlainReferenceParses(t *testing.T) {
	for _, s := range []string{"acs.mse", "/sources/src_1", "iuap/APP", "juno/confgo", "bkmonitor/2", "a", "-", ".", "~", "/", "0a", "a//b", "_x", "/a/b/"} {
		if !plainReference(s) {
			t.Errorf("plainReference(%q) = false", s)
		}
		if _, err := url.Parse(s); err != nil {
			t.Errorf("plainReference(%q), but url.Parse: %v", s, err)
		}
	}
	for _, s := range []string{"", "//host", "a:b", "a b", "%zz", "a?b", "a#b", "é"} {
		if plainReference(s) {
			t.Errorf("plainReference(%q) = true", s)
		}
	}
}

func FuzzPlainReference(f *testing.F) {
	f.Add("acs.mse")
	f.Add("//a")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := url.Parse(s); plainReference(s) && err != nil {
			t.Fatalf("plainReference(%q), but url.Parse: %v", s, err)
		}
	})
}

func TestPlainTimestampParses(t *testing.T) {
	for _, s := range []string{"2020-11-19T21:04:41+08:00", "2020-10-29T03:38:50.123Z", "2024-02-29T00:00:00Z", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999999-23:59", "2020-08-12T07:14:47.192Z"} {
		if !plainTimestamp(s) {
			t.Errorf("plainTimestamp(%q) = false", s)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("plainTimestamp(%q), but time.Parse: %v", s, err)
		}
	}
	for _, s := range []string{"", "yesterday", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2020-13-01T00:00:00Z", "2020-00-01T00:00:00Z",
		"2020-01-00T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T00:60:00Z", "2020-01-01T00:00:60Z", "2020-01-01T00:00:00",
		"2020-01-01T00:00:00z", "2020-01-01t00:00:00Z", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00+24:00", "2020-01-01T00:00:00+0800",
		"2020-11-19T21:04:42.179PRC", "+020-01-01T00:00:00Z"} {
		if plainTimestamp(s) {
			t.Errorf("plainTimestamp(%q) = true", s)
		}
	}
}

func FuzzPlainTimestamp(f *testing.F) {
	f.Add("2020-11-19T21:04:41+08:00")
	f.Add("2024-02-29T00:00:00.5Z")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := time.Parse(time.RFC3339Nano, s); plainTimestamp(s) && err != nil {
			t.Fatalf("plainTimestamp(%q), but time.Parse: %v", s, err)
		}
	})
}
