package template

import (
	"fmt"
	"slices"
	"strings"
)

// EventRule is an AWS::Events::Rule: a rule on a bus with its targets, as a user adds
// one to route stored events (the README's "Routing with your own rules").
type EventRule struct {
	LogicalID    string
	Name         Value  `json:",omitzero"` // explicit physical name; the logical id otherwise
	Description  string `json:",omitempty"`
	EventBusName Value  // "default" when omitted
	// EventPattern is the pattern as written: a map, or a JSON string. It may hold
	// intrinsic functions; resolve it with ResolveAll.
	EventPattern Value `json:",omitzero"`
	// ScheduleExpression is kept to warn about it: schedules do not run locally.
	ScheduleExpression string `json:",omitempty"`
	State              string // ENABLED or DISABLED
	Targets            []EventTarget
}

// EventTarget is one target of an AWS::Events::Rule.
type EventTarget struct {
	ID               string
	Arn              Value
	Input            string            `json:",omitempty"`
	InputPath        string            `json:",omitempty"`
	InputTransformer *InputTransformer `json:",omitempty"`
	// RetryPolicy is nil when the template leaves EventBridge's defaults.
	RetryPolicy    *RetryPolicy    `json:",omitempty"`
	DeadLetterArn  Value           `json:",omitzero"`
	HTTPParameters *HTTPParameters `json:",omitempty"`
	MessageGroupID string          `json:",omitempty"` // SqsParameters.MessageGroupId
}

// InputTransformer is a target's InputTransformer.
type InputTransformer struct {
	InputPathsMap map[string]string `json:",omitempty"`
	InputTemplate string
}

// HTTPParameters are a target's HttpParameters (for API destinations).
type HTTPParameters struct {
	HeaderParameters      map[string]string `json:",omitempty"`
	PathParameterValues   []string          `json:",omitempty"`
	QueryStringParameters map[string]string `json:",omitempty"`
}

// Target properties of other kinds of targets (ECS tasks, Kinesis streams, ...): the
// local stack cannot run those targets and says so.
var otherTargetParameters = []string{"AppSyncParameters", "BatchParameters", "EcsParameters", "KinesisParameters",
	"RedshiftDataParameters", "RunCommandParameters", "SageMakerPipelineParameters"}

func (p *parser) eventRule(id string, props Value) EventRule {
	path := "Resources." + id + ".Properties"
	p.checkKeys(props, path, "Name", "Description", "EventBusName", "EventPattern", "ScheduleExpression",
		"State", "Targets", "RoleArn")
	r := EventRule{
		LogicalID:          id,
		Name:               props.Field("Name"),
		Description:        p.str(props, path, "Description"),
		EventBusName:       props.Field("EventBusName"),
		EventPattern:       props.Field("EventPattern"),
		ScheduleExpression: p.str(props, path, "ScheduleExpression"),
		State:              p.str(props, path, "State"),
	}
	if r.EventBusName.IsZero() {
		r.EventBusName = Literal(defaultEventBus)
	}
	switch r.State {
	case "":
		r.State = defaultRuleState
	case "ENABLED", "DISABLED":
	case "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
		r.State = defaultRuleState // the local bus carries no CloudTrail events
	default:
		p.fail(path+".State", props.Field("State").line, "want ENABLED or DISABLED, got %q", r.State)
	}
	switch pat := r.EventPattern; {
	case pat.IsZero() && r.ScheduleExpression == "":
		p.fail(path, props.line, "want EventPattern or ScheduleExpression")
	case pat.IsZero():
		p.warn(path+".ScheduleExpression", props.Field("ScheduleExpression").line,
			"rule %s runs on a schedule (%s): schedules do not run locally, so this rule never fires in the local stack", id, r.ScheduleExpression)
	case pat.kind != KindMap && pat.kind != KindString && !pat.hasIntrinsic():
		p.fail(path+".EventPattern", pat.line, "want a map or a JSON string, got %s", pat)
	case r.ScheduleExpression != "":
		p.warn(path+".ScheduleExpression", props.Field("ScheduleExpression").line,
			"rule %s also has a schedule (%s): schedules do not run locally, only its EventPattern does", id, r.ScheduleExpression)
	}

	targets := props.Field("Targets")
	if !targets.IsZero() && targets.kind != KindList {
		p.fail(path+".Targets", targets.line, "want a list, got %s", targets)
	}
	for i, t := range targets.Items() {
		r.Targets = append(r.Targets, p.eventTarget(id, t, fmt.Sprintf("%s.Targets[%d]", path, i)))
	}
	if len(r.Targets) == 0 {
		p.warn(path+".Targets", props.line, "rule %s has no targets: it matches events and sends them nowhere", id)
	}
	return r
}

func (p *parser) eventTarget(ruleID string, t Value, path string) EventTarget {
	if t.kind != KindMap {
		p.fail(path, t.line, "want a map, got %s", t)
		return EventTarget{}
	}
	p.checkKeys(t, path, append([]string{"Id", "Arn", "Input", "InputPath", "InputTransformer", "RetryPolicy",
		"DeadLetterConfig", "HttpParameters", "SqsParameters", "RoleArn"}, otherTargetParameters...)...)
	et := EventTarget{
		ID:        p.str(t, path, "Id"),
		Arn:       t.Field("Arn"),
		Input:     p.str(t, path, "Input"),
		InputPath: p.str(t, path, "InputPath"),
	}
	if et.ID == "" {
		p.fail(path+".Id", t.line, "missing")
	}
	if et.Arn.IsZero() {
		p.fail(path+".Arn", t.line, "missing")
	}
	for _, k := range otherTargetParameters {
		if _, ok := t.Get(k); ok {
			p.warn(path+"."+k, t.Field(k).line, "rule %s target %s: %s are not run by the local stack", ruleID, et.ID, k)
		}
	}
	if it := p.mapField(t, path, "InputTransformer"); !it.IsZero() {
		ipath := path + ".InputTransformer"
		p.checkKeys(it, ipath, "InputPathsMap", "InputTemplate")
		et.InputTransformer = &InputTransformer{InputTemplate: p.str(it, ipath, "InputTemplate"), InputPathsMap: p.strMap(it, ipath, "InputPathsMap")}
		if et.InputTransformer.InputTemplate == "" {
			p.fail(ipath+".InputTemplate", it.line, "missing")
		}
	}
	if rp := p.mapField(t, path, "RetryPolicy"); !rp.IsZero() {
		rpath := path + ".RetryPolicy"
		p.checkKeys(rp, rpath, "MaximumRetryAttempts", "MaximumEventAgeInSeconds")
		et.RetryPolicy = &RetryPolicy{
			MaximumRetryAttempts:     p.integer(rp, rpath, "MaximumRetryAttempts", DefaultRuleRetryAttempts),
			MaximumEventAgeInSeconds: p.integer(rp, rpath, "MaximumEventAgeInSeconds", DefaultRuleMaxEventAge),
		}
	}
	if dlc := p.mapField(t, path, "DeadLetterConfig"); !dlc.IsZero() {
		p.checkKeys(dlc, path+".DeadLetterConfig", "Arn")
		et.DeadLetterArn = dlc.Field("Arn")
	}
	if hp := p.mapField(t, path, "HttpParameters"); !hp.IsZero() {
		hpath := path + ".HttpParameters"
		p.checkKeys(hp, hpath, "HeaderParameters", "PathParameterValues", "QueryStringParameters")
		et.HTTPParameters = &HTTPParameters{
			HeaderParameters:      p.strMap(hp, hpath, "HeaderParameters"),
			PathParameterValues:   p.strList(hp, hpath, "PathParameterValues"),
			QueryStringParameters: p.strMap(hp, hpath, "QueryStringParameters"),
		}
	}
	if sp := p.mapField(t, path, "SqsParameters"); !sp.IsZero() {
		p.checkKeys(sp, path+".SqsParameters", "MessageGroupId")
		et.MessageGroupID = p.str(sp, path+".SqsParameters", "MessageGroupId")
	}
	return et
}

// strMap reads a map of literal strings.
func (p *parser) strMap(m Value, path, key string) map[string]string {
	v := p.mapField(m, path, key)
	if v.IsZero() {
		return nil
	}
	out := make(map[string]string, len(v.keys))
	for _, k := range v.keys {
		out[k] = p.literal(v.vals[k], joinPath(joinPath(path, key), k))
	}
	return out
}

// Resource types the local stack reads but that change nothing locally:
// permissions and log settings are not enforced or kept by the emulators.
var noLocalEffect = []string{
	"AWS::SQS::QueuePolicy", "AWS::Events::EventBusPolicy", "AWS::Lambda::Permission",
	"AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
}

// noteResource records what the local stack does with a resource of a type it does
// not run: nothing, visibly.
func (p *parser) noteResource(id string, typ string, line int) {
	path := "Resources." + id
	switch {
	case typ == TypeHTTPAPI:
		// its routes are the functions' HttpApi events
	case slices.Contains(noLocalEffect, typ):
		p.notes = append(p.notes, errAt(path, line, "%s (%s) has no effect locally: the local stack does not enforce permissions or keep logs in AWS", id, typ))
	case strings.HasPrefix(typ, "AWS::Serverless::"), strings.HasPrefix(typ, "AWS::"), strings.HasPrefix(typ, "Custom::"):
		p.warn(path, line, "%s (%s) is not supported by the local stack: it is not created locally, and whatever uses it works only in AWS", id, typ)
	}
}

func (p *parser) warn(path string, line int, format string, args ...any) {
	p.warnings = append(p.warnings, errAt(path, line, format, args...))
}
