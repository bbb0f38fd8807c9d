// Package patterntest provides the realistic events and subscription patterns that
// shared/pattern's benchmarks and make bench measure matching with.
package patterntest

import (
	"fmt"
	"math/rand"
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
