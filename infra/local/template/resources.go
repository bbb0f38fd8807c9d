package template

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Queue is an AWS::SQS::Queue, with SQS's defaults filled in.
type Queue struct {
	LogicalID                     string
	QueueName                     Value          `json:",omitzero"` // explicit physical name, if any
	VisibilityTimeout             int            // seconds
	MessageRetentionPeriod        int            // seconds
	DelaySeconds                  int            `json:",omitempty"`
	MaximumMessageSize            int            `json:",omitempty"` // bytes; 0 leaves SQS's default
	ReceiveMessageWaitTimeSeconds int            `json:",omitempty"`
	RedrivePolicy                 *RedrivePolicy `json:",omitempty"`
	FifoQueue                     bool           `json:",omitempty"`
	ContentBasedDeduplication     bool           `json:",omitempty"`
	Generated                     bool           `json:",omitempty"` // created by SAM (a rule's DeadLetterConfig Type: SQS), not declared
}

// RedrivePolicy sends a message to a dead-letter queue after MaxReceiveCount receives.
type RedrivePolicy struct {
	DeadLetterTargetArn Value // usually !GetAtt DLQ.Arn
	MaxReceiveCount     int
}

// Table is an AWS::DynamoDB::Table.
type Table struct {
	LogicalID              string
	TableName              Value `json:",omitzero"` // explicit physical name, if any
	AttributeDefinitions   []AttributeDefinition
	KeySchema              []KeyElement
	GlobalSecondaryIndexes []SecondaryIndex `json:",omitempty"`
	LocalSecondaryIndexes  []SecondaryIndex `json:",omitempty"`
	BillingMode            string           // PROVISIONED (CloudFormation's default) or PAY_PER_REQUEST
	ProvisionedThroughput  *Throughput      `json:",omitempty"`
	TimeToLive             *TimeToLive      `json:",omitempty"`
	StreamViewType         string           `json:",omitempty"` // set when the table has a stream
}

// AttributeDefinition declares the type of a key attribute (S, N or B).
type AttributeDefinition struct {
	AttributeName string
	AttributeType string
}

// KeyElement is one attribute of a key schema (HASH or RANGE).
type KeyElement struct {
	AttributeName string
	KeyType       string
}

// SecondaryIndex is a global or local secondary index.
type SecondaryIndex struct {
	IndexName             string
	KeySchema             []KeyElement
	Projection            Projection
	ProvisionedThroughput *Throughput `json:",omitempty"`
}

// Projection says which attributes an index holds.
type Projection struct {
	ProjectionType   string   // ALL, KEYS_ONLY or INCLUDE
	NonKeyAttributes []string `json:",omitempty"`
}

// Throughput is provisioned capacity.
type Throughput struct {
	ReadCapacityUnits  int64
	WriteCapacityUnits int64
}

// TimeToLive is the table's TTL setting.
type TimeToLive struct {
	AttributeName string
	Enabled       bool
}

// Bus is an AWS::Events::EventBus.
type Bus struct {
	LogicalID string
	Name      Value
}

// CreateTableInput returns the request that creates t under the given name. Time to
// live is not part of it: it is set afterwards with UpdateTimeToLive.
func (t Table) CreateTableInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		KeySchema:   keySchema(t.KeySchema),
		BillingMode: types.BillingMode(t.BillingMode),
	}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	in.ProvisionedThroughput = throughput(t.ProvisionedThroughput)
	for _, g := range t.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g.GlobalSecondaryIndex())
	}
	for _, l := range t.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchema(l.KeySchema),
			Projection: l.Projection.projection(),
		})
	}
	if t.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(t.StreamViewType),
		}
	}
	return in
}

// GlobalSecondaryIndex returns the index as the DynamoDB API describes it.
func (s SecondaryIndex) GlobalSecondaryIndex() types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:             aws.String(s.IndexName),
		KeySchema:             keySchema(s.KeySchema),
		Projection:            s.Projection.projection(),
		ProvisionedThroughput: throughput(s.ProvisionedThroughput),
	}
}

func keySchema(ks []KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(ks))
	for i, k := range ks {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

func throughput(t *Throughput) *types.ProvisionedThroughput {
	if t == nil {
		return nil
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(t.ReadCapacityUnits),
		WriteCapacityUnits: aws.Int64(t.WriteCapacityUnits),
	}
}

func (p Projection) projection() *types.Projection {
	out := &types.Projection{ProjectionType: types.ProjectionType(p.ProjectionType)}
	if len(p.NonKeyAttributes) > 0 {
		out.NonKeyAttributes = p.NonKeyAttributes
	}
	return out
}

func (p *parser) queue(id string, props Value) Queue {
	path := "Resources." + id + ".Properties"
	p.checkKeys(props, path, "QueueName", "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
		"MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "RedriveAllowPolicy",
		"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
		"SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "Tags")
	q := Queue{
		LogicalID:                     id,
		QueueName:                     props.Field("QueueName"),
		VisibilityTimeout:             p.integer(props, path, "VisibilityTimeout", defaultQueueVisibilityTimeout),
		MessageRetentionPeriod:        p.integer(props, path, "MessageRetentionPeriod", defaultQueueMessageRetention),
		DelaySeconds:                  p.integer(props, path, "DelaySeconds", 0),
		MaximumMessageSize:            p.integer(props, path, "MaximumMessageSize", 0),
		ReceiveMessageWaitTimeSeconds: p.integer(props, path, "ReceiveMessageWaitTimeSeconds", 0),
		FifoQueue:                     p.boolean(props, path, "FifoQueue", false),
		ContentBasedDeduplication:     p.boolean(props, path, "ContentBasedDeduplication", false),
	}
	rp := props.Field("RedrivePolicy")
	rpath := path + ".RedrivePolicy"
	if rp.kind == KindString { // CloudFormation also takes the policy as a JSON string
		var policy struct {
			DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
			MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(rp.text), &policy); err != nil {
			p.fail(rpath, rp.line, "want a map or a JSON object: %v", err)
			return q
		}
		rp = Value{kind: KindMap, line: rp.line, keys: []string{"deadLetterTargetArn", "maxReceiveCount"}, vals: map[string]Value{
			"deadLetterTargetArn": Literal(policy.DeadLetterTargetArn),
			"maxReceiveCount":     {kind: KindNumber, text: string(policy.MaxReceiveCount)},
		}}
		if len(policy.MaxReceiveCount) > 0 && policy.MaxReceiveCount[0] == '"' {
			var s string
			_ = json.Unmarshal(policy.MaxReceiveCount, &s) // a valid JSON string, checked above
			rp.vals["maxReceiveCount"] = Literal(s)
		}
	}
	if !rp.IsZero() {
		if rp.kind != KindMap {
			p.fail(rpath, rp.line, "want a map, got %s", rp)
			return q
		}
		p.checkKeys(rp, rpath, "deadLetterTargetArn", "maxReceiveCount")
		q.RedrivePolicy = &RedrivePolicy{
			DeadLetterTargetArn: rp.Field("deadLetterTargetArn"),
			MaxReceiveCount:     p.integer(rp, rpath, "maxReceiveCount", 0),
		}
		if q.RedrivePolicy.DeadLetterTargetArn.IsZero() {
			p.fail(rpath+".deadLetterTargetArn", rp.line, "missing")
		}
		if n := q.RedrivePolicy.MaxReceiveCount; n < 1 || n > 1000 {
			p.fail(rpath+".maxReceiveCount", rp.line, "want 1 to 1000, got %d", n)
		}
	}
	return q
}

func (p *parser) table(id string, props Value) Table {
	path := "Resources." + id + ".Properties"
	p.checkKeys(props, path, "TableName", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
		"LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput", "TimeToLiveSpecification",
		"StreamSpecification", "PointInTimeRecoverySpecification", "SSESpecification",
		"DeletionProtectionEnabled", "TableClass", "Tags", "ContributorInsightsSpecification",
		"KinesisStreamSpecification", "ResourcePolicy", "OnDemandThroughput", "WarmThroughput")
	t := Table{
		LogicalID:   id,
		TableName:   props.Field("TableName"),
		BillingMode: p.str(props, path, "BillingMode"),
		KeySchema:   p.keySchema(props, path),
	}
	if t.BillingMode == "" {
		t.BillingMode = string(types.BillingModeProvisioned)
	}
	ad := props.Field("AttributeDefinitions")
	if ad.kind != KindList {
		p.fail(path+".AttributeDefinitions", props.line, "want a list, got %s", ad)
	}
	for i, a := range ad.Items() {
		apath := fmt.Sprintf("%s.AttributeDefinitions[%d]", path, i)
		p.checkKeys(a, apath, "AttributeName", "AttributeType")
		t.AttributeDefinitions = append(t.AttributeDefinitions, AttributeDefinition{
			AttributeName: p.str(a, apath, "AttributeName"),
			AttributeType: p.str(a, apath, "AttributeType"),
		})
	}
	t.ProvisionedThroughput = p.throughput(props, path)
	if t.BillingMode == string(types.BillingModeProvisioned) && t.ProvisionedThroughput == nil {
		p.fail(path+".ProvisionedThroughput", props.line, "missing (BillingMode is PROVISIONED)")
	}
	t.GlobalSecondaryIndexes = p.indexes(props, path, "GlobalSecondaryIndexes")
	t.LocalSecondaryIndexes = p.indexes(props, path, "LocalSecondaryIndexes")
	if ttl := p.mapField(props, path, "TimeToLiveSpecification"); !ttl.IsZero() {
		tpath := path + ".TimeToLiveSpecification"
		p.checkKeys(ttl, tpath, "AttributeName", "Enabled")
		t.TimeToLive = &TimeToLive{
			AttributeName: p.str(ttl, tpath, "AttributeName"),
			Enabled:       p.boolean(ttl, tpath, "Enabled", false),
		}
		if t.TimeToLive.AttributeName == "" && t.TimeToLive.Enabled {
			p.fail(tpath+".AttributeName", ttl.line, "missing")
		}
	}
	if ss := p.mapField(props, path, "StreamSpecification"); !ss.IsZero() {
		t.StreamViewType = p.str(ss, path+".StreamSpecification", "StreamViewType")
	}
	return t
}

func (p *parser) keySchema(m Value, path string) []KeyElement {
	ks := m.Field("KeySchema")
	if ks.kind != KindList || len(ks.items) == 0 {
		p.fail(path+".KeySchema", m.line, "want a list of key elements, got %s", ks)
		return nil
	}
	out := make([]KeyElement, 0, len(ks.items))
	for i, k := range ks.items {
		kpath := fmt.Sprintf("%s.KeySchema[%d]", path, i)
		p.checkKeys(k, kpath, "AttributeName", "KeyType")
		out = append(out, KeyElement{AttributeName: p.str(k, kpath, "AttributeName"), KeyType: p.str(k, kpath, "KeyType")})
	}
	return out
}

func (p *parser) throughput(m Value, path string) *Throughput {
	pt := p.mapField(m, path, "ProvisionedThroughput")
	if pt.IsZero() {
		return nil
	}
	path += ".ProvisionedThroughput"
	p.checkKeys(pt, path, "ReadCapacityUnits", "WriteCapacityUnits")
	return &Throughput{
		ReadCapacityUnits:  int64(p.integer(pt, path, "ReadCapacityUnits", 0)),
		WriteCapacityUnits: int64(p.integer(pt, path, "WriteCapacityUnits", 0)),
	}
}

func (p *parser) indexes(m Value, path, key string) []SecondaryIndex {
	list := m.Field(key)
	if list.IsZero() {
		return nil
	}
	if list.kind != KindList {
		p.fail(path+"."+key, list.line, "want a list, got %s", list)
		return nil
	}
	var out []SecondaryIndex
	for i, ix := range list.items {
		ipath := fmt.Sprintf("%s.%s[%d]", path, key, i)
		p.checkKeys(ix, ipath, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput",
			"ContributorInsightsSpecification", "OnDemandThroughput", "WarmThroughput")
		proj := p.mapField(ix, ipath, "Projection")
		p.checkKeys(proj, ipath+".Projection", "ProjectionType", "NonKeyAttributes")
		s := SecondaryIndex{
			IndexName: p.str(ix, ipath, "IndexName"),
			KeySchema: p.keySchema(ix, ipath),
			Projection: Projection{
				ProjectionType:   p.str(proj, ipath+".Projection", "ProjectionType"),
				NonKeyAttributes: p.strList(proj, ipath+".Projection", "NonKeyAttributes"),
			},
			ProvisionedThroughput: p.throughput(ix, ipath),
		}
		if s.IndexName == "" {
			p.fail(ipath+".IndexName", ix.line, "missing")
		}
		if s.Projection.ProjectionType == "" {
			p.fail(ipath+".Projection.ProjectionType", ix.line, "missing")
		}
		out = append(out, s)
	}
	return out
}
