package floor

import "testing"

func TestRewrite(t *testing.T) {
	const key = "evt_oll4fxp62dssns7pso5eelkkqq"
	for _, tc := range []struct {
		name string
		r    Request
		want string
	}{
		{"keys", Request{Service: "dynamodb", Body: []byte(`{"Item":{"pk":{"S":"EVT#` + key + `"},"gsisk":{"S":"t#` + key + `"},"x":{"S":"evt_short"}}}`)},
			`{"Item":{"pk":{"S":"EVT#` + key + `-s"},"gsisk":{"S":"t#` + key + `-s"},"x":{"S":"evt_short"}}}`},
		{"no key", Request{Service: "dynamodb", Body: []byte(`{"Key":{"pk":{"S":"SUBS"}}}`)}, `{"Key":{"pk":{"S":"SUBS"}}}`},
		{"event put", Request{Service: "dynamodb", Op: "PutItem", Body: []byte(`{"Item":{"pk":{"S":"EVT#` + key + `"}}}`)},
			`{"Item":{"pk":{"S":"EVT#` + key + `-s"}}}`},
		{"rate bucket put", Request{Service: "dynamodb", Op: "PutItem", Body: []byte(`{"ConditionExpression":"attribute_not_exists(pk)","Item":{"pk":{"S":"RATE#src_1"},"sk":{"S":"RATE"}}}`)},
			`{"ConditionExpression":"attribute_not_exists(pk)","Item":{"pk":{"S":"RATE#src_1-s"},"sk":{"S":"RATE"}}}`},
		{"bus", Request{Service: "eventbridge", Body: []byte(`{"Entries":[{"Detail":"{\"hub\":{\"key\":\"` + key + `\"}}","Source":"eventhub.persist"}]}`)},
			`{"Entries":[{"Detail":"{\"hub\":{\"key\":\"` + key + `-s\"}}","Source":"benchfloor.persist"}]}`},
		{"queue", Request{Service: "sqs", Body: []byte(`{"MessageBody":"x","QueueUrl":"http://127.0.0.1:1/000/retry"}`)},
			`{"MessageBody":"x","QueueUrl":"http://q/bench"}`},
	} {
		if got := string(Rewrite(tc.r, "-s", "http://q/bench")); got != tc.want {
			t.Errorf("%s: Rewrite = %s; want %s", tc.name, got, tc.want)
		}
	}
}

func TestFormatParse(t *testing.T) {
	rs := []Request{{Service: "dynamodb", Op: "PutItem", Body: []byte(`{"a":1}`)}, {Service: "eventbridge", Op: "PutEvents", Body: []byte(`{}`)}}
	got, err := Parse(Format(rs))
	if err != nil || len(got) != 2 || string(got[0].Body) != `{"a":1}` || got[1].String() != "eventbridge.PutEvents" {
		t.Errorf("Parse(Format(rs)) = %+v, %v", got, err)
	}
}
