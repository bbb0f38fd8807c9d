package eventbridge

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"
)

// delivery is one event on its way to one target of a rule.
type delivery struct {
	rule     *rule
	target   *target
	eventID  string
	event    []byte    // the envelope
	received time.Time // when PutEvents accepted the event: the start of its age
	trace    string    // the entry's TraceHeader, passed on to a TracedTarget
}

// route matches an accepted event against the enabled rules of its bus and starts
// a delivery to each target of each rule that matches. The caller holds e.mu for
// reading and has checked that the emulator is not closed.
func (e *Emulator) route(ctx context.Context, bus, eventID string, envelope []byte, received time.Time, trace string) {
	e.res.RLock()
	defer e.res.RUnlock()
	for _, name := range sortedKeys(e.rules[bus]) {
		r := e.rules[bus][name]
		if r.matcher == nil || r.state == stateDisabled {
			continue
		}
		ok, err := r.matcher.Match(envelope)
		if err != nil {
			e.log.ErrorContext(ctx, "event pattern match failed", "rule", r.name, "eventId", eventID, "err", err)
			continue
		}
		if !ok {
			continue
		}
		e.count(func(s *Stats) { s.Matched[r.name]++ })
		for _, t := range r.targets {
			d := delivery{rule: r, target: t, eventID: eventID, event: envelope, received: received, trace: trace}
			e.pending.Add(1)
			e.wg.Go(func() {
				defer e.pending.Add(-1)
				e.deliver(d)
			})
		}
	}
}

// errNoRetry marks a target failure that retrying cannot mend (an API destination
// answering 400, an input path the event does not have): the event goes to the
// dead-letter queue at once, as EventBridge does.
var errNoRetry = errors.New("not retryable")

// deliver sends d to its target, retrying as the target's RetryPolicy allows,
// then hands it to the target's dead-letter queue.
func (e *Emulator) deliver(d delivery) {
	r, t := d.rule, d.target
	log := e.log.With("rule", r.name, "targetId", deref(t.spec.Id), "eventId", d.eventID)

	var (
		err       error
		retries   int
		exhausted string
	)
	payload, err := t.input(d.event, e.ruleARN(r), r.name, d.received)
	if err != nil {
		exhausted = "MaximumRetryAttempts"
	}
	for err == nil {
		if tt, ok := t.send.(TracedTarget); ok && d.trace != "" {
			err = tt.SendTraced(e.ctx, payload, d.trace)
		} else {
			err = t.send.Send(e.ctx, payload)
		}
		if err == nil {
			e.count(func(s *Stats) { s.Delivered[r.name]++ })
			return
		}
		if e.ctx.Err() != nil {
			e.drop(log, "emulator closed", err)
			return
		}
		if retries >= t.maxRetries || errors.Is(err, errNoRetry) {
			exhausted = "MaximumRetryAttempts"
			break
		}
		delay := e.backoff(retries + 1)
		if e.now().Add(delay).Sub(d.received) > t.maxAge {
			exhausted = "MaximumEventAgeInSeconds"
			break
		}
		log.WarnContext(e.ctx, "target failed; retrying", "attempt", retries+1, "delay", delay, "err", err)
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-e.ctx.Done():
			timer.Stop()
			e.drop(log, "emulator closed", err)
			return
		}
		retries++
		e.count(func(s *Stats) { s.Retries++ })
		err = nil
	}

	if t.deadLetter == nil {
		e.drop(log, "retries exhausted ("+exhausted+") and the target has no dead-letter queue", err)
		return
	}
	attrs := map[string]string{
		"RULE_ARN":                  e.ruleARN(r),
		"TARGET_ARN":                deref(t.spec.Arn),
		"ERROR_CODE":                errorCode(err),
		"ERROR_MESSAGE":             err.Error(),
		"EXHAUSTED_RETRY_CONDITION": exhausted,
		"RETRY_ATTEMPTS":            strconv.Itoa(retries),
	}
	var dlqErr error
	if adl, ok := t.deadLetter.(AttributedDeadLetter); ok {
		dlqErr = adl.SendWithAttributes(e.ctx, d.event, attrs)
	} else {
		dlqErr = t.deadLetter.Send(e.ctx, d.event)
	}
	if dlqErr != nil {
		e.drop(log, "dead-letter queue refused the event", errors.Join(err, dlqErr))
		return
	}
	e.count(func(s *Stats) { s.DeadLettered++ })
	log.WarnContext(e.ctx, "event sent to the dead-letter queue", "exhaustedRetryCondition", exhausted, "retryAttempts", retries, "err", err)
}

func (e *Emulator) drop(log *slog.Logger, why string, err error) {
	e.count(func(s *Stats) { s.Dropped++ })
	log.ErrorContext(e.ctx, "event dropped: "+why, "err", err)
}

// ruleARN is the rule's ARN: arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME.
func (e *Emulator) ruleARN(r *rule) string {
	arn := "arn:aws:events:" + e.region + ":" + e.account + ":rule/"
	if r.bus != "default" {
		arn += r.bus + "/"
	}
	return arn + r.name
}

// errorCode is the ERROR_CODE dead-letter attribute: the code of an API error
// (anything with an ErrorCode method, such as smithy.APIError), else the
// generic code EventBridge uses for client-side failures.
func errorCode(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() != "" {
		return coded.ErrorCode()
	}
	return "SDK_CLIENT_ERROR"
}
