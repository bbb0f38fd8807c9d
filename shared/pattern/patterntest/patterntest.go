// Package patterntest provides the realistic events and subscription patterns that
// shared/pattern's benchmarks and make bench measure matching with, and reads the
// conformance corpus its tests and the local EventBridge emulator's answer.
package patterntest

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
)

// MSEEvent is a realistic (~1 KB) Alibaba Cloud MSE CloudEvent.
const MSEEvent = `{
  "specversion": "1.0",
  "id": "5d7c4e2a-8f3b-4a6e-9c1d-2b7e8f9a0c3d",
  "source": "acs.mse",
  "type": "mse:Agent:OutlierEjection",
  "subject": "acs.mse:cn-hangzhou:1234567890123456:/instances/mse-cn-abc123def456",
  "datacontenttype": "application/json;charset=utf-8",
  "time": "2024-01-01T00:00:00Z",
  "aliyunaccountid": "1234567890123456",
  "aliyunpublishtime": "2024-01-01T00:00:00.123Z",
  "aliyuneventbusname": "default",
  "aliyunregionid": "cn-hangzhou",
  "aliyunpublishaddr": "10.0.0.1",
  "data": {
    "instanceId": "mse-cn-abc123def456",
    "clusterName": "prod-gateway",
    "namespace": "public",
    "serviceName": "order-service",
    "group": "DEFAULT_GROUP",
    "ejectionRatio": 0.25,
    "ejectedCount": 2,
    "totalCount": 8,
    "severity": "WARNING",
    "reason": "ConsecutiveErrors",
    "instances": [
      {"ip": "192.168.1.10", "port": 8080, "healthy": false, "weight": 1.0, "ejectTime": "2024-01-01T00:00:00Z"},
      {"ip": "192.168.1.11", "port": 8080, "healthy": false, "weight": 1.0, "ejectTime": "2024-01-01T00:00:01Z"}
    ],
    "labels": {"env": "prod", "team": "payments", "region": "cn-hangzhou"},
    "tags": ["gateway", "outlier", "auto"]
  }
}`

var (
	benchSources = []string{"acs.mse", "acs.ecs", "acs.oss", "acs.rds", "acs.ack", "acs.sls", "acs.fc", "acs.mns"}
	benchTypes   = map[string][]string{
		"acs.mse": {"mse:Agent:OutlierEjection", "mse:Gateway:RouteChanged", "mse:Registry:InstanceDown", "mse:Config:Published", "mse:Agent:Heartbeat"},
		"acs.ecs": {"ecs:Instance:StateChange", "ecs:Disk:Attached", "ecs:Snapshot:Created", "ecs:Instance:Preempted", "ecs:SecurityGroup:Changed"},
		"acs.oss": {"oss:ObjectCreated:PutObject", "oss:ObjectRemoved:DeleteObject", "oss:ObjectCreated:PostObject", "oss:Bucket:Created"},
		"acs.rds": {"rds:Instance:Failover", "rds:Backup:Finished", "rds:Instance:Restarted", "rds:SlowLog:Alert"},
		"acs.ack": {"ack:Cluster:NodeNotReady", "ack:Pod:OOMKilled", "ack:Cluster:Upgraded", "ack:Pod:CrashLoop"},
		"acs.sls": {"sls:Alert:Fired", "sls:Alert:Resolved", "sls:Shipper:Failed"},
		"acs.fc":  {"fc:Function:Invoked", "fc:Function:Failed", "fc:Function:Throttled"},
		"acs.mns": {"mns:Queue:Message", "mns:Topic:Published"},
	}
	benchRegions    = []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1", "us-west-1"}
	benchSeverities = []string{"CRITICAL", "WARNING", "INFO"}
)

// Realistic returns n subscription patterns of the kinds users write over events like
// MSEEvent: mostly exact type and source values, with various extra constraints. The
// same n and seed give the same patterns.
func Realistic(n int, seed int64) []string {
	r := rand.New(rand.NewSource(seed))
	pick := func(xs []string) string { return xs[r.Intn(len(xs))] }
	out := make([]string, 0, n)
	for len(out) < n {
		src := pick(benchSources)
		typ := pick(benchTypes[src])
		typ2 := pick(benchTypes[src])
		region := pick(benchRegions)
		acct := fmt.Sprintf("%016d", 1234567890123400+r.Intn(200))
		var p string
		switch k := r.Intn(100); {
		case k < 20:
			p = fmt.Sprintf(`{"type":[%q]}`, typ)
		case k < 32:
			p = fmt.Sprintf(`{"source":[%q],"type":[%q,%q]}`, src, typ, typ2)
		case k < 42:
			p = fmt.Sprintf(`{"type":[%q],"data":{"severity":[%q,%q]}}`, typ, pick(benchSeverities), pick(benchSeverities))
		case k < 50:
			p = fmt.Sprintf(`{"source":[%q],"aliyunregionid":[%q],"data":{"ejectionRatio":[{"numeric":[">",%g]}]}}`, src, region, float64(r.Intn(100))/100)
		case k < 56:
			p = fmt.Sprintf(`{"type":[{"prefix":%q}],"aliyunregionid":[%q]}`, typ[:4], region)
		case k < 64:
			p = fmt.Sprintf(`{"type":[%q],"subject":[{"prefix":"%s:%s:"}]}`, typ, src, region)
		case k < 70:
			p = fmt.Sprintf(`{"source":[%q],"type":[%q],"data":{"labels":{"env":[{"anything-but":["dev","test"]}]}}}`, src, typ)
		case k < 75:
			p = fmt.Sprintf(`{"type":[%q],"data":{"instances":{"ip":[{"cidr":"192.168.%d.0/24"}]}}}`, typ, r.Intn(4))
		case k < 85:
			p = fmt.Sprintf(`{"aliyunaccountid":[%q],"type":[%q]}`, acct, typ)
		case k < 90:
			p = fmt.Sprintf(`{"source":[%q],"$or":[{"data":{"severity":["CRITICAL"]}},{"data":{"ejectedCount":[{"numeric":[">=",%d]}]}}]}`, src, r.Intn(5))
		case k < 94:
			p = fmt.Sprintf(`{"type":[%q],"data":{"serviceName":[{"suffix":"-service"}],"healthy":[{"exists":false}]}}`, typ)
		case k < 97:
			p = fmt.Sprintf(`{"data":{"severity":[{"equals-ignore-case":%q}]},"source":[{"prefix":"acs."}],"aliyunregionid":[%q]}`, pick(benchSeverities), region)
		default:
			// no exact constraint at all: evaluated for every event
			p = fmt.Sprintf(`{"data":{"ejectionRatio":[{"numeric":[">",0.%d]}],"labels":{"team":[{"exists":true}]}}}`, r.Intn(10))
		}
		out = append(out, p)
	}
	return out
}

// Case is one case of the conformance corpus (shared/pattern/testdata/match.json):
// whether Pattern matches Event.
type Case struct {
	Name, Pattern, Event string
	Match                bool
}

// Corpus is the conformance corpus: its cases, and the events several cases share
// by name.
type Corpus struct {
	Events map[string]string
	Cases  []Case
}

// LoadCorpus reads a conformance corpus: named events and cases, each with its
// event inline or named by eventRef.
func LoadCorpus(file string) (Corpus, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Corpus{}, err
	}
	var corpus struct {
		Events map[string]string `json:"events"`
		Cases  []struct {
			Name     string `json:"name"`
			Pattern  string `json:"pattern"`
			Event    string `json:"event"`
			EventRef string `json:"eventRef"`
			Match    bool   `json:"match"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &corpus); err != nil {
		return Corpus{}, fmt.Errorf("%s: %w", file, err)
	}
	out := make([]Case, len(corpus.Cases))
	for i, c := range corpus.Cases {
		ev := c.Event
		if c.EventRef != "" {
			var ok bool
			if ev, ok = corpus.Events[c.EventRef]; !ok {
				return Corpus{}, fmt.Errorf("%s: case %q: no event %q", file, c.Name, c.EventRef)
			}
		}
		out[i] = Case{Name: c.Name, Pattern: c.Pattern, Event: ev, Match: c.Match}
	}
	return Corpus{Events: corpus.Events, Cases: out}, nil
}
