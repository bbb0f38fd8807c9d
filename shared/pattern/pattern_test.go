package pattern

import (
	"strings"
	"testing"
)

// Events from the EventBridge documentation ("Event patterns", "Content
// filtering", "Matching null values and empty strings") and the Event Ruler
// README that EventBridge's examples are drawn from.
const (
	ec2Event = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
}`

	rulerEvent = `{
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running"
  }
}`

	autoscalingEvent = `{
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {"eventVersion": "", "responseElements": null}
}`

	macieEvent = `{
  "version": "0",
  "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
  "detail-type": "Macie Alert",
  "source": "aws.macie",
  "account": "123456789012",
  "time": "2017-04-24T22:28:49Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
  ],
  "detail": {
    "notification-type": "ALERT_CREATED",
    "name": "Scanning bucket policies",
    "tags": ["Custom_Alert", "Insider"],
    "risk-score": 80,
    "trigger": {"alert-type": "basic", "risk": 8}
  }
}`

	// The docs' exists:false example events (detail.c-count absent, and
	// c-count not a leaf).
	existsEvent1 = `{"detail-type": "EC2 Instance State-change Notification",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
  "detail": {"state": ["initializing", "running"]}}`
	existsEvent2 = `{"detail-type": "EC2 Instance State-change Notification",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
  "detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}}`

	s3Event = `{"source": "aws.s3", "detail": {"bucket": {"name": "photos"},
  "object": {"key": "dir/sub/Image.PNG", "size": 1024, "etag": "abc"},
  "requester": "123456789012", "source-ip-address": "2001:db8::17"}}`
)

type matchCase struct {
	name    string
	pattern string
	event   string
	want    bool
}

var matchCases = []matchCase{
	// ---- Documentation examples: simple matching ----
	{"doc ec2 terminated", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, ec2Event, true},
	{"doc ec2 running vs terminated", `{"source":["aws.ec2"],"detail":{"state":["running"]}}`, ec2Event, false},
	{"doc ruler simple", `{"detail-type":["EC2 Instance State-change Notification"],"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],"detail":{"state":["initializing","running"]}}`, rulerEvent, true},
	{"doc state running", `{"detail":{"state":["running"]}}`, rulerEvent, true},
	{"doc source list OR", `{"source":["aws.ec2","aws.fargate"]}`, ec2Event, true},
	{"doc source list OR miss", `{"source":["aws.s3","aws.fargate"]}`, ec2Event, false},
	{"missing top-level field", `{"nosuch":["x"]}`, ec2Event, false},
	{"missing nested object", `{"detail":{"nosuch":{"a":["x"]}}}`, ec2Event, false},
	{"case sensitive exact", `{"source":["AWS.EC2"]}`, ec2Event, false},
	{"AND across keys, one fails", `{"source":["aws.ec2"],"region":["us-east-1"]}`, ec2Event, false},

	// ---- null and empty strings ----
	{"doc null", `{"source":["aws.autoscaling"],"detail-type":["EC2 Instance Launch Successful"],"detail":{"responseElements":[null]}}`, autoscalingEvent, true},
	{"doc empty string", `{"detail":{"eventVersion":[""]}}`, autoscalingEvent, true},
	{"empty string does not match null", `{"detail":{"responseElements":[""]}}`, autoscalingEvent, false},
	{"null does not match empty string", `{"detail":{"eventVersion":[null]}}`, autoscalingEvent, false},
	{"null does not match missing field", `{"detail":{"nosuch":[null]}}`, autoscalingEvent, false},
	{"null does not match string null", `{"a":[null]}`, `{"a":"null"}`, false},
	{"empty event array has no values", `{"resources":[""]}`, autoscalingEvent, false},

	// ---- numbers, exact (value matching example of the docs) ----
	{"doc macie risk", `{"source":["aws.macie"],"detail-type":["Macie Alert"],"detail":{"risk-score":[80],"trigger":{"risk":[8]}}}`, macieEvent, true},
	{"doc macie risk miss", `{"detail":{"risk-score":[81]}}`, macieEvent, false},
	// Decision: exact numbers are compared by their JSON text, as the docs
	// state ("For numbers, EventBridge uses string representation. For
	// example, 300, 300.0, and 3.0e2 are not considered equal."). Numeric
	// value equality is available through {"numeric": ["=", ...]}.
	{"exact number same text", `{"x":[5]}`, `{"x":5}`, true},
	{"exact number 5 vs 5.0", `{"x":[5]}`, `{"x":5.0}`, false},
	{"exact number 5 vs 5e0", `{"x":[5]}`, `{"x":5e0}`, false},
	{"exact number 300 vs 3.0e2", `{"x":[300]}`, `{"x":3.0e2}`, false},
	{"exact number 3.0e2 vs 3.0e2", `{"x":[3.0e2]}`, `{"x":3.0e2}`, true},
	{"exact number vs string", `{"x":[5]}`, `{"x":"5"}`, false},
	{"exact string vs number", `{"x":["5"]}`, `{"x":5}`, false},
	{"exact large account number", `{"account":[123456789012]}`, `{"account":123456789012}`, true},
	{"exact negative", `{"x":[-1.5]}`, `{"x":-1.5}`, true},
	{"exact true", `{"x":[true]}`, `{"x":true}`, true},
	{"exact true vs false", `{"x":[true]}`, `{"x":false}`, false},
	{"exact false", `{"x":[false]}`, `{"x":false}`, true},
	{"exact true vs string", `{"x":[true]}`, `{"x":"true"}`, false},

	// ---- arrays ----
	{"doc arrays intersection", `{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}`,
		`{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, true},
	{"arrays no intersection", `{"resources":["a","b"]}`, `{"resources":["c","d"]}`, false},
	{"array of scalars any", `{"detail":{"tags":["Insider"]}}`, macieEvent, true},
	{"array of objects any element", `{"detail":{"items":{"name":["a"]}}}`, `{"detail":{"items":[{"name":"b"},{"name":"a"}]}}`, true},
	{"array of objects none", `{"detail":{"items":{"name":["c"]}}}`, `{"detail":{"items":[{"name":"b"},{"name":"a"}]}}`, false},
	{"array of objects same element", `{"items":{"name":["a"],"size":[1]}}`, `{"items":[{"name":"a","size":1},{"name":"b","size":2}]}`, true},
	{"array of objects fields from different elements", `{"items":{"name":["a"],"size":[2]}}`, `{"items":[{"name":"a","size":1},{"name":"b","size":2}]}`, false},
	{"nested arrays flattened", `{"x":["c"]}`, `{"x":[["a","b"],["c"]]}`, true},
	{"array of arrays of objects", `{"x":{"y":["c"]}}`, `{"x":[[{"y":"a"}],[{"y":"c"}]]}`, true},
	{"array mixing scalars and objects", `{"x":["a"]}`, `{"x":[{"y":"a"},"a"]}`, true},
	{"leaf pattern vs object value", `{"detail":["x"]}`, `{"detail":{"x":1}}`, false},
	{"object pattern vs scalar value", `{"detail":{"x":["a"]}}`, `{"detail":"a"}`, false},
	{"array of objects nested deeper", `{"a":{"b":{"c":["z"]}}}`, `{"a":[{"b":[{"c":"y"},{"c":["q","z"]}]}]}`, true},

	// ---- prefix ----
	{"doc prefix time", `{"time":[{"prefix":"2017-10-02"}]}`, rulerEvent, true},
	{"prefix miss", `{"time":[{"prefix":"2017-10-03"}]}`, rulerEvent, false},
	{"prefix only strings", `{"x":[{"prefix":"1"}]}`, `{"x":12}`, false},
	{"prefix empty matches any string", `{"x":[{"prefix":""}]}`, `{"x":"abc"}`, true},
	{"prefix empty not number", `{"x":[{"prefix":""}]}`, `{"x":1}`, false},
	{"prefix longer than value", `{"x":[{"prefix":"abcd"}]}`, `{"x":"abc"}`, false},
	{"prefix case sensitive", `{"region":[{"prefix":"US-"}]}`, ec2Event, false},
	{"doc prefix ignore case", `{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"detail":{"service":"eventbridge"}}`, true},
	{"prefix ignore case upper event", `{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}`, `{"service":"EVENTBRIDGE"}`, true},
	{"prefix ignore case miss", `{"service":[{"prefix":{"equals-ignore-case":"eventc"}}]}`, `{"service":"EventBridge"}`, false},

	// ---- suffix ----
	{"doc suffix png", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.png"}`, true},
	{"suffix case sensitive", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.PNG"}`, false},
	{"doc suffix ignore case", `{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, `{"detail":{"FileName":"image.PNG"}}`, true},
	{"suffix ignore case miss", `{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}`, `{"FileName":"image.jpg"}`, false},
	{"suffix number", `{"x":[{"suffix":"5"}]}`, `{"x":5}`, false},

	// ---- equals-ignore-case ----
	{"doc equals-ignore-case", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"Alice"}`, true},
	{"equals-ignore-case all caps", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"ALICE"}`, true},
	{"equals-ignore-case not prefix", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"Alicia"}`, false},
	{"equals-ignore-case unicode", `{"x":[{"equals-ignore-case":"ÉCOLE"}]}`, `{"x":"école"}`, true},
	{"equals-ignore-case greek", `{"x":[{"equals-ignore-case":"ΣΊΣΥΦΟΣ"}]}`, `{"x":"σίσυφος"}`, true},
	{"equals-ignore-case kelvin", `{"x":[{"equals-ignore-case":"k"}]}`, `{"x":"\u212a"}`, true},
	{"equals-ignore-case number", `{"x":[{"equals-ignore-case":"5"}]}`, `{"x":5}`, false},

	// ---- wildcard ----
	{"doc wildcard", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
	{"wildcard dir png", `{"k":[{"wildcard":"dir/*.png"}]}`, `{"k":"dir/sub/a.png"}`, true},
	{"wildcard miss", `{"k":[{"wildcard":"dir/*.png"}]}`, `{"k":"dir/a.jpg"}`, false},
	{"wildcard star alone", `{"k":[{"wildcard":"*"}]}`, `{"k":""}`, true},
	{"wildcard star not number", `{"k":[{"wildcard":"*"}]}`, `{"k":1}`, false},
	{"wildcard no star exact", `{"k":[{"wildcard":"abc"}]}`, `{"k":"abc"}`, true},
	{"wildcard no star exact miss", `{"k":[{"wildcard":"abc"}]}`, `{"k":"abcd"}`, false},
	{"wildcard escaped star literal", `{"k":[{"wildcard":"a\\*b"}]}`, `{"k":"a*b"}`, true},
	{"wildcard escaped star not wildcard", `{"k":[{"wildcard":"a\\*b"}]}`, `{"k":"axxb"}`, false},
	{"wildcard escaped backslash", `{"k":[{"wildcard":"a\\\\*"}]}`, `{"k":"a\\anything"}`, true},
	{"wildcard escaped backslash miss", `{"k":[{"wildcard":"a\\\\*"}]}`, `{"k":"ab"}`, false},
	{"wildcard overlapping", `{"k":[{"wildcard":"*ab*ab"}]}`, `{"k":"xabab"}`, true},
	{"wildcard overlapping 2", `{"k":[{"wildcard":"a*aa"}]}`, `{"k":"aa"}`, false},
	{"wildcard overlapping 3", `{"k":[{"wildcard":"a*aa"}]}`, `{"k":"aaa"}`, true},
	{"wildcard middle", `{"k":[{"wildcard":"*/lib/*"}]}`, `{"k":"/usr/lib/x"}`, true},
	{"wildcard case sensitive", `{"k":[{"wildcard":"*.png"}]}`, `{"k":"a.PNG"}`, false},
	{"wildcard unicode", `{"k":[{"wildcard":"é*ü"}]}`, `{"k":"é—ü"}`, true},

	// ---- anything-but ----
	{"doc anything-but string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, rulerEvent, true},
	{"anything-but string excluded", `{"detail":{"state":[{"anything-but":"running"}]}}`, rulerEvent, false},
	{"doc anything-but number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, rulerEvent, true},
	{"anything-but number excluded", `{"detail":{"c-count":[{"anything-but":5}]}}`, rulerEvent, false},
	{"anything-but number by value", `{"x":[{"anything-but":5}]}`, `{"x":5.0}`, false},
	{"anything-but number by value exp", `{"x":[{"anything-but":300}]}`, `{"x":3e2}`, false},
	{"doc anything-but list strings", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, rulerEvent, true},
	{"anything-but list strings excluded", `{"detail":{"state":[{"anything-but":["stopped","running"]}]}}`, rulerEvent, false},
	{"doc anything-but list numbers", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, rulerEvent, true},
	{"anything-but list numbers excluded", `{"detail":{"d-count":[{"anything-but":[1,2,3]}]}}`, rulerEvent, false},
	{"anything-but missing field", `{"detail":{"nosuch":[{"anything-but":"x"}]}}`, rulerEvent, false},
	{"anything-but string matches number", `{"x":[{"anything-but":"5"}]}`, `{"x":5}`, true},
	{"anything-but number matches string", `{"x":[{"anything-but":5}]}`, `{"x":"5"}`, true},
	{"anything-but matches null", `{"x":[{"anything-but":"a"}]}`, `{"x":null}`, true},
	{"anything-but matches bool", `{"x":[{"anything-but":"a"}]}`, `{"x":true}`, true},
	{"anything-but array one other value", `{"x":[{"anything-but":"a"}]}`, `{"x":["a","b"]}`, true},
	{"anything-but array all excluded", `{"x":[{"anything-but":["a","b"]}]}`, `{"x":["a","b"]}`, false},
	{"anything-but object value", `{"x":[{"anything-but":"a"}]}`, `{"x":{"y":"b"}}`, false},
	{"doc anything-but prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, rulerEvent, true},
	{"anything-but prefix excluded", `{"detail":{"state":[{"anything-but":{"prefix":"run"}}]}}`, rulerEvent, false},
	{"doc anything-but prefix region", `{"Region":[{"anything-but":{"prefix":"us-"}}]}`, `{"Region":"eu-west-1"}`, true},
	{"anything-but prefix list", `{"Region":[{"anything-but":{"prefix":["us-","eu-"]}}]}`, `{"Region":"eu-west-1"}`, false},
	{"anything-but prefix list other", `{"Region":[{"anything-but":{"prefix":["us-","eu-"]}}]}`, `{"Region":"ap-south-1"}`, true},
	{"anything-but prefix non-string", `{"x":[{"anything-but":{"prefix":"1"}}]}`, `{"x":12}`, true},
	{"doc anything-but suffix", `{"FileName":[{"anything-but":{"suffix":".png"}}]}`, `{"FileName":"a.png"}`, false},
	{"anything-but suffix other", `{"FileName":[{"anything-but":{"suffix":".png"}}]}`, `{"FileName":"a.jpg"}`, true},
	{"anything-but suffix list", `{"FileName":[{"anything-but":{"suffix":[".png",".jpg"]}}]}`, `{"FileName":"a.jpg"}`, false},
	{"doc anything-but ignore case", `{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}`, `{"state":"INITIALIZING"}`, false},
	{"anything-but ignore case other", `{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}`, `{"state":"running"}`, true},
	{"anything-but ignore case list", `{"state":[{"anything-but":{"equals-ignore-case":["Stopped","Running"]}}]}`, `{"state":"RUNNING"}`, false},
	{"anything-but ignore case list other", `{"state":[{"anything-but":{"equals-ignore-case":["Stopped","Running"]}}]}`, `{"state":"pending"}`, true},
	{"doc anything-but wildcard", `{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"FilePath":"/usr/lib/libc.so"}`, false},
	{"anything-but wildcard other", `{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"FilePath":"/usr/bin/sh"}`, true},
	{"anything-but wildcard list", `{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}`, `{"FilePath":"/usr/bin/sh"}`, false},
	{"anything-but wildcard list other", `{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}`, `{"FilePath":"/etc/hosts"}`, true},

	// ---- numeric (docs example) ----
	{"doc numeric all", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, rulerEvent, true},
	{"doc numeric c-count upper bound", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, rulerEvent, false},
	{"doc numeric x-limit miss", `{"detail":{"x-limit":[{"numeric":["=",301.9]}]}}`, rulerEvent, false},
	{"numeric equal by value", `{"x":[{"numeric":["=",300]}]}`, `{"x":3.0e2}`, true},
	{"numeric equal 5.0", `{"x":[{"numeric":["=",5]}]}`, `{"x":5.0}`, true},
	{"numeric ge boundary", `{"x":[{"numeric":[">=",5]}]}`, `{"x":5}`, true},
	{"numeric gt boundary", `{"x":[{"numeric":[">",5]}]}`, `{"x":5}`, false},
	{"numeric le boundary", `{"x":[{"numeric":["<=",5]}]}`, `{"x":5}`, true},
	{"numeric lt boundary", `{"x":[{"numeric":["<",5]}]}`, `{"x":5}`, false},
	{"numeric negative", `{"x":[{"numeric":["<",0]}]}`, `{"x":-0.5}`, true},
	{"numeric negative zero", `{"x":[{"numeric":["=",0]}]}`, `{"x":-0.0}`, true},
	{"numeric range ge lt", `{"x":[{"numeric":[">=",1.5,"<",2]}]}`, `{"x":1.5}`, true},
	{"numeric range ge lt upper", `{"x":[{"numeric":[">=",1.5,"<",2]}]}`, `{"x":2}`, false},
	{"numeric six decimals", `{"x":[{"numeric":[">",0.000001]}]}`, `{"x":0.000002}`, true},
	{"numeric seven decimals event exact compare", `{"x":[{"numeric":[">",0.000001]}]}`, `{"x":0.0000011}`, true},
	{"numeric seven decimals event exact compare le", `{"x":[{"numeric":["<=",0.000001]}]}`, `{"x":0.0000011}`, false},
	{"numeric seven decimals negative", `{"x":[{"numeric":["<",-0.000001]}]}`, `{"x":-0.0000011}`, true},
	{"numeric event max", `{"x":[{"numeric":[">=",5e9]}]}`, `{"x":5000000000}`, true},
	{"numeric event above max", `{"x":[{"numeric":[">",0]}]}`, `{"x":5000000000.5}`, false},
	{"numeric event far above max", `{"x":[{"numeric":[">",0]}]}`, `{"x":1e300}`, false},
	{"numeric event below min", `{"x":[{"numeric":["<",0]}]}`, `{"x":-5e9}`, true},
	{"numeric event below min out", `{"x":[{"numeric":["<",0]}]}`, `{"x":-6e9}`, false},
	{"numeric string not number", `{"x":[{"numeric":[">",0]}]}`, `{"x":"5"}`, false},
	{"numeric missing", `{"y":[{"numeric":[">",0]}]}`, `{"x":5}`, false},
	{"numeric array any", `{"x":[{"numeric":[">",10]}]}`, `{"x":[1,20]}`, true},
	{"numeric exponent forms", `{"x":[{"numeric":["=",1e2]}]}`, `{"x":100.000}`, true},
	{"numeric tiny exponent", `{"x":[{"numeric":[">",0]}]}`, `{"x":1e-400}`, true},
	{"numeric tiny exponent eq 0", `{"x":[{"numeric":["=",0]}]}`, `{"x":1e-400}`, false},
	{"numeric huge exponent zero mantissa", `{"x":[{"numeric":["=",0]}]}`, `{"x":0e999999999999}`, true},

	// ---- exists ----
	{"doc exists true", `{"detail":{"c-count":[{"exists":true}]}}`, rulerEvent, true},
	{"doc exists false absent", `{"detail":{"c-count":[{"exists":false}]}}`, existsEvent1, true},
	{"doc exists false non-leaf", `{"detail":{"c-count":[{"exists":false}]}}`, existsEvent2, true},
	{"exists true non-leaf", `{"detail":{"c-count":[{"exists":true}]}}`, existsEvent2, false},
	{"exists false present", `{"detail":{"c-count":[{"exists":false}]}}`, rulerEvent, false},
	{"exists true absent", `{"detail":{"c-count":[{"exists":true}]}}`, existsEvent1, false},
	// Decision: null is a leaf value, so a null field exists.
	{"exists true null", `{"x":[{"exists":true}]}`, `{"x":null}`, true},
	{"exists false null", `{"x":[{"exists":false}]}`, `{"x":null}`, false},
	{"exists true empty string", `{"x":[{"exists":true}]}`, `{"x":""}`, true},
	{"exists true empty array", `{"x":[{"exists":true}]}`, `{"x":[]}`, false},
	{"exists false empty array", `{"x":[{"exists":false}]}`, `{"x":[]}`, true},
	{"exists true array of scalars", `{"x":[{"exists":true}]}`, `{"x":[1]}`, true},
	{"exists false parent missing", `{"a":{"b":[{"exists":false}]}}`, `{"c":1}`, true},
	{"exists false parent scalar", `{"a":{"b":[{"exists":false}]}}`, `{"a":1}`, true},
	{"exists true parent missing", `{"a":{"b":[{"exists":true}]}}`, `{"c":1}`, false},
	{"exists false in array of objects none has it", `{"items":{"x":[{"exists":false}]}}`, `{"items":[{"y":1},{"y":2}]}`, true},
	{"exists false in array of objects one has it", `{"items":{"x":[{"exists":false}]}}`, `{"items":[{"x":1},{"y":2}]}`, false},
	{"exists false with positive sibling same element", `{"items":{"y":[2],"x":[{"exists":false}]}}`, `{"items":[{"x":1,"y":1},{"y":2}]}`, true},
	{"exists false with positive sibling fails", `{"items":{"y":[1],"x":[{"exists":false}]}}`, `{"items":[{"x":1,"y":1},{"y":2}]}`, false},
	{"exists true in array of objects", `{"items":{"x":[{"exists":true}]}}`, `{"items":[{"y":1},{"x":null}]}`, true},
	{"exists false or value", `{"x":["a",{"exists":false}]}`, `{"y":1}`, true},
	{"exists false or value present other", `{"x":["a",{"exists":false}]}`, `{"x":"b"}`, false},
	{"exists false or value present match", `{"x":["a",{"exists":false}]}`, `{"x":"a"}`, true},

	// ---- cidr ----
	{"doc cidr", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, rulerEvent, true},
	{"cidr miss", `{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, rulerEvent, false},
	{"doc cidr /8", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/8"}]}}`, rulerEvent, true},
	{"cidr ipv6", `{"detail":{"source-ip-address":[{"cidr":"2001:db8::/64"}]}}`, s3Event, true},
	{"cidr ipv6 miss", `{"detail":{"source-ip-address":[{"cidr":"2001:db9::/64"}]}}`, s3Event, false},
	{"cidr ipv6 uppercase event", `{"ip":[{"cidr":"2001:db8::/64"}]}`, `{"ip":"2001:DB8:0:0::1"}`, true},
	{"cidr ipv4 vs ipv6", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"2001:db8::1"}`, false},
	{"cidr ipv4-mapped", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"::ffff:10.1.2.3"}`, true},
	{"cidr non-ip string", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"not an ip"}`, false},
	{"cidr number", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":10}`, false},
	{"cidr host bits set masked", `{"ip":[{"cidr":"10.0.0.77/24"}]}`, `{"ip":"10.0.0.1"}`, true},
	{"cidr /32", `{"ip":[{"cidr":"10.0.0.1/32"}]}`, `{"ip":"10.0.0.1"}`, true},
	{"cidr /0", `{"ip":[{"cidr":"0.0.0.0/0"}]}`, `{"ip":"192.168.1.1"}`, true},
	{"exact ipv6 other spelling", `{"ip":["2001:db8::1"]}`, `{"ip":"2001:DB8:0:0:0:0:0:1"}`, true},
	{"exact ipv6 different", `{"ip":["2001:db8::1"]}`, `{"ip":"2001:db8::2"}`, false},

	// ---- $or ----
	{"doc $or metricName", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`,
		`{"source":"aws.cloudwatch","metricName":"ReadLatency"}`, true},
	{"doc $or namespace", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`,
		`{"source":"aws.cloudwatch","namespace":"AWS/ES"}`, true},
	{"doc $or neither", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`,
		`{"source":"aws.cloudwatch","namespace":"AWS/S3"}`, false},
	{"doc $or source fails", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}`,
		`{"source":"aws.ec2","metricName":"CPUUtilization"}`, false},
	{"doc $or with and inside", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2"}`, true},
	{"doc $or with and inside partial", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/S3"}`, false},
	{"doc $or parallel", `{"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}`,
		`{"namespace":"AWS/EC2","detail":{"detail-type":"CloudWatch Alarm State Change"}}`, true},
	{"doc $or parallel second fails", `{"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}`,
		`{"namespace":"AWS/EC2","detail":{"detail-type":"Other"}}`, false},
	{"doc $or nested", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES","spaceId":1000}`, true},
	{"doc $or nested inner fails", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES","spaceId":1001}`, false},
	{"doc $or numeric detail", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}`, rulerEvent, true},
	{"$or numeric detail none", `{"detail":{"$or":[{"c-count":[{"numeric":[">",5]}]},{"d-count":[{"numeric":["<",1]}]}]}}`, rulerEvent, false},
	{"$or alternatives with exists false", `{"$or":[{"a":["x"]},{"a":[{"exists":false}]}]}`, `{"b":1}`, true},
	{"$or in array of objects same element", `{"items":{"$or":[{"a":[1]},{"b":[2]}],"c":[3]}}`, `{"items":[{"a":1,"c":4},{"b":2,"c":3}]}`, true},
	{"$or in array of objects different elements", `{"items":{"$or":[{"a":[1]},{"b":[2]}],"c":[3]}}`, `{"items":[{"a":1,"c":4},{"b":5,"c":3}]}`, false},

	// ---- multiple values / operators OR'ed in one leaf ----
	{"mixed leaf exact hits", `{"x":["a",{"prefix":"zz"},{"numeric":[">",100]}]}`, `{"x":"a"}`, true},
	{"mixed leaf prefix hits", `{"x":["a",{"prefix":"zz"},{"numeric":[">",100]}]}`, `{"x":"zzz"}`, true},
	{"mixed leaf numeric hits", `{"x":["a",{"prefix":"zz"},{"numeric":[">",100]}]}`, `{"x":101}`, true},
	{"mixed leaf none", `{"x":["a",{"prefix":"zz"},{"numeric":[">",100]}]}`, `{"x":99}`, false},
	{"doc complex", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}],"source-ip":[{"cidr":"10.0.0.0/8"}]}}`, rulerEvent, true},
	{"doc complex one fails", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"running"}],"c-count":[{"numeric":[">",0,"<=",5]}]}}`, rulerEvent, false},

	// ---- unicode and escapes ----
	{"unicode escape equals literal", `{"x":["\u00e9"]}`, `{"x":"é"}`, true},
	{"unicode literal equals escape", `{"x":["é"]}`, `{"x":"\u00e9"}`, true},
	{"unicode surrogate pair", `{"x":["😀"]}`, `{"x":"\ud83d\ude00"}`, true},
	{"escaped key", `{"a\"b":["1"]}`, `{"a\u0022b":"1"}`, true},
	{"escaped slash", `{"x":["a/b"]}`, `{"x":"a\/b"}`, true},
	{"unicode prefix", `{"x":[{"prefix":"日本"}]}`, `{"x":"日本語"}`, true},
	{"no normalization", `{"x":["é"]}`, `{"x":"e\u0301"}`, false},

	// ---- structure ----
	{"empty pattern matches all", `{}`, ec2Event, true},
	{"empty pattern matches empty object", `{}`, `{}`, true},
	{"deep nesting", `{"a":{"b":{"c":{"d":{"e":{"f":["deep"]}}}}}}`, `{"a":{"b":{"c":{"d":{"e":{"f":"deep"}}}}}}`, true},
	{"deep nesting miss", `{"a":{"b":{"c":{"d":{"e":{"f":["deep"]}}}}}}`, `{"a":{"b":{"c":{"d":{"e":{"g":"deep"}}}}}}`, false},
	{"duplicate event key last wins", `{"x":["b"]}`, `{"x":"a","x":"b"}`, true},
	{"dots in keys are not paths", `{"a.b":["1"]}`, `{"a":{"b":"1"}}`, false},
	{"dots in keys literal", `{"a.b":["1"]}`, `{"a.b":"1"}`, true},
	{"$or as event key not special", `{"x":["1"]}`, `{"$or":"1","x":"1"}`, true},
	{"event top-level array", `{"x":["1"]}`, `[{"x":"2"},{"x":"1"}]`, true},
	{"event top-level scalar", `{"x":["1"]}`, `"x"`, false},
	{"s3 cloud example", `{"source":["aws.s3"],"detail":{"bucket":{"name":["photos"]},"object":{"key":[{"suffix":{"equals-ignore-case":".png"}}],"size":[{"numeric":[">",0]}]}}}`, s3Event, true},

	// ---- CloudEvents documents ----
	{"cloudevent type", `{"type":["mse:Agent:OutlierEjection"],"source":["acs.mse"]}`, mseEvent, true},
	{"cloudevent data nested", `{"type":[{"prefix":"mse:"}],"data":{"instances":{"ip":[{"cidr":"192.168.0.0/16"}]}}}`, mseEvent, true},
	{"cloudevent data miss", `{"type":["mse:Agent:OutlierEjection"],"data":{"ejectionRatio":[{"numeric":[">",0.5]}]}}`, mseEvent, false},
}

func TestMatchConformance(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.pattern, err)
			}
			got, err := p.Match([]byte(tc.event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Errorf("pattern %s\nevent %s\ngot %v, want %v", tc.pattern, tc.event, got, tc.want)
			}
			// The Set (indexed) must agree with the single-pattern matcher.
			s := NewSet()
			if err := s.Add("p", []byte(tc.pattern)); err != nil {
				t.Fatal(err)
			}
			names, err := s.Match([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if (len(names) == 1) != tc.want {
				t.Errorf("Set.Match = %v, want match=%v", names, tc.want)
			}
		})
	}
}

type errCase struct {
	name    string
	pattern string
	want    string // exact error message, or a prefix ending in "…"
}

var compileErrCases = []errCase{
	{"not json", `{`, "pattern: invalid JSON at offset 1: expected object key"},
	{"trailing garbage", `{"a":["x"]} x`, "pattern: invalid JSON at offset 12: unexpected data after top-level value"},
	{"not an object", `["a"]`, "pattern: must be a JSON object"},
	{"string top", `"a"`, "pattern: must be a JSON object"},
	{"scalar value", `{"detail":{"severity":"high"}}`, "pattern: detail.severity: value must be an array"},
	{"number value", `{"x":5}`, "pattern: x: value must be an array"},
	{"null value", `{"x":null}`, "pattern: x: value must be an array"},
	{"empty array", `{"detail":{"x":[]}}`, "pattern: detail.x: empty arrays are not allowed"},
	{"nested empty object", `{"detail":{}}`, "pattern: detail: empty object is not allowed"},
	{"duplicate key", `{"a":["1"],"a":["2"]}`, "pattern: a: duplicate key"},
	{"nested array value", `{"x":[["a"]]}`, "pattern: x: match value must be a string, number, boolean, null or operator object"},
	{"unknown operator", `{"detail":{"x":[{"prefixx":"a"}]}}`, `pattern: detail.x: unknown operator "prefixx"`},
	{"exactly not supported", `{"x":[{"exactly":"a"}]}`, `pattern: x: unknown operator "exactly"`},
	{"empty operator", `{"x":[{}]}`, "pattern: x: empty operator object"},
	{"two operators", `{"x":[{"prefix":"a","suffix":"b"}]}`, `pattern: x: only one key allowed in match expression, got 2 ("prefix", "suffix")`},
	{"prefix number", `{"x":[{"prefix":5}]}`, "pattern: x: prefix match pattern must be a string"},
	{"suffix null", `{"x":[{"suffix":null}]}`, "pattern: x: suffix match pattern must be a string"},
	{"prefix bad object", `{"x":[{"prefix":{"wildcard":"a"}}]}`, `pattern: x: unsupported prefix pattern: "wildcard"`},
	{"prefix ignore case number", `{"x":[{"prefix":{"equals-ignore-case":1}}]}`, "pattern: x: equals-ignore-case match pattern must be a string"},
	{"suffix two keys", `{"x":[{"suffix":{"equals-ignore-case":"a","b":"c"}}]}`, "pattern: x: suffix object must contain exactly one key, equals-ignore-case"},
	{"equals-ignore-case number", `{"x":[{"equals-ignore-case":1}]}`, "pattern: x: equals-ignore-case match pattern must be a string"},
	{"exists string", `{"x":[{"exists":"true"}]}`, "pattern: x: exists match pattern must be either true or false"},
	{"cidr malformed", `{"x":[{"cidr":"10.0.0.0/33"}]}`, `pattern: x: malformed cidr "10.0.0.0/33"`},
	{"cidr no prefix length", `{"x":[{"cidr":"10.0.0.1"}]}`, `pattern: x: malformed cidr "10.0.0.1": expected address/prefix-length`},
	{"cidr garbage", `{"x":[{"cidr":"foo/8"}]}`, `pattern: x: malformed cidr "foo/8"`},
	{"cidr ipv6 malformed", `{"x":[{"cidr":"2001:db8:::/64"}]}`, `pattern: x: malformed cidr "2001:db8:::/64"`},
	{"cidr number", `{"x":[{"cidr":10}]}`, "pattern: x: cidr match pattern must be a string"},
	{"wildcard consecutive", `{"x":[{"wildcard":"a**b"}]}`, "pattern: x: wildcard: consecutive wildcard characters at position 1"},
	{"wildcard bad escape", `{"x":[{"wildcard":"a\\b"}]}`, `pattern: x: wildcard: invalid escape character at position 1: only \* and \\ are allowed`},
	{"wildcard trailing backslash", `{"x":[{"wildcard":"a\\"}]}`, `pattern: x: wildcard: invalid escape character at position 1: only \* and \\ are allowed`},
	{"wildcard number", `{"x":[{"wildcard":1}]}`, "pattern: x: wildcard match pattern must be a string"},
	{"numeric not array", `{"x":[{"numeric":5}]}`, "pattern: x: value of numeric must be an array"},
	{"numeric empty", `{"x":[{"numeric":[]}]}`, "pattern: x: numeric expression must not be empty"},
	{"numeric unknown op", `{"x":[{"numeric":["!=",5]}]}`, `pattern: x: numeric: unknown operator "!="`},
	{"numeric first not op", `{"x":[{"numeric":[5,">"]}]}`, "pattern: x: numeric: expected an operator string at position 0"},
	{"numeric string operand", `{"x":[{"numeric":[">","5"]}]}`, `pattern: x: numeric: value of ">" must be a number`},
	{"numeric missing operand", `{"x":[{"numeric":[">"]}]}`, `pattern: x: numeric: missing value for ">"`},
	{"numeric two lower bounds", `{"x":[{"numeric":[">",0,">",5]}]}`, `pattern: x: numeric: a range cannot have two lower bounds (">" then ">")`},
	{"numeric upper then lower", `{"x":[{"numeric":["<",5,">",0]}]}`, `pattern: x: numeric: too many elements; an upper bound ("<") must come last`},
	{"numeric eq extra", `{"x":[{"numeric":["=",5,"<",6]}]}`, `pattern: x: numeric: too many elements after "="`},
	{"numeric eq in range", `{"x":[{"numeric":[">",5,"=",6]}]}`, `pattern: x: numeric: "=" cannot be combined with other operators`},
	{"numeric range unknown second", `{"x":[{"numeric":[">",5,"<>",6]}]}`, `pattern: x: numeric: unknown operator "<>"`},
	{"numeric range too many", `{"x":[{"numeric":[">",0,"<",5,"<",6]}]}`, "pattern: x: numeric: too many elements in range expression"},
	{"numeric bounds inverted", `{"x":[{"numeric":[">",5,"<",1]}]}`, "pattern: x: numeric: lower bound must be less than upper bound"},
	{"numeric bounds equal", `{"x":[{"numeric":[">=",5,"<=",5]}]}`, "pattern: x: numeric: lower bound must be less than upper bound"},
	{"numeric out of range", `{"x":[{"numeric":[">",5.0e10]}]}`, `pattern: x: numeric: value of ">" 5.0e10 is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive`},
	{"numeric out of range negative", `{"x":[{"numeric":["<",-5000000000.000001]}]}`, `pattern: x: numeric: value of "<" -5000000000.000001 is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive`},
	{"numeric too precise", `{"x":[{"numeric":["=",0.0000001]}]}`, `pattern: x: numeric: value of "=" 0.0000001 has too many decimal places: at most 6 digits after the decimal point are supported`},
	{"anything-but bool", `{"x":[{"anything-but":true}]}`, "pattern: x: value of anything-but must be a string, a number, a list of strings or numbers, or an object"},
	{"anything-but null", `{"x":[{"anything-but":null}]}`, "pattern: x: value of anything-but must be a string, a number, a list of strings or numbers, or an object"},
	{"anything-but empty list", `{"x":[{"anything-but":[]}]}`, "pattern: x: anything-but list must not be empty"},
	{"anything-but mixed list", `{"x":[{"anything-but":["a",1]}]}`, "pattern: x: anything-but list must contain only strings or only numbers"},
	{"anything-but list of null", `{"x":[{"anything-but":[null]}]}`, "pattern: x: anything-but list must contain only strings or only numbers"},
	{"anything-but number out of range", `{"x":[{"anything-but":[1e10]}]}`, "pattern: x: anything-but value 1e10 is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive"},
	{"anything-but unknown inner", `{"x":[{"anything-but":{"numeric":[">",1]}}]}`, `pattern: x: unsupported anything-but operator "numeric"`},
	{"anything-but two inner", `{"x":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, "pattern: x: anything-but object must contain exactly one key, got 2"},
	{"anything-but prefix empty", `{"x":[{"anything-but":{"prefix":""}}]}`, "pattern: x: anything-but prefix value must not be empty"},
	{"anything-but suffix empty in list", `{"x":[{"anything-but":{"suffix":["a",""]}}]}`, "pattern: x: anything-but suffix value must not be empty"},
	{"anything-but prefix number", `{"x":[{"anything-but":{"prefix":1}}]}`, "pattern: x: anything-but prefix value must be a string or a list of strings"},
	{"anything-but prefix list number", `{"x":[{"anything-but":{"prefix":["a",1]}}]}`, "pattern: x: anything-but prefix values must be strings"},
	{"anything-but ignore case empty list", `{"x":[{"anything-but":{"equals-ignore-case":[]}}]}`, "pattern: x: anything-but equals-ignore-case list must not be empty"},
	{"anything-but wildcard bad", `{"x":[{"anything-but":{"wildcard":"a**"}}]}`, "pattern: x: anything-but wildcard: consecutive wildcard characters at position 1"},
	{"$or one alternative", `{"$or":[{"a":["1"]}]}`, "pattern: $or must have at least two alternatives"},
	{"$or zero alternatives", `{"$or":[]}`, "pattern: $or must have at least two alternatives"},
	{"$or nested one alternative", `{"detail":{"$or":[{"a":["1"]}]}}`, "pattern: detail.$or must have at least two alternatives"},
	{"$or not array", `{"$or":{"a":["1"]}}`, "pattern: $or must be an array of objects"},
	{"$or element not object", `{"$or":[{"a":["1"]},["b"]]}`, "pattern: $or[1]: $or alternative must be an object"},
	{"$or empty alternative", `{"$or":[{"a":["1"]},{}]}`, "pattern: $or[1]: empty object is not allowed"},
	{"$or error inside alternative", `{"$or":[{"a":["1"]},{"b":{"c":[{"prefix":1}]}}]}`, "pattern: $or[1].b.c: prefix match pattern must be a string"},
	{"$or reserved keyword", `{"$or":[{"numeric":["1"]},{"b":["2"]}]}`, `pattern: $or[0].numeric: "numeric" is a reserved keyword and cannot be used as a field name inside $or`},
	{"invalid utf8", "{\"x\":[\"\xff\"]}", "pattern: invalid JSON at offset 7: invalid UTF-8 in string"},
	{"bad escape", `{"x":["\q"]}`, `pattern: invalid JSON at offset 7: invalid escape 'q'`},
	{"leading zero number", `{"x":[01]}`, "pattern: invalid JSON at offset 7: expected ',' or ']' in array"},
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range compileErrCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.pattern))
			if err == nil {
				t.Fatalf("Compile(%s): no error, want %q", tc.pattern, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Compile(%s):\n got %q\nwant %q", tc.pattern, err.Error(), tc.want)
			}
			if err := NewSet().Add("x", []byte(tc.pattern)); err == nil {
				t.Errorf("Set.Add accepted invalid pattern")
			}
		})
	}
}

func TestCompileValid(t *testing.T) {
	// Patterns EventBridge accepts that are easy to reject by mistake.
	valid := []string{
		`{}`,
		`{"x":[{"prefix":""}]}`,
		`{"x":[{"suffix":""}]}`,
		`{"x":[{"equals-ignore-case":""}]}`,
		`{"x":[{"wildcard":""}]}`,
		`{"x":[{"wildcard":"*"}]}`,
		`{"x":[{"numeric":["=",-5e9]}]}`,
		`{"x":[{"numeric":["<=",5000000000]}]}`,
		`{"x":[{"numeric":[">",-1,"<=",1.123456]}]}`,
		`{"x":[{"numeric":[">",0,"<",0.000001]}]}`,
		`{"x":[{"anything-but":[1,2.5,-3]}]}`,
		`{"x":[{"anything-but":{"equals-ignore-case":["a","B"]}}]}`,
		`{"x":[{"cidr":"::/0"}]}`,
		`{"x":[1e400, 0.0000001, 123456789012345678901234567890]}`,
		`{"$or":[{"a":["1"]},{"b":["2"]},{"c":{"$or":[{"d":["3"]},{"e":["4"]}]}}]}`,
		`{"numeric":["1"],"prefix":["a"]}`, // operator names are ordinary field names outside $or
		` { "a" : [ "b" ] } `,
	}
	for _, p := range valid {
		if _, err := Compile([]byte(p)); err != nil {
			t.Errorf("Compile(%s): %v", p, err)
		}
	}
}

func TestMalformedEvents(t *testing.T) {
	p, err := Compile([]byte(`{"a":["b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet()
	if err := s.Add("p", []byte(`{"a":["b"]}`)); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		``, ` `, `{`, `}`, `{"a":}`, `{"a":"b"`, `{"a" "b"}`, `{"a":"b",}`, `[1,]`, `{"a":tru}`,
		`{"a":nul}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":"\x"}`,
		`{"a":"\u12"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}", `{"a":"b"} {}`, `{a:"b"}`, `{"a":'b'}`,
		`{"a":NaN}`, `{"a":Infinity}`, `{"a":+1}`,
		strings.Repeat("[", maxDepth+10) + strings.Repeat("]", maxDepth+10),
	}
	for _, ev := range bad {
		if _, err := p.Match([]byte(ev)); err == nil {
			t.Errorf("Pattern.Match(%q): no error", ev)
		}
		if _, err := s.Match([]byte(ev)); err == nil {
			t.Errorf("Set.Match(%q): no error", ev)
		}
	}
	// Deep but within limits is fine.
	deep := strings.Repeat(`{"a":`, 500) + `"b"` + strings.Repeat(`}`, 500)
	if _, err := p.Match([]byte(deep)); err != nil {
		t.Errorf("deep event: %v", err)
	}
}

func TestParseFixed(t *testing.T) {
	cases := []struct {
		in    string
		micro int64
		flags uint8
	}{
		{"0", 0, numInRange | numExact},
		{"-0", 0, numInRange | numExact},
		{"5", 5_000_000, numInRange | numExact},
		{"5.0", 5_000_000, numInRange | numExact},
		{"5e0", 5_000_000, numInRange | numExact},
		{"0.5e1", 5_000_000, numInRange | numExact},
		{"500e-2", 5_000_000, numInRange | numExact},
		{"3.018e2", 301_800_000, numInRange | numExact},
		{"-1.5", -1_500_000, numInRange | numExact},
		{"0.000001", 1, numInRange | numExact},
		{"0.0000011", 1, numInRange},
		{"-0.0000011", -2, numInRange},
		{"-0.0000001", -1, numInRange},
		{"5000000000", 5_000_000_000_000_000, numInRange | numExact},
		{"-5e9", -5_000_000_000_000_000, numInRange | numExact},
		{"5000000000.000001", 0, 0},
		{"1e10", 0, 0},
		{"1e400", 0, 0},
		{"1e-400", 0, numInRange},
		{"0e99999999999999", 0, numInRange | numExact},
		{"123456789.123456", 123_456_789_123_456, numInRange | numExact},
		{"1.00000000000000000000000000000000000000000000000001", 1_000_000, numInRange},
		{"1.00000000000000000000000000000000000000000000000000", 1_000_000, numInRange | numExact},
	}
	for _, c := range cases {
		m, f := parseFixed([]byte(c.in))
		if m != c.micro || f != c.flags {
			t.Errorf("parseFixed(%s) = %d, %b; want %d, %b", c.in, m, f, c.micro, c.flags)
		}
	}
}

func TestFoldHelpers(t *testing.T) {
	if !foldHasPrefix([]byte("ÉCOLE normale"), foldString("école"), false) {
		t.Error("fold prefix")
	}
	if !foldHasSuffix([]byte("photo.PNG"), foldString(".png")) {
		t.Error("fold suffix")
	}
	if foldHasPrefix([]byte("ab"), foldString("abc"), false) {
		t.Error("fold prefix longer")
	}
	if foldHasSuffix([]byte("b"), foldString("ab")) {
		t.Error("fold suffix longer")
	}
	if foldString("\u212a") != "k" || foldString("ſ") != "s" {
		t.Errorf("fold canonical: %q %q", foldString("\u212a"), foldString("ſ"))
	}
}

func TestHasSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	check := func(b [8]byte) {
		want := false
		for _, c := range b {
			want = want || special(c)
		}
		w := uint64(0)
		for i := 7; i >= 0; i-- {
			w = w<<8 | uint64(b[i])
		}
		if got := hasSpecial(w); got != want {
			t.Fatalf("hasSpecial(%q) = %v, want %v", b[:], got, want)
		}
	}
	// Every byte value in every position, among ordinary neighbours.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := [8]byte{'a', 'b', 'c', 'd', '!', '#', '~', ' '}
			b[pos] = byte(c)
			check(b)
			b2 := [8]byte{0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21}
			b2[pos] = byte(c)
			check(b2)
		}
	}
}

// TestAdversarialInputs guards against super-linear behaviour on large
// inputs (EventBridge events are at most 256 KB).
func TestAdversarialInputs(t *testing.T) {
	long := strings.Repeat("a", 256<<10)
	wc := `{"k":[{"wildcard":"` + strings.Repeat("a*", 100) + `b"},{"anything-but":{"wildcard":"*aaaaaaaaaaaaaaaab*"}},{"suffix":{"equals-ignore-case":"ÄB"}}]}`
	p, err := Compile([]byte(wc))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := p.Match([]byte(`{"k":"` + long + `"}`))
	if err != nil || !ok { // anything-but wildcard holds
		t.Fatalf("Match = %v, %v", ok, err)
	}
	// Deeply nested arrays against a nested pattern with $or and absence.
	deep := strings.Repeat(`{"a":[`, 1000) + `1` + strings.Repeat(`]}`, 1000)
	p2, err := Compile([]byte(`{"a":{"a":{"$or":[{"a":[{"exists":false}]},{"b":[1]}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Match([]byte(deep)); err != nil {
		t.Fatal(err)
	}
	// Wide arrays of objects.
	wide := `{"a":[` + strings.Repeat(`{"b":{"c":[1,2,3]},"d":"x"},`, 5000) + `{"b":{"c":4}}]}`
	p3, err := Compile([]byte(`{"a":{"b":{"c":[4]},"d":[{"exists":false}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p3.Match([]byte(wide)); err != nil || !ok {
		t.Fatalf("wide: %v, %v", ok, err)
	}
}

func TestCompileErrorEmptyKey(t *testing.T) {
	_, err := Compile([]byte(`{"":{"":"x"}}`))
	if err == nil || err.Error() != `pattern: ""."": value must be an array` {
		t.Fatalf("err = %v", err)
	}
}
