package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// flags returns a flag set for a command, with -json.
func (c *client) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.asJSON, "json", false, "print the API's answer as it is")
	return fs
}

// parse parses flags wherever they stand among the arguments and returns the others.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func want(args []string, n int, what string) error {
	if len(args) != n {
		return fmt.Errorf("%w: want %s", errUsage, what)
	}
	return nil
}

func cmdSend(ctx context.Context, c *client, args []string) error {
	fs := c.flags("send")
	typ := fs.String("type", "", "CloudEvents type")
	source := fs.String("source", "/eventhub/cli", "CloudEvents source")
	id := fs.String("id", "", "CloudEvents id (default: a new one)")
	subject := fs.String("subject", "", "CloudEvents subject")
	data := fs.String("data", "", "JSON data")
	file := fs.String("f", "", "send this file (a CloudEvent or a JSON array of them; - for stdin) as it is")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 0, "no arguments besides flags"); err != nil {
		return err
	}
	var body []byte
	contentType := "application/cloudevents+json"
	switch {
	case *file != "":
		if *file == "-" {
			body, err = io.ReadAll(os.Stdin)
		} else {
			body, err = os.ReadFile(*file)
		}
		if err != nil {
			return err
		}
		if t := strings.TrimSpace(string(body)); strings.HasPrefix(t, "[") {
			contentType = "application/cloudevents-batch+json"
		}
	case *typ == "":
		return fmt.Errorf("%w: -type is required (or -f file)", errUsage)
	default:
		ev := map[string]any{"specversion": "1.0", "id": *id, "source": *source, "type": *typ, "time": c.now().UTC().Format(time.RFC3339Nano)}
		if *id == "" {
			ev["id"] = fmt.Sprintf("cli-%d", c.now().UnixNano())
		}
		if *subject != "" {
			ev["subject"] = *subject
		}
		if *data != "" {
			if !json.Valid([]byte(*data)) {
				return fmt.Errorf("%w: -data is not JSON", errUsage)
			}
			ev["datacontenttype"] = "application/json"
			ev["data"] = json.RawMessage(*data)
		}
		body, _ = json.Marshal(ev)
	}
	var out struct {
		Accepted int      `json:"accepted"`
		Rejected int      `json:"rejected"`
		IDs      []string `json:"ids"`
	}
	raw, err := c.do(ctx, http.MethodPost, "/events", nil, c.producer, contentType, body, &out)
	if c.asJSON && raw != nil {
		c.printRaw(raw)
	}
	if err != nil || c.asJSON {
		return err
	}
	for _, id := range out.IDs {
		fmt.Fprintln(c.out, id)
	}
	if out.Rejected > 0 {
		return fmt.Errorf("%d of %d events rejected (run with -json for the reasons)", out.Rejected, out.Accepted+out.Rejected)
	}
	return nil
}

// event is GET /events/{id}'s answer.
type event struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Event      json.RawMessage `json:"event"`
	SourceID   string          `json:"sourceId"`
	Format     string          `json:"format"`
	ReceivedAt string          `json:"receivedAt"`
	StoredAt   string          `json:"storedAt"`
	Duplicates int             `json:"duplicates"`
	AlertID    string          `json:"alertId"`
	Timeline   []struct {
		At             time.Time `json:"at"`
		Stage          string    `json:"stage"`
		Message        string    `json:"message"`
		SubscriptionID string    `json:"subscriptionId"`
		Attempt        int       `json:"attempt"`
		Status         int       `json:"status"`
		LatencyMs      int64     `json:"latencyMs"`
		Response       string    `json:"response"`
		Error          string    `json:"error"`
		Outcome        string    `json:"outcome"`
		ReplayID       string    `json:"replayId"`
	} `json:"timeline"`
	Deliveries []struct {
		SubscriptionID string `json:"subscriptionId"`
		WebhookID      string `json:"webhookId"`
		Status         string `json:"status"`
		Attempts       int    `json:"attempts"`
		NextAt         string `json:"nextAt"`
	} `json:"deliveries"`
}

// ce is the part of a CloudEvent the listings show.
type ce struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Time    string `json:"time"`
}

func cmdGet(ctx context.Context, c *client, args []string) error {
	fs := c.flags("get")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for an event not stored yet: eventhub stores an event a moment after its 202 (0: not at all)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 1, "one event id: get evt_..."); err != nil {
		return err
	}
	var ev event
	var raw []byte
	deadline := c.now().Add(*wait)
	for {
		raw, err = c.get(ctx, "/events/"+url.PathEscape(rest[0]), nil, &ev)
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !c.now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		return err
	}
	if c.asJSON {
		c.printRaw(raw)
		return nil
	}
	var attrs ce
	_ = json.Unmarshal(ev.Event, &attrs)
	fmt.Fprintf(c.out, "%s  %s\n", ev.ID, ev.Status)
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	if ev.Status == "stored" {
		fmt.Fprintf(w, "  id\t%s\n  source\t%s\n  type\t%s\n", attrs.ID, attrs.Source, attrs.Type)
		if attrs.Subject != "" {
			fmt.Fprintf(w, "  subject\t%s\n", attrs.Subject)
		}
		if attrs.Time != "" {
			fmt.Fprintf(w, "  time\t%s\n", attrs.Time)
		}
		fmt.Fprintf(w, "  received\t%s (source %s, format %s)\n  stored\t%s\n  duplicates\t%d\n", ev.ReceivedAt, ev.SourceID, ev.Format, ev.StoredAt, ev.Duplicates)
		if ev.AlertID != "" {
			fmt.Fprintf(w, "  alert\t%s\n", ev.AlertID)
		}
		fmt.Fprintf(w, "  event\t%s\n", ev.Event)
	}
	w.Flush()
	fmt.Fprintln(c.out, "timeline")
	w = tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	for _, e := range ev.Timeline {
		var what []string
		if e.SubscriptionID != "" {
			s := e.SubscriptionID
			if e.Attempt > 0 {
				s += " #" + strconv.Itoa(e.Attempt)
			}
			what = append(what, s)
		}
		if e.ReplayID != "" {
			what = append(what, "replay "+e.ReplayID)
		}
		if e.Status != 0 {
			what = append(what, "HTTP "+strconv.Itoa(e.Status))
		}
		if e.Stage == "attempt" || e.Stage == "replay" {
			what = append(what, fmt.Sprintf("%dms", e.LatencyMs))
		}
		for _, s := range []string{e.Error, e.Outcome, e.Message} {
			if s != "" {
				what = append(what, s)
			}
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", e.At.UTC().Format("2006-01-02T15:04:05.000Z"), e.Stage, strings.Join(what, "  "))
	}
	w.Flush()
	if len(ev.Deliveries) > 0 {
		fmt.Fprintln(c.out, "deliveries")
		w = tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
		for _, d := range ev.Deliveries {
			line := fmt.Sprintf("  %s\t%s\t%d attempts\twebhook-id %s", d.SubscriptionID, d.Status, d.Attempts, d.WebhookID)
			if d.NextAt != "" {
				line += "\tnext " + d.NextAt
			}
			fmt.Fprintln(w, line)
		}
		w.Flush()
	}
	return nil
}

// listed is one event of GET /events.
type listed struct {
	ID         string          `json:"id"`
	Event      json.RawMessage `json:"event"`
	ReceivedAt string          `json:"receivedAt"`
	AlertID    string          `json:"alertId"`
}

type listPage struct {
	Events []listed `json:"events"`
	Cursor string   `json:"cursor"`
}

func printListed(w io.Writer, e listed) {
	var a ce
	_ = json.Unmarshal(e.Event, &a)
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ReceivedAt, e.ID, a.Source, a.Type, a.Subject, a.ID)
}

func cmdList(ctx context.Context, c *client, args []string) error {
	fs := c.flags("list")
	q := url.Values{}
	for _, name := range []string{"source", "type", "subject", "since", "until", "limit", "cursor"} {
		fs.Func(name, name, func(v string) error { q.Set(name, v); return nil })
	}
	all := fs.Bool("all", false, "read every page")
	oldest := fs.Bool("oldest", false, "oldest first")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 0, "no arguments besides flags"); err != nil {
		return err
	}
	if *oldest {
		q.Set("order", "oldest")
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	if !c.asJSON {
		fmt.Fprintln(w, "RECEIVED\tID\tSOURCE\tTYPE\tSUBJECT\tEVENT ID")
	}
	for {
		var page listPage
		raw, err := c.get(ctx, "/events", q, &page)
		if err != nil {
			return err
		}
		if c.asJSON {
			c.printRaw(raw)
		} else {
			for _, e := range page.Events {
				printListed(w, e)
			}
		}
		if page.Cursor == "" {
			break
		}
		if !*all {
			if !c.asJSON {
				w.Flush()
				fmt.Fprintf(c.out, "more: eventhub list -cursor %s (or -all)\n", page.Cursor)
			}
			return nil
		}
		q.Set("cursor", page.Cursor)
	}
	return w.Flush()
}

// cmdTail follows new events: it lists the recent past, oldest first, every interval
// and prints what it has not printed yet. It looks back a lag behind the newest event
// seen, because an event is listed once it is stored, some time after it was received.
func cmdTail(ctx context.Context, c *client, args []string) error {
	fs := c.flags("tail")
	q := url.Values{"order": {"oldest"}, "limit": {"100"}}
	for _, name := range []string{"source", "type", "subject"} {
		fs.Func(name, name, func(v string) error { q.Set(name, v); return nil })
	}
	since := fs.String("since", "", "start this far back (default: now)")
	interval := fs.Duration("interval", time.Second, "time between polls")
	lag := fs.Duration("lag", 30*time.Second, "how far behind the newest event to keep looking for late ones")
	count := fs.Int("n", 0, "stop after this many events (0: until interrupted)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 0, "no arguments besides flags"); err != nil {
		return err
	}
	from := c.now().UTC()
	if *since != "" {
		if from, err = parseWhen(*since, c.now()); err != nil {
			return fmt.Errorf("%w: -since: %v", errUsage, err)
		}
	}
	seen := map[string]time.Time{}
	printed := 0
	newest := from
	for {
		q.Set("since", newest.Add(-*lag).Format(time.RFC3339Nano))
		q.Del("cursor")
		for {
			var page listPage
			if _, err := c.get(ctx, "/events", q, &page); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, e := range page.Events {
				at, _ := time.Parse(time.RFC3339Nano, e.ReceivedAt)
				if _, ok := seen[e.ID]; ok || at.Before(from) {
					continue
				}
				seen[e.ID] = at
				if at.After(newest) {
					newest = at
				}
				if c.asJSON {
					b, _ := json.Marshal(e)
					fmt.Fprintf(c.out, "%s\n", b)
				} else {
					var a ce
					_ = json.Unmarshal(e.Event, &a)
					fmt.Fprintf(c.out, "%s  %s  %s  %s  %s\n", e.ReceivedAt, e.ID, a.Source, a.Type, a.Subject)
				}
				printed++
				if *count > 0 && printed >= *count {
					return nil
				}
			}
			if page.Cursor == "" {
				break
			}
			q.Set("cursor", page.Cursor)
		}
		for id, at := range seen {
			if at.Before(newest.Add(-2 * *lag)) {
				delete(seen, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// parseWhen reads an RFC 3339 time or a duration before now (15m, 2h, 7d).
func parseWhen(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if n, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	}
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 15m", v)
	}
	return now.Add(-d).UTC(), nil
}

// job is a replay job as GET /replays/{id} shows it.
type job struct {
	ID             string `json:"id"`
	Kind           string `json:"kind"`
	Status         string `json:"status"`
	SubscriptionID string `json:"subscriptionId"`
	EventID        string `json:"eventId"`
	Total          int    `json:"total"`
	Done           int    `json:"done"`
	Failed         int    `json:"failed"`
	Scanned        int    `json:"scanned"`
}

func (j job) String() string {
	s := fmt.Sprintf("%s\t%s\t%s\ttotal %d\tdone %d\tfailed %d", j.ID, j.Kind, j.Status, j.Total, j.Done, j.Failed)
	if j.Kind == "window" {
		s += fmt.Sprintf("\tscanned %d", j.Scanned)
	}
	return s
}

func cmdReplay(ctx context.Context, c *client, args []string) error {
	fs := c.flags("replay")
	sub := fs.String("subscription", "", "the subscription to replay to (for one event: default every matching one)")
	since := fs.String("since", "", "start of the window to replay")
	until := fs.String("until", "", "end of the window (default now)")
	pattern := fs.String("pattern", "", "EventBridge pattern over the stored CloudEvent (default: every event)")
	wait := fs.Bool("wait", false, "follow the job until it completes")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	var j job
	var raw []byte
	switch {
	case len(rest) == 1:
		if *since != "" || *until != "" || *pattern != "" {
			return fmt.Errorf("%w: replay of one event takes only -subscription", errUsage)
		}
		var body any
		if *sub != "" {
			body = map[string]string{"subscription": *sub}
		}
		raw, err = c.postJSON(ctx, "/events/"+url.PathEscape(rest[0])+"/replay", body, &j)
	case len(rest) == 0:
		if *since == "" || *sub == "" {
			return fmt.Errorf("%w: replay <event id>, or a window: -since T -subscription sub_... [-until T] [-pattern JSON]", errUsage)
		}
		in := map[string]any{"since": *since, "subscription": *sub}
		if *until != "" {
			in["until"] = *until
		}
		if *pattern != "" {
			if !json.Valid([]byte(*pattern)) {
				return fmt.Errorf("%w: -pattern is not JSON", errUsage)
			}
			in["pattern"] = json.RawMessage(*pattern)
		}
		raw, err = c.postJSON(ctx, "/replays", in, &j)
	default:
		return fmt.Errorf("%w: at most one event id", errUsage)
	}
	if err != nil {
		return err
	}
	if !*wait {
		if c.asJSON {
			c.printRaw(raw)
		} else {
			fmt.Fprintln(c.out, j)
		}
		return nil
	}
	return c.follow(ctx, j.ID)
}

// follow prints a replay job's progress until it completes.
func (c *client) follow(ctx context.Context, id string) error {
	last := ""
	for {
		var j job
		raw, err := c.get(ctx, "/replays/"+url.PathEscape(id), nil, &j)
		if err != nil {
			return err
		}
		if line := j.String(); line != last && !c.asJSON {
			fmt.Fprintln(c.out, line)
			last = line
		}
		if j.Status == "completed" {
			if c.asJSON {
				c.printRaw(raw)
			}
			if j.Failed > 0 {
				return fmt.Errorf("%d of %d deliveries failed (see the events' timelines)", j.Failed, j.Total)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func cmdReplays(ctx context.Context, c *client, args []string) error {
	fs := c.flags("replays")
	wait := fs.Bool("wait", false, "follow the job until it completes")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 1, "one replay id: replays rpl_..."); err != nil {
		return err
	}
	if *wait {
		return c.follow(ctx, rest[0])
	}
	var j job
	raw, err := c.get(ctx, "/replays/"+url.PathEscape(rest[0]), nil, &j)
	if err != nil {
		return err
	}
	if c.asJSON {
		c.printRaw(raw)
	} else {
		fmt.Fprintln(c.out, j)
	}
	return nil
}

func cmdQuarantine(ctx context.Context, c *client, args []string) error {
	fs := c.flags("quarantine")
	q := url.Values{}
	for _, name := range []string{"source", "limit", "cursor"} {
		fs.Func(name, name, func(v string) error { q.Set(name, v); return nil })
	}
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 0, "no arguments besides flags"); err != nil {
		return err
	}
	var page struct {
		Items []struct {
			ID, Key, SourceID, Format, Reason string
			At                                time.Time
			Resubmits                         int
			Raw                               json.RawMessage
		} `json:"items"`
		Cursor string `json:"cursor"`
	}
	raw, err := c.get(ctx, "/quarantine", q, &page)
	if err != nil || c.asJSON {
		if err == nil {
			c.printRaw(raw)
		}
		return err
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "AT\tID\tEVENT\tSOURCE\tFORMAT\tRESUBMITS\tREASON")
	for _, it := range page.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", it.At.UTC().Format(time.RFC3339), it.ID, it.Key, it.SourceID, it.Format, it.Resubmits, it.Reason)
	}
	w.Flush()
	if page.Cursor != "" {
		fmt.Fprintf(c.out, "more: eventhub quarantine -cursor %s\n", page.Cursor)
	}
	return nil
}

func cmdResubmit(ctx context.Context, c *client, args []string) error {
	fs := c.flags("resubmit")
	format := fs.String("format", "", "format to read it with (default: its source's current format)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 1, "one quarantined event id"); err != nil {
		return err
	}
	var body any
	if *format != "" {
		body = map[string]string{"format": *format}
	}
	var out struct {
		ID, Key, Format string
	}
	raw, err := c.postJSON(ctx, "/quarantine/"+url.PathEscape(rest[0])+"/resubmit", body, &out)
	if err != nil || c.asJSON {
		if err == nil {
			c.printRaw(raw)
		}
		return err
	}
	fmt.Fprintf(c.out, "resubmitted %s with format %s", out.ID, out.Format)
	if out.Key != "" {
		fmt.Fprintf(c.out, ": follow it with eventhub get %s", out.Key)
	}
	fmt.Fprintln(c.out)
	return nil
}

func cmdAlerts(ctx context.Context, c *client, args []string) error {
	fs := c.flags("alerts")
	q := url.Values{}
	for _, name := range []string{"status", "limit", "cursor"} {
		fs.Func(name, name, func(v string) error { q.Set(name, v); return nil })
	}
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 1 {
		raw, err := c.get(ctx, "/alerts/"+url.PathEscape(rest[0]), nil, nil)
		if err == nil {
			c.printRaw(raw)
		}
		return err
	}
	if err := want(rest, 0, "at most one alert id"); err != nil {
		return err
	}
	var page struct {
		Alerts []struct {
			ID, Name, Status string
			Count, Severity  int
			LastSeen         time.Time
			DedupeKeys       map[string]string
		} `json:"alerts"`
		Cursor string `json:"cursor"`
	}
	raw, err := c.get(ctx, "/alerts", q, &page)
	if err != nil || c.asJSON {
		if err == nil {
			c.printRaw(raw)
		}
		return err
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "LAST SEEN\tID\tSTATUS\tCOUNT\tSEVERITY\tNAME\tKEYS")
	for _, a := range page.Alerts {
		keys, _ := json.Marshal(a.DedupeKeys)
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", a.LastSeen.UTC().Format(time.RFC3339), a.ID, a.Status, a.Count, a.Severity, a.Name, keys)
	}
	w.Flush()
	if page.Cursor != "" {
		fmt.Fprintf(c.out, "more: eventhub alerts -cursor %s\n", page.Cursor)
	}
	return nil
}
