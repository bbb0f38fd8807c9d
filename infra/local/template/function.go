package template

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Lambda and SAM defaults the template may leave out.
const (
	DefaultTimeout                  = 3     // seconds
	DefaultMemorySize               = 128   // MB
	DefaultAsyncRetryAttempts       = 2     // asynchronous invocation retries
	DefaultAsyncMaxEventAge         = 21600 // seconds
	DefaultRuleRetryAttempts        = 185   // EventBridge target retries
	DefaultRuleMaxEventAge          = 86400 // seconds
	DefaultSQSBatchSize             = 10
	implicitHTTPAPI                 = "ServerlessHttpApi" // the API SAM creates for HttpApi events without ApiId
	defaultEventBus                 = "default"
	reportBatchItemFailures         = "ReportBatchItemFailures"
	defaultQueueVisibilityTimeout   = 30
	defaultQueueMessageRetention    = 345600
	defaultLogFormat                = "Text"
	defaultArchitecture             = "x86_64"
	defaultRuleState                = "ENABLED"
	defaultHTTPPayloadFormatVersion = "2.0"
)

// Function is an AWS::Serverless::Function with Globals merged in.
type Function struct {
	LogicalID         string
	FunctionName      Value  `json:",omitzero"` // explicit physical name, if any
	Description       string `json:",omitempty"`
	CodeURI           string
	Handler           string
	Runtime           string
	Architectures     []string
	MemorySize        int // MB
	Timeout           int // seconds
	Environment       map[string]Value
	LoggingConfig     LoggingConfig
	Policies          Value `json:",omitzero"` // as written
	Role              Value `json:",omitzero"` // an explicit execution role; SAM generates <LogicalID>Role without it
	EventInvokeConfig EventInvokeConfig
	BuildMethod       string      `json:",omitempty"` // Metadata.BuildMethod
	Metadata          Value       `json:",omitzero"`
	Routes            []Route     `json:",omitempty"` // HttpApi events, sorted by event name
	Rules             []Rule      `json:",omitempty"` // EventBridgeRule events, sorted by event name
	SQSSources        []SQSSource `json:",omitempty"` // SQS events and event source mappings, sorted by name
	OtherEvents       []Event     `json:",omitempty"` // events of types the local stack does not run
}

// LoggingConfig is the function's LoggingConfig.
type LoggingConfig struct {
	LogFormat           string // Text or JSON
	ApplicationLogLevel string `json:",omitempty"`
	SystemLogLevel      string `json:",omitempty"`
	LogGroup            Value  `json:",omitzero"` // a literal name or !Ref of an AWS::Logs::LogGroup
}

// EventInvokeConfig is how Lambda handles asynchronous invocations of the function:
// the template's EventInvokeConfig with Lambda's defaults filled in.
type EventInvokeConfig struct {
	MaximumRetryAttempts     int
	MaximumEventAgeInSeconds int
	OnSuccess                *Destination `json:",omitempty"`
	OnFailure                *Destination `json:",omitempty"`
}

// Destination is an OnSuccess or OnFailure destination.
type Destination struct {
	Type        string // SQS, SNS, Lambda, EventBridge, S3Bucket
	Destination Value  `json:",omitzero"` // usually !GetAtt Queue.Arn
}

// Route is an HttpApi event: one route of an HTTP API.
type Route struct {
	Event                string // the event's key under Events
	Method               string // upper case; ANY for any method
	Path                 string // as written, e.g. /events/{id}; $default for the default route
	ApiID                Value  // !Ref of the HTTP API; !Ref ServerlessHttpApi when omitted
	PayloadFormatVersion string
	TimeoutInMillis      int `json:",omitempty"`
}

// Rule is an EventBridgeRule event: a rule on a bus targeting the function.
type Rule struct {
	Name             string          // the event's key under Events
	EventBusName     Value           // "default" when omitted
	Pattern          json.RawMessage // the event pattern as JSON
	RetryPolicy      RetryPolicy
	DeadLetterConfig *DeadLetterConfig `json:",omitempty"`
	Input            string            `json:",omitempty"`
	InputPath        string            `json:",omitempty"`
	InputTransformer *InputTransformer `json:",omitempty"`
	RuleName         Value             `json:",omitzero"`
	State            string            // ENABLED or DISABLED
}

// RetryPolicy is a rule target's retry policy with EventBridge's defaults filled in.
type RetryPolicy struct {
	MaximumRetryAttempts     int
	MaximumEventAgeInSeconds int
}

// DeadLetterConfig is where EventBridge puts events it could not deliver. When the
// template asks SAM to create the queue (Type: SQS), Arn points to that queue, which
// is added to Template.Queues.
type DeadLetterConfig struct {
	Arn            Value
	Type           string `json:",omitempty"`
	QueueLogicalID string `json:",omitempty"`
}

// SQSSource is an SQS event: an event source mapping from a queue to the function,
// written as an SQS event of the function or as an AWS::Lambda::EventSourceMapping
// resource.
type SQSSource struct {
	Name                           string // the event's key under Events, or the mapping's logical id
	Mapping                        bool   `json:",omitempty"` // an AWS::Lambda::EventSourceMapping resource
	Queue                          Value  // the queue ARN, usually !GetAtt Queue.Arn
	BatchSize                      int
	MaximumBatchingWindowInSeconds int
	FunctionResponseTypes          []string `json:",omitempty"`
	Enabled                        bool
	MaximumConcurrency             int `json:",omitempty"` // ScalingConfig.MaximumConcurrency
}

// ReportBatchItemFailures reports whether the function answers with batchItemFailures.
func (s SQSSource) ReportBatchItemFailures() bool {
	return slices.Contains(s.FunctionResponseTypes, reportBatchItemFailures)
}

// Event names an event of a type the local stack does not run (Schedule, Api, S3...).
type Event struct {
	Name string
	Type string
}

// ResolveEnv resolves the function's environment variables.
func (t *Template) ResolveEnv(f Function, r Resolver) (map[string]string, error) {
	env := make(map[string]string, len(f.Environment))
	for _, k := range slices.Sorted(maps.Keys(f.Environment)) {
		s, err := f.Environment[k].Resolve(r)
		if err != nil {
			return nil, fmt.Errorf("%s: environment variable %s: %w", f.LogicalID, k, err)
		}
		env[k] = s
	}
	return env, nil
}

func (p *parser) function(id string, props, metadata Value, t *Template) Function {
	path := "Resources." + id + ".Properties"
	f := Function{
		LogicalID:     id,
		FunctionName:  props.Field("FunctionName"),
		Description:   p.str(props, path, "Description"),
		CodeURI:       p.str(props, path, "CodeUri"),
		Handler:       p.str(props, path, "Handler"),
		Runtime:       p.str(props, path, "Runtime"),
		Architectures: p.strList(props, path, "Architectures"),
		MemorySize:    p.integer(props, path, "MemorySize", DefaultMemorySize),
		Timeout:       p.integer(props, path, "Timeout", DefaultTimeout),
		Environment:   map[string]Value{},
		Policies:      props.Field("Policies"),
		Role:          props.Field("Role"),
		Metadata:      metadata,
		BuildMethod:   p.str(metadata, "Resources."+id+".Metadata", "BuildMethod"),
	}
	if len(f.Architectures) == 0 {
		f.Architectures = []string{defaultArchitecture}
	}
	if f.CodeURI == "" {
		p.fail(path+".CodeUri", props.line, "missing: the local stack runs functions from a local directory")
	}

	env := p.mapField(props, path, "Environment")
	vars := p.mapField(env, path+".Environment", "Variables")
	for _, k := range vars.Keys() {
		v := vars.Field(k)
		if v.kind == KindList || v.kind == KindMap || v.kind == KindNull {
			p.fail(path+".Environment.Variables."+k, v.line, "want a string, got %s", v)
		}
		f.Environment[k] = v
	}

	lc := p.mapField(props, path, "LoggingConfig")
	lpath := path + ".LoggingConfig"
	f.LoggingConfig = LoggingConfig{
		LogFormat:           p.str(lc, lpath, "LogFormat"),
		ApplicationLogLevel: p.str(lc, lpath, "ApplicationLogLevel"),
		SystemLogLevel:      p.str(lc, lpath, "SystemLogLevel"),
		LogGroup:            lc.Field("LogGroup"),
	}
	if f.LoggingConfig.LogFormat == "" {
		f.LoggingConfig.LogFormat = defaultLogFormat
	}

	eic := p.mapField(props, path, "EventInvokeConfig")
	epath := path + ".EventInvokeConfig"
	f.EventInvokeConfig = EventInvokeConfig{
		MaximumRetryAttempts:     p.integer(eic, epath, "MaximumRetryAttempts", DefaultAsyncRetryAttempts),
		MaximumEventAgeInSeconds: p.integer(eic, epath, "MaximumEventAgeInSeconds", DefaultAsyncMaxEventAge),
	}
	dc := p.mapField(eic, epath, "DestinationConfig")
	f.EventInvokeConfig.OnSuccess = p.destination(dc, epath+".DestinationConfig", "OnSuccess")
	f.EventInvokeConfig.OnFailure = p.destination(dc, epath+".DestinationConfig", "OnFailure")

	events := p.mapField(props, path, "Events")
	for _, name := range events.Keys() {
		ev := events.Field(name)
		evPath := path + ".Events." + name
		if ev.kind != KindMap {
			p.fail(evPath, ev.line, "want a map, got %s", ev)
			continue
		}
		p.checkKeys(ev, evPath, "Type", "Properties")
		typ := p.str(ev, evPath, "Type")
		ep := p.mapField(ev, evPath, "Properties")
		epPath := evPath + ".Properties"
		switch typ {
		case "HttpApi":
			f.Routes = append(f.Routes, p.route(name, ep, epPath))
		case "EventBridgeRule", "CloudWatchEvent": // CloudWatchEvent is the older name of the same event source
			f.Rules = append(f.Rules, p.rule(id, name, ep, epPath, t))
		case "SQS":
			f.SQSSources = append(f.SQSSources, p.sqsSource(name, ep, epPath))
		case "":
			p.fail(evPath+".Type", ev.line, "missing")
		default:
			f.OtherEvents = append(f.OtherEvents, Event{Name: name, Type: typ})
			p.warn(evPath, ev.line, "%s event %s (Type: %s) is not run by the local stack: the local stack runs HttpApi, EventBridgeRule and SQS events", id, name, typ)
		}
	}
	slices.SortFunc(f.Routes, func(a, b Route) int { return strings.Compare(a.Event, b.Event) })
	slices.SortFunc(f.Rules, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(f.SQSSources, func(a, b SQSSource) int { return strings.Compare(a.Name, b.Name) })
	return f
}

func (p *parser) destination(dc Value, path, key string) *Destination {
	d := p.mapField(dc, path, key)
	if d.IsZero() {
		return nil
	}
	path = path + "." + key
	p.checkKeys(d, path, "Type", "Destination")
	return &Destination{Type: p.str(d, path, "Type"), Destination: d.Field("Destination")}
}

func (p *parser) route(name string, ep Value, path string) Route {
	p.checkKeys(ep, path, "ApiId", "Method", "Path", "PayloadFormatVersion", "TimeoutInMillis", "Auth", "RouteSettings")
	r := Route{
		Event:                name,
		Method:               strings.ToUpper(p.str(ep, path, "Method")),
		Path:                 p.str(ep, path, "Path"),
		ApiID:                ep.Field("ApiId"),
		PayloadFormatVersion: p.str(ep, path, "PayloadFormatVersion"),
		TimeoutInMillis:      p.integer(ep, path, "TimeoutInMillis", 0),
	}
	if r.ApiID.IsZero() {
		r.ApiID = Ref(implicitHTTPAPI)
	}
	if r.PayloadFormatVersion == "" {
		r.PayloadFormatVersion = defaultHTTPPayloadFormatVersion
	}
	switch {
	case r.Method == "" && r.Path == "": // SAM's default route
		r.Method, r.Path = "ANY", "$default"
	case r.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
		r.Method = "ANY"
	}
	switch {
	case r.Method == "":
		p.fail(path+".Method", ep.line, "missing (Path is set)")
	case r.Path == "":
		p.fail(path+".Path", ep.line, "missing (Method is set)")
	case r.Path != "$default" && !strings.HasPrefix(r.Path, "/"):
		p.fail(path+".Path", ep.Field("Path").line, "want a path starting with /, got %q", r.Path)
	}
	return r
}

func (p *parser) rule(fnID, name string, ep Value, path string, t *Template) Rule {
	p.checkKeys(ep, path, "EventBusName", "Pattern", "RetryPolicy", "DeadLetterConfig", "Input",
		"InputPath", "InputTransformer", "RuleName", "State", "Target")
	r := Rule{
		Name:         name,
		EventBusName: ep.Field("EventBusName"),
		Input:        p.str(ep, path, "Input"),
		InputPath:    p.str(ep, path, "InputPath"),
		RuleName:     ep.Field("RuleName"),
		State:        p.str(ep, path, "State"),
	}
	if r.EventBusName.IsZero() {
		r.EventBusName = Literal(defaultEventBus)
	}
	if r.State == "" {
		r.State = defaultRuleState
	}
	if it := p.mapField(ep, path, "InputTransformer"); !it.IsZero() {
		ipath := path + ".InputTransformer"
		p.checkKeys(it, ipath, "InputPathsMap", "InputTemplate")
		r.InputTransformer = &InputTransformer{InputTemplate: p.str(it, ipath, "InputTemplate"), InputPathsMap: p.strMap(it, ipath, "InputPathsMap")}
	}
	pattern := ep.Field("Pattern")
	switch {
	case pattern.IsZero():
		p.fail(path+".Pattern", ep.line, "missing")
	case pattern.kind != KindMap:
		p.fail(path+".Pattern", pattern.line, "want a map, got %s", pattern)
	case pattern.hasIntrinsic():
		p.fail(path+".Pattern", pattern.line, "intrinsic functions in event patterns are not supported by the local stack")
	default:
		data, err := pattern.MarshalJSON()
		if err != nil {
			p.fail(path+".Pattern", pattern.line, "%v", err)
		}
		r.Pattern = data
	}

	rp := p.mapField(ep, path, "RetryPolicy")
	p.checkKeys(rp, path+".RetryPolicy", "MaximumRetryAttempts", "MaximumEventAgeInSeconds")
	r.RetryPolicy = RetryPolicy{
		MaximumRetryAttempts:     p.integer(rp, path+".RetryPolicy", "MaximumRetryAttempts", DefaultRuleRetryAttempts),
		MaximumEventAgeInSeconds: p.integer(rp, path+".RetryPolicy", "MaximumEventAgeInSeconds", DefaultRuleMaxEventAge),
	}

	dlc := p.mapField(ep, path, "DeadLetterConfig")
	if !dlc.IsZero() {
		dpath := path + ".DeadLetterConfig"
		p.checkKeys(dlc, dpath, "Arn", "Type", "QueueLogicalId")
		d := &DeadLetterConfig{
			Arn:            dlc.Field("Arn"),
			Type:           p.str(dlc, dpath, "Type"),
			QueueLogicalID: p.str(dlc, dpath, "QueueLogicalId"),
		}
		switch {
		case !d.Arn.IsZero() && d.Type != "":
			p.fail(dpath, dlc.line, "set Arn or Type, not both")
		case d.Arn.IsZero() && d.Type == "SQS":
			// SAM creates the queue: <Function><Event>Queue unless QueueLogicalId names it.
			qid := d.QueueLogicalID
			if qid == "" {
				qid = fnID + name + "Queue"
			}
			t.Queues = append(t.Queues, Queue{
				LogicalID:              qid,
				VisibilityTimeout:      defaultQueueVisibilityTimeout,
				MessageRetentionPeriod: defaultQueueMessageRetention,
				Generated:              true,
			})
			d.Arn = GetAtt(qid, "Arn")
		case d.Arn.IsZero():
			p.fail(dpath, dlc.line, "want Arn, or Type: SQS")
		}
		r.DeadLetterConfig = d
	}
	return r
}

func (p *parser) sqsSource(name string, ep Value, path string) SQSSource {
	p.checkKeys(ep, path, "Queue", "BatchSize", "MaximumBatchingWindowInSeconds",
		"FunctionResponseTypes", "Enabled", "ScalingConfig")
	s := SQSSource{
		Name:                           name,
		Queue:                          ep.Field("Queue"),
		BatchSize:                      p.integer(ep, path, "BatchSize", DefaultSQSBatchSize),
		MaximumBatchingWindowInSeconds: p.integer(ep, path, "MaximumBatchingWindowInSeconds", 0),
		FunctionResponseTypes:          p.strList(ep, path, "FunctionResponseTypes"),
		Enabled:                        p.boolean(ep, path, "Enabled", true),
	}
	sc := p.mapField(ep, path, "ScalingConfig")
	p.checkKeys(sc, path+".ScalingConfig", "MaximumConcurrency")
	s.MaximumConcurrency = p.integer(sc, path+".ScalingConfig", "MaximumConcurrency", 0)
	if s.Queue.IsZero() {
		p.fail(path+".Queue", ep.line, "missing")
	}
	switch {
	case s.BatchSize < 1 || s.BatchSize > 10000:
		p.fail(path+".BatchSize", ep.Field("BatchSize").line, "want 1 to 10000, got %d", s.BatchSize)
	case s.BatchSize > 10 && s.MaximumBatchingWindowInSeconds < 1:
		p.fail(path+".BatchSize", ep.Field("BatchSize").line, "a batch size over 10 needs MaximumBatchingWindowInSeconds of at least 1")
	}
	if s.MaximumBatchingWindowInSeconds < 0 || s.MaximumBatchingWindowInSeconds > 300 {
		p.fail(path+".MaximumBatchingWindowInSeconds", ep.line, "want 0 to 300, got %d", s.MaximumBatchingWindowInSeconds)
	}
	for i, rt := range s.FunctionResponseTypes {
		if rt != reportBatchItemFailures {
			p.fail(fmt.Sprintf("%s.FunctionResponseTypes[%d]", path, i), ep.line, "unknown response type %q", rt)
		}
	}
	return s
}

// eventSourceMapping reads an AWS::Lambda::EventSourceMapping resource from a queue
// of the template into an SQS source of the function it names.
func (p *parser) eventSourceMapping(id string, t *Template) {
	path := "Resources." + id + ".Properties"
	props := t.Resources[id].Properties
	p.checkKeys(props, path, "FunctionName", "EventSourceArn", "BatchSize", "MaximumBatchingWindowInSeconds",
		"FunctionResponseTypes", "Enabled", "ScalingConfig")
	fn, _, ok := props.Field("FunctionName").Target()
	i := slices.IndexFunc(t.Functions, func(f Function) bool { return f.LogicalID == fn })
	if !ok || i < 0 {
		p.fail(path+".FunctionName", props.line, "want !Ref or !GetAtt of a function of the template")
		return
	}
	queue, _, ok := props.Field("EventSourceArn").Target()
	if !ok || !slices.ContainsFunc(t.Queues, func(q Queue) bool { return q.LogicalID == queue }) {
		p.fail(path+".EventSourceArn", props.line, "want !GetAtt of a queue of the template: the local stack runs SQS mappings only")
		return
	}
	ep := props // the mapping's properties under the names of an SQS event's
	ep.vals = maps.Clone(props.vals)
	ep.vals["Queue"] = props.vals["EventSourceArn"]
	ep.keys = append(slices.DeleteFunc(slices.Clone(props.keys), func(k string) bool { return k == "FunctionName" || k == "EventSourceArn" }), "Queue")
	s := p.sqsSource(id, ep, path)
	s.Mapping = true
	f := &t.Functions[i]
	f.SQSSources = append(f.SQSSources, s)
	slices.SortFunc(f.SQSSources, func(a, b SQSSource) int { return strings.Compare(a.Name, b.Name) })
}

// hasIntrinsic reports whether v or anything inside it is an intrinsic function.
func (v Value) hasIntrinsic() bool {
	switch v.kind {
	case KindRef, KindGetAtt, KindSub, KindJoin, KindSelect:
		return true
	}
	for _, it := range v.items {
		if it.hasIntrinsic() {
			return true
		}
	}
	for _, k := range v.keys {
		if v.vals[k].hasIntrinsic() {
			return true
		}
	}
	return false
}
