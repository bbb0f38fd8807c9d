// Package smoke checks a running eventhub end to end, the way its users use it: it
// sends an event in every producer format and reads each back, subscribes a receiver
// and watches a delivery reach it, and checks that one trace id follows the event
// from the bus to the delivery. It runs against a deployed stack (make smoke) and,
// in make test, against the local stack.
package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/inbound"
)

// Config says where the stack is and what the smoke test may use.
type Config struct {
	API        string // the stack's ApiUrl output
	AdminToken string // the token whose hash is the AdminTokenSha256 parameter
	// Receiver is a webhook URL the delivery check subscribes; it must answer 2xx.
	Receiver string
	// Wait bounds each wait for the pipeline (stored, delivered); default 60s.
	Wait   time.Duration
	Client *http.Client // default: a client with a 30 s timeout
	Log    io.Writer    // a line per check; default discards
}

// Check is the outcome of one check.
type Check struct {
	Name string
	Took time.Duration
	Err  error
}

func (c Check) String() string {
	if c.Err != nil {
		return fmt.Sprintf("FAIL %-40s %v", c.Name, c.Err)
	}
	return fmt.Sprintf("ok   %-40s %s", c.Name, c.Took.Round(time.Millisecond))
}

// Run makes every check, cleans up what it created (its subscription is deleted, its
// producer sources disabled) and returns the checks; the error is non-nil when one
// failed.
func Run(ctx context.Context, cfg Config) ([]Check, error) {
	if cfg.API == "" || cfg.AdminToken == "" || cfg.Receiver == "" {
		return nil, errors.New("smoke: the API URL, the admin token and a receiver URL are required")
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 60 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	r := &run{ctx: ctx, cfg: cfg, id: newRunID()}
	r.steps()
	r.cleanup()
	var failed []string
	for _, c := range r.checks {
		if c.Err != nil {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		return r.checks, fmt.Errorf("smoke: %d of %d checks failed: %s", len(failed), len(r.checks), strings.Join(failed, ", "))
	}
	return r.checks, nil
}

type run struct {
	ctx     context.Context
	cfg     Config
	id      string // in every name and event of this run
	checks  []Check
	sources []string // ids, disabled at the end
	subID   string
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "smoke-" + time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}

// check runs one check and records it; it reports whether it passed.
func (r *run) check(name string, f func() error) bool {
	start := time.Now()
	err := f()
	c := Check{Name: name, Took: time.Since(start), Err: err}
	r.checks = append(r.checks, c)
	fmt.Fprintln(r.cfg.Log, c)
	return err == nil
}

// source is a producer source as POST /sources answers it.
type source struct {
	ID         string `json:"id"`
	Token      string `json:"token"`
	SigningKey string `json:"signingKey"`
	AppID      string `json:"appId"`
	DataID     int64  `json:"dataId"`
	// InboundSecret and HookPath: a github source's webhook secret and its own URL.
	InboundSecret string `json:"inboundSecret"`
	HookPath      string `json:"hookPath"`
}

// sent is an event the smoke test sent and expects stored.
type sent struct {
	name, key, format string
}

func (r *run) steps() {
	if !r.check("admin token accepted", func() error { return r.call(http.MethodGet, "/subscriptions", nil, http.StatusOK, nil) }) {
		return
	}
	var auto, bk, iu, gh source
	namespaced := true // the run may publish Juno and Huawei events
	ok := r.check("producer sources created", func() error {
		dataID := 1_000_000_000 + time.Now().UnixNano()%1_000_000_000
		// The run's own values: its Juno subsystem and Huawei account are the run's id,
		// its CloudEvents under the source's own /sources/<id>/ (docs/producers-ownership.md).
		// Where another source owns all of juno/ or huaweicloud.config/, the run cannot
		// publish there, and skips those two formats.
		autoBody := fmt.Sprintf(`{"name":%q,"format":"auto","owns":{"exact":["juno/%s","huaweicloud.config/%s"]}}`, r.id, r.id, r.id)
		if status, raw, err := r.send(http.MethodPost, "/sources", map[string]string{"Authorization": "Bearer " + r.cfg.AdminToken, "Content-Type": "application/json"}, []byte(autoBody)); err != nil {
			return err
		} else if status == http.StatusConflict {
			namespaced = false
			fmt.Fprintf(r.cfg.Log, "note juno and huaweiconfig are skipped: %s\n", bytes.TrimSpace(raw))
		} else if status != http.StatusCreated {
			return fmt.Errorf("POST /sources = %d %s; want 201", status, bytes.TrimSpace(raw))
		} else if err := json.Unmarshal(raw, &auto); err != nil {
			return err
		} else {
			r.sources = append(r.sources, auto.ID)
		}
		for _, s := range []struct {
			body string
			into *source
		}{
			{fmt.Sprintf(`{"name":%q,"format":"auto","owns":{}}`, r.id), &auto},
			{fmt.Sprintf(`{"name":"%s bkmonitor","format":"bkmonitor","dataId":%d}`, r.id, dataID), &bk},
			{fmt.Sprintf(`{"name":"%s iuap","format":"iuap","appId":%q}`, r.id, strings.ToUpper(strings.ReplaceAll(r.id, "-", "_"))), &iu},
			{fmt.Sprintf(`{"name":"%s github","format":"github"}`, r.id), &gh},
		} {
			if s.into == &auto && namespaced {
				continue
			}
			if err := r.call(http.MethodPost, "/sources", []byte(s.body), http.StatusCreated, s.into); err != nil {
				return err
			}
			r.sources = append(r.sources, s.into.ID)
		}
		return nil
	})
	if !ok {
		return
	}
	var events []sent
	for _, p := range r.producers(auto, bk, iu, gh) {
		if !namespaced && (p.format == "juno" || p.format == "huaweiconfig") {
			continue
		}
		r.check("send "+p.name, func() error {
			key, err := p.send()
			if err == nil {
				events = append(events, sent{name: p.name, key: key, format: p.format})
			}
			return err
		})
	}
	for _, e := range events {
		r.check("read back "+e.name, func() error {
			v, err := r.stored(e.key)
			if err != nil {
				return err
			}
			if v.Format != e.format {
				return fmt.Errorf("event %s stored as format %q; want %q", e.key, v.Format, e.format)
			}
			return nil
		})
	}
	r.deliver(auto)
}

// producer sends one event the way one kind of producer does and returns its key.
type producer struct {
	name, format string
	send         func() (string, error)
}

func (r *run) producers(auto, bk, iu, gh source) []producer {
	now := time.Now().UTC()
	n := strconv.FormatInt(now.UnixNano(), 10)
	bearer := func(contentType, query string, body string) func() (string, error) {
		return func() (string, error) { return r.ingest(auto.Token, "/events"+query, contentType, body) }
	}
	return []producer{
		{"cloudevents (structured)", "cloudevents", bearer("application/cloudevents+json", "",
			fmt.Sprintf(`{"specversion":"1.0","id":"%s-ce","source":"/sources/%s/smoke","type":"eventhub.smoke.check","subject":%q,"time":%q,"data":{"run":%q}}`, r.id, auto.ID, r.id, now.Format(time.RFC3339), r.id))},
		{"juno", "juno", bearer("application/json", "",
			fmt.Sprintf(`{"id":%s,"app_name":"eventhub-smoke","aid":1,"zone_code":"smoke","env":"smoke","host_name":"","user_name":"smoke","uid":1,"operation":"confgo_file_update","create_time":%d,"source":%q,"metadata":"{\"run\":\"%s\"}","operator_type":"user"}`, n, now.Unix(), r.id, r.id))},
		{"huaweiconfig", "huaweiconfig", bearer("application/json", "",
			fmt.Sprintf(`{"notification_type":"ResourceChanged","notification_creation_time":%q,"domain_id":%q,"detail":{"resource_id":%q,"resource_type":"volumes","event_type":"UPDATE","capture_time":%q,"resource":{"id":%q}}}`, now.Format(time.RFC3339), r.id, r.id, now.Format(time.RFC3339), r.id))},
		{"generic", "generic", bearer("application/json", "?format=generic",
			fmt.Sprintf(`{"check":"eventhub smoke","run":%q}`, r.id))},
		{"bkmonitor (BlueKing's path)", "bkmonitor", func() (string, error) {
			body := fmt.Sprintf(`{"data_id":%d,"access_token":%q,"data":[{"alert_name":"eventhub smoke","event_id":"%s-bk","description":"smoke check","metric":"smoke","category":"smoke","target_type":"host","target":"smoke","severity":3,"time":%q}]}`,
				bk.DataID, bk.Token, r.id, now.Format(time.RFC3339))
			return r.ingest("", "/api/v1/events", "application/json", body)
		}},
		{"iuap (sendEventMsg.do)", "iuap", func() (string, error) { return r.iuap(iu, now) }},
		{"github (/hooks, signed)", "github", func() (string, error) { return r.github(gh, now) }},
	}
}

// github posts a GitHub issues delivery to the github source's /hooks URL, signed
// with its webhook secret as GitHub signs it.
func (r *run) github(src source, now time.Time) (string, error) {
	body := []byte(fmt.Sprintf(`{"action":"opened","issue":{"number":1,"title":%q},"repository":{"full_name":"eventhub/smoke"},"sender":{"login":"smoke"}}`, r.id))
	h := inbound.Sign(inbound.GitHub, src.InboundSecret, "", now, body)
	h["Content-Type"] = "application/json"
	h["X-GitHub-Event"] = "issues"
	h["X-GitHub-Delivery"] = r.id + "-gh"
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := r.do(http.MethodPost, src.HookPath, h, body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	if len(out.IDs) != 1 {
		return "", fmt.Errorf("POST %s accepted %d events; want 1", src.HookPath, len(out.IDs))
	}
	return out.IDs[0], nil
}

// ingest posts events and returns the key of the first accepted one.
func (r *run) ingest(token, path, contentType, body string) (string, error) {
	var out struct {
		IDs []string `json:"ids"`
	}
	h := map[string]string{"Content-Type": contentType}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if err := r.do(http.MethodPost, path, h, []byte(body), http.StatusAccepted, &out); err != nil {
		return "", err
	}
	if len(out.IDs) != 1 {
		return "", fmt.Errorf("POST %s accepted %d events; want 1", path, len(out.IDs))
	}
	return out.IDs[0], nil
}

func (r *run) iuap(src source, now time.Time) (string, error) {
	form := url.Values{"sourceID": {"SMOKE"}, "eventType": {"CHECK"}, "tenantCode": {"smoke"}, "userObject": {fmt.Sprintf(`{"run":%q}`, r.id)}}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	flat := map[string]string{}
	for k, v := range form {
		flat[k] = v[0]
	}
	q := url.Values{"appId": {src.AppID}, "ts": {ts}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "sign": iuap.Sign(src.SigningKey, src.AppID, ts, flat)}
	var out struct {
		Data struct {
			Status int    `json:"status"`
			ID     string `json:"id"`
		} `json:"data"`
	}
	if err := r.do(http.MethodPost, "/event/eventmanager/sendEventMsg.do?"+q.Encode(), h, []byte(form.Encode()), http.StatusOK, &out); err != nil {
		return "", err
	}
	if out.Data.Status != 1 || out.Data.ID == "" {
		return "", fmt.Errorf("sendEventMsg.do answered status %d", out.Data.Status)
	}
	return out.Data.ID, nil
}

// eventView is what GET /events/{id} answers.
type eventView struct {
	Status   string `json:"status"`
	Format   string `json:"format"`
	Timeline []struct {
		Stage          string `json:"stage"`
		SubscriptionID string `json:"subscriptionId"`
		TraceID        string `json:"traceId"`
	} `json:"timeline"`
	Deliveries []struct {
		SubscriptionID string `json:"subscriptionId"`
		Status         string `json:"status"`
		Attempts       int    `json:"attempts"`
		LastStatus     int    `json:"lastStatus"`
		LastError      string `json:"lastError"`
	} `json:"deliveries"`
}

// stored waits for the event to be stored.
func (r *run) stored(key string) (*eventView, error) {
	var v eventView
	err := r.wait("event "+key+" stored", func() (bool, error) {
		v = eventView{}
		status, err := r.get("/events/"+key, &v)
		if err != nil || status == http.StatusNotFound {
			return false, err
		}
		if status != http.StatusOK {
			return false, fmt.Errorf("GET /events/%s = %d", key, status)
		}
		if v.Status == "quarantined" {
			return false, fmt.Errorf("event %s was quarantined: see GET /events/%s", key, key)
		}
		return v.Status == "stored", nil
	})
	return &v, err
}

// deliver subscribes the receiver, sends an event for it and watches the delivery;
// then checks that the delivery ran in the trace of the event's way through the
// pipeline.
func (r *run) deliver(src source) {
	var sub struct {
		ID string `json:"id"`
	}
	if !r.check("subscribe the receiver", func() error {
		body, _ := json.Marshal(map[string]any{
			"name":    r.id,
			"url":     r.cfg.Receiver,
			"pattern": map[string]any{"type": []string{"eventhub.smoke.delivery"}, "subject": []string{r.id}},
		})
		if err := r.call(http.MethodPost, "/subscriptions", body, http.StatusCreated, &sub); err != nil {
			return err
		}
		r.subID = sub.ID
		return nil
	}) {
		return
	}
	var key string
	if !r.check("send an event for the receiver", func() (err error) {
		key, err = r.ingest(src.Token, "/events", "application/cloudevents+json",
			fmt.Sprintf(`{"specversion":"1.0","id":"%s-delivery","source":"/sources/%s/smoke","type":"eventhub.smoke.delivery","subject":%q,"data":{"run":%q}}`, r.id, src.ID, r.id, r.id))
		return err
	}) {
		return
	}
	var v eventView
	if !r.check("delivered to the receiver", func() error {
		return r.wait("the delivery of "+key, func() (bool, error) {
			v = eventView{}
			if status, err := r.get("/events/"+key, &v); err != nil || status != http.StatusOK {
				return false, err
			}
			for _, d := range v.Deliveries {
				if d.SubscriptionID != sub.ID {
					continue
				}
				switch d.Status {
				case "delivered":
					return true, nil
				case "failed":
					return false, fmt.Errorf("delivery failed after %d attempts: HTTP %d %s", d.Attempts, d.LastStatus, d.LastError)
				}
				if d.LastStatus != 0 || d.LastError != "" {
					// Still pending, retrying: say why while waiting.
					return false, errPending{fmt.Sprintf("attempt %d got HTTP %d %s", d.Attempts, d.LastStatus, d.LastError)}
				}
			}
			return false, nil
		})
	}) {
		return
	}
	r.check("one trace from the bus to the delivery", func() error {
		traces := map[string][]string{}
		for _, e := range v.Timeline {
			if e.TraceID == "" {
				return fmt.Errorf("timeline entry %q of %s has no trace id", e.Stage, key)
			}
			traces[e.TraceID] = append(traces[e.TraceID], e.Stage)
		}
		if len(traces) != 1 {
			return fmt.Errorf("the timeline of %s spans %d traces: %v", key, len(traces), traces)
		}
		return nil
	})
}

// errPending is a reason to keep waiting that becomes the error if the wait ends.
type errPending struct{ why string }

func (e errPending) Error() string { return e.why }

// wait polls cond until it holds, fails or cfg.Wait passes.
func (r *run) wait(what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(r.cfg.Wait)
	delay := 100 * time.Millisecond
	var last error
	for {
		ok, err := cond()
		var pending errPending
		switch {
		case errors.As(err, &pending):
			last = err
		case err != nil:
			return err
		case ok:
			return nil
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil {
			if last != nil {
				return fmt.Errorf("waited %s for %s: %w", r.cfg.Wait, what, last)
			}
			return fmt.Errorf("waited %s for %s", r.cfg.Wait, what)
		}
		select {
		case <-time.After(delay):
		case <-r.ctx.Done():
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// cleanup deletes the subscription and disables the sources the run created.
func (r *run) cleanup() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), time.Minute)
	defer cancel()
	r.ctx = ctx
	if r.subID != "" {
		r.check("delete the subscription", func() error {
			return r.call(http.MethodDelete, "/subscriptions/"+r.subID, nil, http.StatusNoContent, nil)
		})
	}
	if len(r.sources) > 0 {
		r.check("disable the producer sources", func() error {
			for _, id := range r.sources {
				if err := r.call(http.MethodPatch, "/sources/"+id, []byte(`{"enabled":false}`), http.StatusOK, nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// call makes an admin request and wants the status.
func (r *run) call(method, path string, body []byte, want int, out any) error {
	h := map[string]string{"Authorization": "Bearer " + r.cfg.AdminToken}
	if body != nil {
		h["Content-Type"] = "application/json"
	}
	return r.do(method, path, h, body, want, out)
}

// get makes an admin GET and returns the status.
func (r *run) get(path string, out any) (int, error) {
	status, raw, err := r.send(http.MethodGet, path, map[string]string{"Authorization": "Bearer " + r.cfg.AdminToken}, nil)
	if err != nil {
		return 0, err
	}
	if status == http.StatusOK && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return status, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return status, nil
}

func (r *run) do(method, path string, header map[string]string, body []byte, want int, out any) error {
	status, raw, err := r.send(method, path, header, body)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s = %d %s; want %d", method, strings.SplitN(path, "?", 2)[0], status, bytes.TrimSpace(raw), want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

func (r *run) send(method, path string, header map[string]string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(r.ctx, method, strings.TrimSuffix(r.cfg.API, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, raw, err
}
