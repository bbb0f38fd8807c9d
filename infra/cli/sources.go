package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"

	"github.com/eventhub/eventhub/shared/ownership"
)

// sourceDoc is a producer source as GET /sources shows it.
type sourceDoc struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Version      int64         `json:"version"`
	Owned        ownership.Set `json:"owned"`
	Transitional bool          `json:"transitional"`
}

// migration is what `sources migrate` proposes for one transitional source.
type migration struct {
	src      sourceDoc
	grant    []string            // values only it published, grantable
	shared   map[string][]string // value → the other sources that published it too
	refused  map[string]string   // value → why it cannot be granted
	tooMany  bool
	observed int
}

// cmdSources runs `sources migrate [-apply] [-since T]`: it gives every transitional
// source (registered before sources owned their CloudEvents sources) a grant of the
// values only it has published, read from the stored events through the API. Without
// -apply it only prints the plan.
func cmdSources(ctx context.Context, c *client, args []string) error {
	fs := c.flags("sources")
	apply := fs.Bool("apply", false, "grant the values (else print the plan only)")
	since := fs.String("since", "", "read the events stored since then (default: all that are kept)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := want(rest, 1, `"migrate"`); err != nil || rest[0] != "migrate" {
		return fmt.Errorf("%w: want `sources migrate [-apply] [-since T]`", errUsage)
	}
	var list struct {
		Sources []sourceDoc `json:"sources"`
	}
	if _, err := c.get(ctx, "/sources", nil, &list); err != nil {
		return err
	}
	plan := planMigration(list.Sources, nil)
	if len(plan) == 0 {
		fmt.Fprintln(c.out, "no transitional sources: every source has a grant")
		return nil
	}
	published, err := c.published(ctx, *since)
	if err != nil {
		return err
	}
	plan = planMigration(list.Sources, published)
	for _, m := range plan {
		m.print(c)
		if !*apply || m.tooMany {
			continue
		}
		body, _ := json.Marshal(map[string]any{"owns": ownership.Set{Exact: m.grant}, "version": m.src.Version})
		if _, err := c.do(ctx, http.MethodPatch, "/sources/"+m.src.ID, nil, c.admin, "application/json", body, nil); err != nil {
			return fmt.Errorf("grant %s: %w", m.src.ID, err)
		}
		fmt.Fprintf(c.out, "  granted: %s is no longer transitional\n", m.src.ID)
	}
	if !*apply {
		fmt.Fprintln(c.out, "dry run: eventhub sources migrate -apply grants these")
	}
	return nil
}

// published reads every stored event through GET /events and returns, per producer
// source id, the CloudEvents sources it published.
func (c *client) published(ctx context.Context, since string) (map[string]map[string]bool, error) {
	q := url.Values{"limit": {"100"}}
	if since != "" {
		t, err := parseWhen(since, c.now())
		if err != nil {
			return nil, fmt.Errorf("%w: -since: %v", errUsage, err)
		}
		q.Set("since", t.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
	out := map[string]map[string]bool{}
	for {
		var page struct {
			Events []struct {
				SourceID string `json:"sourceId"`
				Event    struct {
					Source string `json:"source"`
				} `json:"event"`
			} `json:"events"`
			Cursor string `json:"cursor"`
		}
		if _, err := c.get(ctx, "/events", q, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			if e.SourceID == "" || e.Event.Source == "" {
				continue
			}
			if out[e.SourceID] == nil {
				out[e.SourceID] = map[string]bool{}
			}
			out[e.SourceID][e.Event.Source] = true
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Set("cursor", page.Cursor)
	}
}

// planMigration proposes a grant for each transitional source: the values it
// published that it does not own yet, that no other source published or owns, and
// that may be granted.
func planMigration(srcs []sourceDoc, published map[string]map[string]bool) []migration {
	var plan []migration
	for _, s := range srcs {
		if !s.Transitional {
			continue
		}
		m := migration{src: s, shared: map[string][]string{}, refused: map[string]string{}, observed: len(published[s.ID])}
		for v := range published[s.ID] {
			if s.Owned.Allows(v) {
				continue
			}
			if r := ownership.Reason(v, false); r != "" {
				m.refused[v] = r
				continue
			}
			var others []string
			for _, o := range srcs {
				if o.ID == s.ID {
					continue
				}
				if published[o.ID][v] || (!o.Transitional && o.Owned.Allows(v)) {
					others = append(others, o.ID)
				}
			}
			if len(others) > 0 {
				m.shared[v] = others
				continue
			}
			m.grant = append(m.grant, v)
		}
		sort.Strings(m.grant)
		m.tooMany = len(m.grant) > ownership.MaxValues
		plan = append(plan, m)
	}
	return plan
}

func (m migration) print(c *client) {
	fmt.Fprintf(c.out, "%s (%s): published %d CloudEvents sources\n", m.src.ID, m.src.Name, m.observed)
	for _, v := range m.grant {
		fmt.Fprintf(c.out, "  grant   %q\n", v)
	}
	for _, v := range sortedKeys(m.shared) {
		fmt.Fprintf(c.out, "  shared  %q with %v: granted to none, decide with PATCH /sources/{id}\n", v, m.shared[v])
	}
	for _, v := range sortedKeys(m.refused) {
		fmt.Fprintf(c.out, "  refused %q: %s\n", v, m.refused[v])
	}
	if m.tooMany {
		fmt.Fprintf(c.out, "  %d values: more than a grant holds (%d); grant prefixes by hand with PATCH /sources/%s\n", len(m.grant), ownership.MaxValues, m.src.ID)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
