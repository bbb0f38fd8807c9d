package store

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Alert statuses (BlueKing's event status). An alert is open while ABNORMAL.
const (
	AlertAbnormal  = "ABNORMAL"
	AlertRecovered = "RECOVERED"
	AlertClosed    = "CLOSED"
)

// AlertStatus returns the alert status an event's status field stands for: RECOVERED
// and CLOSED as such, anything else (the default included) ABNORMAL.
func AlertStatus(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case AlertRecovered:
		return AlertRecovered
	case AlertClosed:
		return AlertClosed
	}
	return AlertAbnormal
}

// rank orders statuses: an alert that is no longer open only moves forward.
func rank(status string) int {
	switch status {
	case AlertRecovered:
		return 1
	case AlertClosed:
		return 2
	}
	return 0
}

// Signal is what one stored event says about an alert: the values of its dedupe keys,
// and its status and severity.
type Signal struct {
	EventKey string
	SourceID string            // the producer source that sent it: alerts of different producers never fold
	Source   string            // CloudEvents source: alerts of different sources never fold
	Keys     map[string]string // dedupe key name → the event's value
	Name     string            // alert_name
	Status   string            // ABNORMAL, RECOVERED or CLOSED
	Severity int               // 1 fatal, 2 warning, 3 reminder; 0 unknown
	At       time.Time         // when the event happened
}

// Fingerprint identifies the alerts a signal folds into.
func (sig Signal) Fingerprint() string {
	names := make([]string, 0, len(sig.Keys))
	for k := range sig.Keys {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	h.Write([]byte(sig.SourceID))
	h.Write([]byte{0})
	h.Write([]byte(sig.Source))
	for _, k := range names {
		h.Write([]byte{0})
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(sig.Keys[k]))
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil)[:15]))
}

// SeverityChange is a change of an alert's severity, by the event that made it.
type SeverityChange struct {
	At       time.Time `dynamodbav:"at" json:"at"`
	From     int       `dynamodbav:"from" json:"from"`
	To       int       `dynamodbav:"to" json:"to"`
	EventKey string    `dynamodbav:"eventKey" json:"eventId"`
}

// Alert folds the events that share dedupe key values while the alert is open: one
// record with the count, the first and last time seen, the current status and the
// severity's changes. Every event stays stored on its own, marked with the alert's id.
type Alert struct {
	ID              string            `dynamodbav:"id" json:"id"`
	Fingerprint     string            `dynamodbav:"fingerprint" json:"fingerprint"`
	SourceID        string            `dynamodbav:"sourceId,omitempty" json:"sourceId,omitempty"`
	Source          string            `dynamodbav:"source" json:"source"`
	Name            string            `dynamodbav:"name,omitempty" json:"name,omitempty"`
	DedupeKeys      map[string]string `dynamodbav:"dedupeKeys" json:"dedupeKeys"`
	Status          string            `dynamodbav:"status" json:"status"`
	Severity        int               `dynamodbav:"severity,omitempty" json:"severity,omitempty"`
	SeverityChanges []SeverityChange  `dynamodbav:"severityChanges,omitempty" json:"severityChanges,omitempty"`
	Count           int               `dynamodbav:"count" json:"count"`
	FirstSeen       time.Time         `dynamodbav:"firstSeen" json:"firstSeen"`
	LastSeen        time.Time         `dynamodbav:"lastSeen" json:"lastSeen"`
	ResolvedAt      time.Time         `dynamodbav:"resolvedAt,omitempty" json:"resolvedAt,omitzero"`
	Events          []string          `dynamodbav:"events" json:"events"` // the latest event keys, newest last
	UpdatedAt       time.Time         `dynamodbav:"updatedAt" json:"updatedAt"`
	Version         int               `dynamodbav:"version" json:"-"`
	Seq             int               `dynamodbav:"seq" json:"-"`
}

// maxAlertEvents is how many event keys an alert lists; Count counts them all.
const maxAlertEvents = 20

// maxSeverityChanges is how many of its latest severity changes an alert keeps, so
// that its item stays within DynamoDB's however long the alert lasts.
const maxSeverityChanges = 50

type alertItem struct {
	keyAttrs
	Alert
	GSI1PK    string `dynamodbav:"gsi1pk"`
	GSI2PK    string `dynamodbav:"gsi2pk"`
	GSISK     string `dynamodbav:"gsisk"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

// Alerts of one fingerprint share a partition, one item per episode, numbered.
func alertSK(seq int) string { return fmt.Sprintf("A#%010d", seq) }

func alertID(fp string, seq int) string { return "alr_" + fp + "_" + strconv.Itoa(seq) }

// parseAlertID returns the fingerprint and number of an alert id.
func parseAlertID(id string) (fp string, seq int, ok bool) {
	rest, ok := strings.CutPrefix(id, "alr_")
	if !ok {
		return "", 0, false
	}
	fp, n, ok := strings.Cut(rest, "_")
	seq, err := strconv.Atoi(n)
	if !ok || err != nil || seq < 1 || len(fp) != 24 {
		return "", 0, false
	}
	return fp, seq, true
}

// ErrAlreadyFolded is returned by FoldAlert for an event that was folded before.
var ErrAlreadyFolded = errors.New("event already folded into an alert")

// FoldAlert folds the stored event sig.EventKey into the alert of its fingerprint and
// marks the event with the alert's id, at once. It is idempotent: an event already
// marked returns ErrAlreadyFolded and changes nothing. Concurrent folds of one
// fingerprint are serialized by the alert's version.
//
// The event joins the latest alert of its fingerprint while that alert is open
// (ABNORMAL); a RECOVERED or CLOSED event closes it. An ABNORMAL event that happened
// after the latest alert was resolved opens a new one; one that happened before (it
// arrived late) is counted in the resolved alert without reopening it.
func (s *Store) FoldAlert(ctx context.Context, sig Signal) (*Alert, error) {
	sig.Status = AlertStatus(sig.Status)
	if sig.At.IsZero() {
		sig.At = s.now()
	}
	sig.At = sig.At.UTC()
	fp := sig.Fingerprint()
	for try := 0; ; try++ {
		latest, err := s.latestAlert(ctx, fp)
		if err != nil {
			return nil, err
		}
		next, isNew := fold(latest, sig, fp, s.now().UTC())
		err = s.writeFold(ctx, next, isNew, sig.EventKey)
		if err == nil {
			return next, nil
		}
		if errors.Is(err, ErrAlreadyFolded) || !errors.Is(err, errFoldRace) || try == maxFoldTries-1 {
			return nil, err
		}
		// Another fold of the fingerprint won: read again after a short, jittered pause.
		time.Sleep(time.Duration(rand.IntN(min(20*(try+1), 250))+1) * time.Millisecond)
	}
}

// fold returns the alert after sig: the latest alert updated, or a new one.
func fold(latest *Alert, sig Signal, fp string, now time.Time) (next *Alert, isNew bool) {
	open := latest != nil && latest.Status == AlertAbnormal
	late := latest != nil && !open && sig.Status == AlertAbnormal && !sig.At.After(latest.ResolvedAt)
	resolvedJoin := latest != nil && !open && sig.Status != AlertAbnormal
	if latest == nil || !(open || late || resolvedJoin) {
		seq := 1
		if latest != nil {
			seq = latest.Seq + 1
		}
		a := &Alert{
			ID: alertID(fp, seq), Fingerprint: fp, SourceID: sig.SourceID, Source: sig.Source, Name: sig.Name, DedupeKeys: sig.Keys,
			Status: sig.Status, Severity: sig.Severity, Count: 1, FirstSeen: sig.At, LastSeen: sig.At,
			Events: []string{sig.EventKey}, UpdatedAt: now, Seq: seq, Version: 1,
		}
		if sig.Status != AlertAbnormal {
			a.ResolvedAt = sig.At
		}
		return a, true
	}
	a := *latest
	a.SeverityChanges = append([]SeverityChange(nil), latest.SeverityChanges...)
	a.Count++
	a.Version++
	a.UpdatedAt = now
	a.Events = append(append([]string(nil), latest.Events...), sig.EventKey)
	if len(a.Events) > maxAlertEvents {
		a.Events = a.Events[len(a.Events)-maxAlertEvents:]
	}
	if sig.At.Before(a.FirstSeen) {
		a.FirstSeen = sig.At
	}
	if sig.At.After(a.LastSeen) {
		a.LastSeen = sig.At
	}
	if a.Name == "" {
		a.Name = sig.Name
	}
	switch {
	case open && sig.Status != AlertAbnormal:
		a.Status, a.ResolvedAt = sig.Status, sig.At
	case resolvedJoin && rank(sig.Status) > rank(a.Status):
		a.Status = sig.Status
	}
	if !late && sig.Severity != 0 && sig.Severity != a.Severity {
		if a.Severity != 0 {
			a.SeverityChanges = append(a.SeverityChanges, SeverityChange{At: sig.At, From: a.Severity, To: sig.Severity, EventKey: sig.EventKey})
			if len(a.SeverityChanges) > maxSeverityChanges {
				a.SeverityChanges = a.SeverityChanges[len(a.SeverityChanges)-maxSeverityChanges:]
			}
		}
		a.Severity = sig.Severity
	}
	return &a, false
}

var errFoldRace = errors.New("alert changed concurrently")

// maxFoldTries bounds the optimistic retries of one fold. A burst of events of one
// alert contends on a single item; each try loses only to a fold that succeeded.
const maxFoldTries = 40

func (s *Store) writeFold(ctx context.Context, a *Alert, isNew bool, eventKey string) error {
	it := alertItem{
		keyAttrs: keyAttrs{pkAlert + a.Fingerprint, alertSK(a.Seq)},
		Alert:    *a,
		GSI1PK:   pkAlertsBy + a.Status,
		GSI2PK:   pkAlerts,
		GSISK:    position(a.LastSeen, a.ID),
		// From the fold, not from the producer's clock: an alert about old events
		// stays as long as the events stored now.
		ExpiresAt: s.expiry(s.now()),
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	put := &types.Put{TableName: &s.table, Item: av, ConditionExpression: ptr("attribute_not_exists(pk)")}
	if !isNew {
		put.ConditionExpression = ptr("#version = :v")
		put.ExpressionAttributeNames = map[string]string{"#version": "version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(a.Version - 1)}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       keyOf(eventKey),
			UpdateExpression:          ptr("SET alertId = :id"),
			ConditionExpression:       ptr("attribute_exists(pk) AND attribute_not_exists(alertId)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(a.ID)},
		}},
		{Put: put},
	}})
	switch {
	case err == nil:
		return nil
	case cancelledAt(err, 0) == "ConditionalCheckFailed":
		return fmt.Errorf("fold %s: %w", eventKey, ErrAlreadyFolded)
	case cancelledAt(err, 1) == "ConditionalCheckFailed", cancelledAt(err, 0) == "TransactionConflict", cancelledAt(err, 1) == "TransactionConflict":
		return fmt.Errorf("fold %s into %s: %w", eventKey, a.ID, errFoldRace)
	}
	var tce *types.TransactionConflictException
	if errors.As(err, &tce) {
		return fmt.Errorf("fold %s into %s: %w", eventKey, a.ID, errFoldRace)
	}
	return fmt.Errorf("fold %s into %s: %w", eventKey, a.ID, err)
}

// latestAlert returns the newest alert of a fingerprint, or nil.
func (s *Store) latestAlert(ctx context.Context, fp string) (*Alert, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: ptr("pk = :pk AND begins_with(sk, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkAlert + fp), ":a": str("A#"),
		},
		ScanIndexForward: ptr(false),
		Limit:            ptr(int32(1)),
		ConsistentRead:   ptr(true),
	})
	if err != nil {
		return nil, fmt.Errorf("latest alert of %s: %w", fp, err)
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	var it alertItem
	if err := attributevalue.UnmarshalMap(out.Items[0], &it); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	return &it.Alert, nil
}

// GetAlert returns one alert.
func (s *Store) GetAlert(ctx context.Context, id string) (*Alert, error) {
	fp, seq, ok := parseAlertID(id)
	if !ok {
		return nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	var it alertItem
	if err := s.get(ctx, pkAlert+fp, alertSK(seq), &it); err != nil {
		return nil, fmt.Errorf("alert %s: %w", id, err)
	}
	if s.expired(it.ExpiresAt) {
		return nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	return &it.Alert, nil
}

// AlertQuery selects alerts, most recently seen first; Status narrows to one status.
type AlertQuery struct {
	Status string
	Limit  int
	Cursor string
}

// AlertPage is one page of alerts.
type AlertPage struct {
	Alerts []Alert `json:"alerts"`
	Cursor string  `json:"cursor,omitempty"`
}

// ListAlerts returns alerts, most recently seen first.
func (s *Store) ListAlerts(ctx context.Context, q AlertQuery) (*AlertPage, error) {
	after, err := decodePosition(q.Cursor)
	if err != nil {
		return nil, err
	}
	rq := rangeQuery{
		lo: minPosition, hi: maxPosition, after: after, limit: clampLimit(q.Limit),
		filter: notExpired, values: s.notExpiredValues(),
		index: gsi2, pkAttr: "gsi2pk", skAttr: "gsisk", partitions: []string{pkAlerts},
	}
	if q.Status != "" {
		rq.index, rq.pkAttr, rq.skAttr, rq.partitions = gsi1, "gsi1pk", "gsisk", []string{pkAlertsBy + q.Status}
	}
	items, next, err := s.run(ctx, rq)
	if err != nil {
		return nil, err
	}
	page := &AlertPage{Alerts: make([]Alert, 0, len(items)), Cursor: encodePosition(next)}
	for _, it := range items {
		var ai alertItem
		if err := attributevalue.UnmarshalMap(it.av, &ai); err != nil {
			return nil, fmt.Errorf("decode alert: %w", err)
		}
		page.Alerts = append(page.Alerts, ai.Alert)
	}
	return page, nil
}

// SourceDedupeKeys returns the dedupe keys a producer source declares (its
// dedupeKeys attribute), or none when the source does not exist.
func (s *Store) SourceDedupeKeys(ctx context.Context, sourceID string) ([]string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            &s.table,
		Key:                  key(pkSources, sourceID),
		ProjectionExpression: ptr("dedupeKeys"),
	})
	if err != nil {
		return nil, fmt.Errorf("dedupe keys of source %s: %w", sourceID, err)
	}
	var it struct {
		DedupeKeys []string `dynamodbav:"dedupeKeys"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode dedupe keys of source %s: %w", sourceID, err)
	}
	return it.DedupeKeys, nil
}
