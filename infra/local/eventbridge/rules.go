package eventbridge

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/shared/pattern"
)

// Rule states.
const (
	stateEnabled  = string(types.RuleStateEnabled)
	stateDisabled = string(types.RuleStateDisabled)
)

// EventBridge's limits on rules and targets.
const (
	maxTargetsPerRule    = 5
	maxTargetsPerRequest = 10
	maxPatternLength     = 4096
	maxRuleNameLength    = 64
	maxTargetIDLength    = 64
	maxRetryAttempts     = 185
	minEventAge          = 60
	maxEventAge          = 86400
)

// rule is a rule on a bus. Its fields change only under e.res.
type rule struct {
	name, bus   string
	pattern     string // EventPattern as given; "" for a Matcher given as a Go value
	matcher     Matcher
	state       string
	description string
	fromAPI     bool // made by PutRule: kept in the state file
	targets     []*target
}

// target is one target of a rule, resolved.
type target struct {
	spec       types.Target // as PutTargets (or the template) gave it
	send       Target
	deadLetter DeadLetter // nil: exhausted events are dropped
	maxRetries int
	maxAge     time.Duration
}

func compilePattern(p string) (Matcher, error) {
	return pattern.Compile([]byte(p))
}

// newTarget resolves a target: its ARN (an API destination of the emulator, or
// whatever Options.Resolve knows) and its dead-letter queue. The target is usable
// even with an error: its deliveries then fail with that error.
func (e *Emulator) newTarget(spec types.Target) (*target, error) {
	t := &target{spec: spec, maxRetries: DefaultMaxRetries, maxAge: DefaultMaxAge}
	if rp := spec.RetryPolicy; rp != nil {
		if rp.MaximumRetryAttempts != nil {
			t.maxRetries = int(*rp.MaximumRetryAttempts)
		}
		if rp.MaximumEventAgeInSeconds != nil {
			t.maxAge = time.Duration(*rp.MaximumEventAgeInSeconds) * time.Second
		}
	}
	send, err := e.resolveARN(deref(spec.Arn), spec)
	if err != nil {
		send = failing{err}
	}
	t.send = send
	if dlc := spec.DeadLetterConfig; dlc != nil && deref(dlc.Arn) != "" {
		dl, dlErr := e.resolveARN(*dlc.Arn, types.Target{})
		if dlErr != nil {
			return t, fmt.Errorf("dead-letter queue: %w", dlErr)
		}
		t.deadLetter = dl
	}
	return t, err
}

// resolveARN finds where an ARN delivers.
func (e *Emulator) resolveARN(arn string, spec types.Target) (Target, error) {
	if name, ok := e.apiDestinationName(arn); ok {
		return &httpTarget{e: e, destination: name, params: spec.HttpParameters}, nil
	}
	if e.resolve == nil {
		return nil, fmt.Errorf("%s: the EventBridge emulator has no targets but API destinations", arn)
	}
	return e.resolve(arn)
}

// failing is a target that cannot be delivered to.
type failing struct{ err error }

func (f failing) Send(context.Context, []byte) error { return f.err }

// busOf finds a bus by name or ARN ("" is the default bus).
func (e *Emulator) busOf(nameOrARN *string) (string, error) {
	name, ok := e.busName(deref(nameOrARN))
	if !ok {
		return "", notFoundf("Event bus %s does not exist.", deref(nameOrARN))
	}
	return name, nil
}

// ruleOf finds a rule; the caller holds e.res.
func (e *Emulator) ruleOf(busName *string, name *string, member string) (*rule, error) {
	if err := checkName(member, name, maxRuleNameLength); err != nil {
		return nil, err
	}
	b, err := e.busOf(busName)
	if err != nil {
		return nil, err
	}
	r := e.rules[b][*name]
	if r == nil {
		return nil, notFoundf("Rule %s does not exist on EventBus %s.", *name, b)
	}
	return r, nil
}

func (e *Emulator) putRule(in *sdk.PutRuleInput) (*sdk.PutRuleOutput, error) {
	if err := checkName("name", in.Name, maxRuleNameLength); err != nil {
		return nil, err
	}
	state := string(in.State)
	switch in.State {
	case "":
		state = stateEnabled
	case types.RuleStateEnabledWithAllCloudtrailManagementEvents:
		state = stateEnabled // the local bus carries no CloudTrail events
	case types.RuleStateEnabled, types.RuleStateDisabled:
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]", in.State)
	}
	if in.ScheduleExpression != nil {
		return nil, validationf("ScheduleExpression is not supported by the local stack's EventBridge emulator: schedules run only in AWS.")
	}
	p := deref(in.EventPattern)
	if p == "" {
		return nil, validationf("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if len(p) > maxPatternLength {
		return nil, validationf("1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to %d", maxPatternLength)
	}
	m, err := compilePattern(p)
	if err != nil {
		return nil, invalidPattern(err)
	}
	b, err := e.busOf(in.EventBusName)
	if err != nil {
		return nil, err
	}
	e.res.Lock()
	defer e.res.Unlock()
	r := e.rules[b][*in.Name]
	if r == nil {
		r = &rule{name: *in.Name, bus: b, fromAPI: true}
		e.rules[b][r.name] = r
	}
	// PutRule replaces the rule: what it does not give is not kept (targets aside).
	r.pattern, r.matcher, r.state, r.description = p, m, state, deref(in.Description)
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.PutRuleOutput{RuleArn: ptr(e.ruleARN(r))}, nil
}

func invalidPattern(err error) error {
	reason := strings.TrimPrefix(err.Error(), "pattern: ")
	return &apiError{http.StatusBadRequest, errInvalidEventPattern, "Event pattern is not valid. Reason: " + reason}
}

func (e *Emulator) describeRule(in *sdk.DescribeRuleInput) (*sdk.DescribeRuleOutput, error) {
	e.res.RLock()
	defer e.res.RUnlock()
	r, err := e.ruleOf(in.EventBusName, in.Name, "name")
	if err != nil {
		return nil, err
	}
	d := e.describe(r)
	return &sdk.DescribeRuleOutput{
		Name: d.Name, Arn: d.Arn, EventPattern: d.EventPattern, State: d.State,
		Description: d.Description, EventBusName: d.EventBusName, CreatedBy: ptr(e.account),
	}, nil
}

// describe is the rule as ListRules shows it; the caller holds e.res.
func (e *Emulator) describe(r *rule) types.Rule {
	out := types.Rule{
		Name:         ptr(r.name),
		Arn:          ptr(e.ruleARN(r)),
		State:        types.RuleState(r.state),
		EventBusName: ptr(r.bus),
	}
	if r.pattern != "" {
		out.EventPattern = ptr(r.pattern)
	}
	if r.description != "" {
		out.Description = ptr(r.description)
	}
	return out
}

func (e *Emulator) listRules(in *sdk.ListRulesInput) (*sdk.ListRulesOutput, error) {
	b, err := e.busOf(in.EventBusName)
	if err != nil {
		return nil, err
	}
	e.res.RLock()
	defer e.res.RUnlock()
	names, next, err := listing(sortedKeys(e.rules[b]), in.NamePrefix, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &sdk.ListRulesOutput{Rules: []types.Rule{}, NextToken: next}
	for _, name := range names {
		out.Rules = append(out.Rules, e.describe(e.rules[b][name]))
	}
	return out, nil
}

func (e *Emulator) deleteRule(in *sdk.DeleteRuleInput) (*sdk.DeleteRuleOutput, error) {
	e.res.Lock()
	defer e.res.Unlock()
	r, err := e.ruleOf(in.EventBusName, in.Name, "name")
	if apiErr, ok := err.(*apiError); ok && apiErr.typ == errNotFound && strings.HasPrefix(apiErr.msg, "Rule ") {
		return &sdk.DeleteRuleOutput{}, nil // deleting a rule that is not there succeeds
	}
	if err != nil {
		return nil, err
	}
	if len(r.targets) > 0 {
		return nil, validationf("Rule can't be deleted since it has targets.")
	}
	delete(e.rules[r.bus], r.name)
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.DeleteRuleOutput{}, nil
}

func (e *Emulator) enableRule(in *sdk.EnableRuleInput) (*sdk.EnableRuleOutput, error) {
	return &sdk.EnableRuleOutput{}, e.setState(in.EventBusName, in.Name, stateEnabled)
}

func (e *Emulator) disableRule(in *sdk.DisableRuleInput) (*sdk.DisableRuleOutput, error) {
	return &sdk.DisableRuleOutput{}, e.setState(in.EventBusName, in.Name, stateDisabled)
}

func (e *Emulator) setState(busName, name *string, state string) error {
	e.res.Lock()
	defer e.res.Unlock()
	r, err := e.ruleOf(busName, name, "name")
	if err != nil {
		return err
	}
	r.state = state
	return e.saveLocked()
}

func (e *Emulator) putTargets(in *sdk.PutTargetsInput) (*sdk.PutTargetsOutput, error) {
	switch n := len(in.Targets); {
	case in.Targets == nil:
		return nil, validationf("1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null")
	case n < 1 || n > maxTargetsPerRequest:
		return nil, validationf("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", maxTargetsPerRequest)
	}
	for i, spec := range in.Targets {
		if err := checkTarget(i, spec); err != nil {
			return nil, err
		}
	}
	e.res.Lock()
	defer e.res.Unlock()
	r, err := e.ruleOf(in.EventBusName, in.Rule, "rule")
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, t := range r.targets {
		ids[deref(t.spec.Id)] = true
	}
	for _, spec := range in.Targets {
		ids[*spec.Id] = true
	}
	if len(ids) > maxTargetsPerRule {
		return nil, &apiError{http.StatusBadRequest, errLimitExceeded, fmt.Sprintf("The requested resource exceeds the maximum number allowed: a rule has at most %d targets.", maxTargetsPerRule)}
	}
	out := &sdk.PutTargetsOutput{FailedEntries: []types.PutTargetsResultEntry{}}
	for _, spec := range in.Targets {
		t, err := e.newTarget(spec)
		if err != nil {
			out.FailedEntries = append(out.FailedEntries, types.PutTargetsResultEntry{
				TargetId: spec.Id, ErrorCode: ptr(errValidation), ErrorMessage: ptr(err.Error()),
			})
			continue
		}
		i := slices.IndexFunc(r.targets, func(x *target) bool { return deref(x.spec.Id) == *spec.Id })
		if i >= 0 {
			r.targets[i] = t
		} else {
			r.targets = append(r.targets, t)
		}
	}
	out.FailedEntryCount = int32(len(out.FailedEntries))
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkTarget validates one target of a PutTargets request.
func checkTarget(i int, t types.Target) error {
	if err := checkName(fmt.Sprintf("targets.%d.member.id", i+1), t.Id, maxTargetIDLength); err != nil {
		return err
	}
	if deref(t.Arn) == "" {
		return validationf("1 validation error detected: Value null at 'targets.%d.member.arn' failed to satisfy constraint: Member must not be null", i+1)
	}
	given := 0
	for _, set := range []bool{t.Input != nil, t.InputPath != nil, t.InputTransformer != nil} {
		if set {
			given++
		}
	}
	if given > 1 {
		return validationf("Target %s: only one of Input, InputPath and InputTransformer may be given.", *t.Id)
	}
	if t.Input != nil && !isJSON(*t.Input) {
		return validationf("Target %s: Input is not valid JSON text.", *t.Id)
	}
	if t.InputPath != nil {
		if _, err := parsePath(*t.InputPath); err != nil {
			return validationf("Target %s: InputPath %q is not valid: %v.", *t.Id, *t.InputPath, err)
		}
	}
	if it := t.InputTransformer; it != nil {
		if err := checkTransformer(it); err != nil {
			return validationf("Target %s: InputTransformer is not valid: %v.", *t.Id, err)
		}
	}
	if rp := t.RetryPolicy; rp != nil {
		if n := rp.MaximumRetryAttempts; n != nil && (*n < 0 || *n > maxRetryAttempts) {
			return validationf("Target %s: RetryPolicy.MaximumRetryAttempts must be between 0 and %d.", *t.Id, maxRetryAttempts)
		}
		if n := rp.MaximumEventAgeInSeconds; n != nil && (*n < minEventAge || *n > maxEventAge) {
			return validationf("Target %s: RetryPolicy.MaximumEventAgeInSeconds must be between %d and %d.", *t.Id, minEventAge, maxEventAge)
		}
	}
	if dlc := t.DeadLetterConfig; dlc != nil && !strings.HasPrefix(deref(dlc.Arn), "arn:aws:sqs:") {
		return validationf("Target %s: DeadLetterConfig.Arn must be the ARN of an SQS queue.", *t.Id)
	}
	return nil
}

func (e *Emulator) removeTargets(in *sdk.RemoveTargetsInput) (*sdk.RemoveTargetsOutput, error) {
	if n := len(in.Ids); n < 1 || n > 100 {
		return nil, validationf("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1")
	}
	e.res.Lock()
	defer e.res.Unlock()
	r, err := e.ruleOf(in.EventBusName, in.Rule, "rule")
	if err != nil {
		return nil, err
	}
	r.targets = slices.DeleteFunc(r.targets, func(t *target) bool { return slices.Contains(in.Ids, deref(t.spec.Id)) })
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.RemoveTargetsOutput{FailedEntries: []types.RemoveTargetsResultEntry{}}, nil
}

func (e *Emulator) listTargetsByRule(in *sdk.ListTargetsByRuleInput) (*sdk.ListTargetsByRuleOutput, error) {
	e.res.RLock()
	defer e.res.RUnlock()
	r, err := e.ruleOf(in.EventBusName, in.Rule, "rule")
	if err != nil {
		return nil, err
	}
	byID := map[string]types.Target{}
	for _, t := range r.targets {
		byID[deref(t.spec.Id)] = t.spec
	}
	ids, next, err := page(sortedKeys(byID), in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &sdk.ListTargetsByRuleOutput{Targets: []types.Target{}, NextToken: next}
	for _, id := range ids {
		out.Targets = append(out.Targets, byID[id])
	}
	return out, nil
}

func (e *Emulator) listRuleNamesByTarget(in *sdk.ListRuleNamesByTargetInput) (*sdk.ListRuleNamesByTargetOutput, error) {
	if deref(in.TargetArn) == "" {
		return nil, validationf("1 validation error detected: Value null at 'targetArn' failed to satisfy constraint: Member must not be null")
	}
	b, err := e.busOf(in.EventBusName)
	if err != nil {
		return nil, err
	}
	e.res.RLock()
	defer e.res.RUnlock()
	var names []string
	for _, name := range sortedKeys(e.rules[b]) {
		if slices.ContainsFunc(e.rules[b][name].targets, func(t *target) bool { return deref(t.spec.Arn) == *in.TargetArn }) {
			names = append(names, name)
		}
	}
	names, next, err := page(names, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &sdk.ListRuleNamesByTargetOutput{RuleNames: append([]string{}, names...), NextToken: next}, nil
}

// The members TestEventPattern requires of an event.
var requiredEventFields = []string{"id", "account", "source", "time", "region", "resources", "detail-type"}

func (e *Emulator) testEventPattern(in *sdk.TestEventPatternInput) (*sdk.TestEventPatternOutput, error) {
	if in.EventPattern == nil {
		return nil, validationf("1 validation error detected: Value null at 'eventPattern' failed to satisfy constraint: Member must not be null")
	}
	if in.Event == nil {
		return nil, validationf("1 validation error detected: Value null at 'event' failed to satisfy constraint: Member must not be null")
	}
	m, err := compilePattern(*in.EventPattern)
	if err != nil {
		return nil, invalidPattern(err)
	}
	var fields map[string]any
	if err := unmarshalObject(*in.Event, &fields); err != nil {
		return nil, validationf("Parameter Event is not valid: %v.", err)
	}
	for _, f := range requiredEventFields {
		if _, ok := fields[f]; !ok {
			return nil, validationf("Parameter Event is not valid: the event has no %q; an event needs %s.", f, strings.Join(requiredEventFields, ", "))
		}
	}
	ok, err := m.Match([]byte(*in.Event))
	if err != nil {
		return nil, validationf("Parameter Event is not valid: %v.", err)
	}
	return &sdk.TestEventPatternOutput{Result: ok}, nil
}

func (e *Emulator) listEventBuses(in *sdk.ListEventBusesInput) (*sdk.ListEventBusesOutput, error) {
	names, next, err := listing(sortedKeys(e.buses), in.NamePrefix, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &sdk.ListEventBusesOutput{EventBuses: []types.EventBus{}, NextToken: next}
	for _, name := range names {
		out.EventBuses = append(out.EventBuses, e.describeBus(e.buses[name]))
	}
	return out, nil
}

func (e *Emulator) describeEventBus(in *sdk.DescribeEventBusInput) (*sdk.DescribeEventBusOutput, error) {
	name, err := e.busOf(in.Name)
	if err != nil {
		return nil, err
	}
	b := e.describeBus(e.buses[name])
	return &sdk.DescribeEventBusOutput{Name: b.Name, Arn: b.Arn, CreationTime: b.CreationTime, LastModifiedTime: b.LastModifiedTime}, nil
}

func (e *Emulator) describeBus(b *bus) types.EventBus {
	return types.EventBus{Name: ptr(b.name), Arn: ptr(e.busARN(b.name)), CreationTime: ptr(b.created), LastModifiedTime: ptr(b.created)}
}

func (e *Emulator) busARN(name string) string {
	return "arn:aws:events:" + e.region + ":" + e.account + ":event-bus/" + name
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.SortedFunc(maps.Keys(m), cmp.Compare[string])
}
