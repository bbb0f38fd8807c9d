package eventbridge

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"
)

// delivery is one event on its way to one rule's target.
type delivery struct {
	rule     *Rule
	eventID  string
	event    []byte
	received time.Time // when PutEvents accepted the event: the start of its age
	trace    string    // the entry's TraceHeader, passed on to a TracedTarget
}

// route matches an accepted event against the rules of its bus and starts a
// delivery for each match. The caller holds e.mu for reading and has checked
// that the emulator is not closed.
func (e *Emulator) route(ctx context.Context, bus, eventID string, envelope []byte, received time.Time, trace string) {
	for _, r := range e.rules[bus] {
		if r.Pattern == nil || r.Target == nil {
			continue
		}
		ok, err := r.Pattern.Match(envelope)
		if err != nil {
			e.log.ErrorContext(ctx, "event pattern match failed", "rule", r.Name, "eventId", eventID, "err", err)
			continue
		}
		if !ok {
			continue
		}
		e.count(func(s *Stats) { s.Matched[r.Name]++ })
		d := delivery{rule: r, eventID: eventID, event: envelope, received: received, trace: trace}
		e.pending.Add(1)
		e.wg.Go(func() {
			defer e.pending.Add(-1)
			e.deliver(d)
		})
	}
}

// deliver sends d to its target, retrying as the rule's RetryPolicy allows,
// then hands it to the rule's dead-letter queue.
func (e *Emulator) deliver(d delivery) {
	r := d.rule
	maxRetries := r.MaxRetries
	switch {
	case maxRetries == 0:
		maxRetries = DefaultMaxRetries
	case maxRetries < 0:
		maxRetries = 0
	}
	maxAge := r.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	log := e.log.With("rule", r.Name, "eventId", d.eventID)

	var (
		err       error
		retries   int
		exhausted string
	)
	for {
		if tt, ok := r.Target.(TracedTarget); ok && d.trace != "" {
			err = tt.SendTraced(e.ctx, d.event, d.trace)
		} else {
			err = r.Target.Send(e.ctx, d.event)
		}
		if err == nil {
			e.count(func(s *Stats) { s.Delivered[r.Name]++ })
			return
		}
		if e.ctx.Err() != nil {
			e.drop(log, "emulator closed", err)
			return
		}
		if retries >= maxRetries {
			exhausted = "MaximumRetryAttempts"
			break
		}
		delay := e.backoff(retries + 1)
		if e.now().Add(delay).Sub(d.received) > maxAge {
			exhausted = "MaximumEventAgeInSeconds"
			break
		}
		log.WarnContext(e.ctx, "target failed; retrying", "attempt", retries+1, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-e.ctx.Done():
			t.Stop()
			e.drop(log, "emulator closed", err)
			return
		}
		retries++
		e.count(func(s *Stats) { s.Retries++ })
	}

	if r.DeadLetter == nil {
		e.drop(log, "retries exhausted ("+exhausted+") and the rule has no dead-letter queue", err)
		return
	}
	attrs := map[string]string{
		"RULE_ARN":                  e.ruleARN(r),
		"TARGET_ARN":                r.TargetARN,
		"ERROR_CODE":                errorCode(err),
		"ERROR_MESSAGE":             err.Error(),
		"EXHAUSTED_RETRY_CONDITION": exhausted,
		"RETRY_ATTEMPTS":            strconv.Itoa(retries),
	}
	var dlqErr error
	if adl, ok := r.DeadLetter.(AttributedDeadLetter); ok {
		dlqErr = adl.SendWithAttributes(e.ctx, d.event, attrs)
	} else {
		dlqErr = r.DeadLetter.Send(e.ctx, d.event)
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

func (e *Emulator) ruleARN(r *Rule) string {
	arn := "arn:aws:events:" + e.region + ":" + e.account + ":rule/"
	if r.Bus != "default" {
		arn += r.Bus + "/"
	}
	return arn + r.Name
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
