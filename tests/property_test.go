package tests

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

var (
	propertySeed   = flag.Uint64("property.seed", 0, "seed of TestPropertyEveryAcceptedEventEnds (0: from the clock, logged)")
	propertyEvents = flag.Int("property.events", 160, "events TestPropertyEveryAcceptedEventEnds generates")
)

// generated is one event of the property test: its JSON, and what ingest answered.
type generated struct {
	body         string
	note         string // how it was made, for failure messages
	status       int
	id           string // accepted: the key
	quarantineID string // accepted into quarantine
}

// eventGen makes events at and around every limit the pipeline has: sizes of source,
// type, subject and data on either side of DynamoDB's and EventBridge's limits,
// compressible and not; missing and malformed attributes; extensions; repeats of an
// earlier id; values the source does not own.
type eventGen struct {
	r       *rand.Rand
	owned   string // prefix the sources own
	ids     []string
	sources []string
}

func (g *eventGen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

func (g *eventGen) text(n int, compressible bool) string {
	if n <= 0 {
		return ""
	}
	if compressible {
		return strings.Repeat(g.pick("a", "ab", "事件", "xyz "), n)[:n]
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)[:n]
}

// size is a length drawn around the limits: small most of the time.
func (g *eventGen) size(limits ...int) int {
	if g.r.IntN(3) > 0 {
		return g.r.IntN(64)
	}
	l := limits[g.r.IntN(len(limits))]
	return max(0, l+g.r.IntN(4096)-2048)
}

func (g *eventGen) event() (string, string) {
	ev := map[string]any{"specversion": "1.0"}
	var notes []string
	// id: new, or a repeat of an earlier one under the same source.
	source := g.owned + g.text(g.size(2040, 2100), true)
	id := fmt.Sprintf("p-%d", g.r.Uint64())
	if len(g.ids) > 0 && g.r.IntN(8) == 0 {
		i := g.r.IntN(len(g.ids))
		id, source = g.ids[i], g.sources[i]
		notes = append(notes, "repeat")
	}
	if g.r.IntN(25) == 0 {
		source = "/not-owned/" + id
		notes = append(notes, "not owned")
	}
	ev["id"], ev["source"] = id, source
	ev["type"] = "prop." + g.text(g.size(2040, 2100), true)
	if g.r.IntN(30) == 0 {
		delete(ev, "type")
		notes = append(notes, "no type")
	}
	if n := g.size(200<<10, 245<<10, 410<<10); n > 0 && g.r.IntN(2) == 0 {
		ev["subject"] = g.text(n, g.r.IntN(2) == 0)
	}
	switch g.r.IntN(6) {
	case 0:
		ev["time"] = "2026-11-23T10:00:00Z"
	case 1:
		ev["time"] = g.pick("yesterday", "2026-13-01T00:00:00Z", "")
		notes = append(notes, "bad time")
	}
	if g.r.IntN(4) == 0 {
		ev["ext"+g.pick("a", "b", "c")] = g.text(g.size(300<<10), g.r.IntN(2) == 0)
	}
	if g.r.IntN(40) == 0 {
		ev["Bad-Name"] = "x"
		notes = append(notes, "bad extension name")
	}
	if n := g.size(100<<10, 300<<10, 400<<10, 800<<10); n > 0 || g.r.IntN(2) == 0 {
		compressible := g.r.IntN(2) == 0
		ev["datacontenttype"] = "application/json"
		ev["data"] = map[string]any{"blob": g.text(n, compressible), "n": g.r.IntN(1000)}
		notes = append(notes, fmt.Sprintf("data %d compressible %v", n, compressible))
	}
	b, _ := json.Marshal(ev)
	if id, ok := ev["id"].(string); ok && len(b) < 900<<10 {
		g.ids, g.sources = append(g.ids, id), append(g.sources, source)
	}
	return string(b), fmt.Sprintf("%d bytes, source %d, type %d, subject %d; %s", len(b), len(source), len(fmt.Sprint(ev["type"])), len(fmt.Sprint(ev["subject"])), strings.Join(notes, ", "))
}

// TestPropertyEveryAcceptedEventEnds posts generated events, alone and in batches, to
// a source that rejects what it cannot keep and to one that quarantines it, and checks
// the promise of a 202: every accepted event ends stored (a repeat of a stored one is
// counted on it) or in quarantine, visibly; no answer is a 5xx.
func TestPropertyEveryAcceptedEventEnds(t *testing.T) {
	needStack(t)
	seed := *propertySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -property.seed=%d)", seed, seed)
	prefix := unique("/prop") + "/"
	reject := register(t, fmt.Sprintf(`{"name":"property reject","format":"cloudevents","owns":{"prefixes":[%q]}}`, prefix+"r/"))
	quarantine := register(t, fmt.Sprintf(`{"name":"property quarantine","format":"cloudevents","onInvalid":"quarantine","owns":{"prefixes":[%q]}}`, prefix+"q/"))

	var all []*generated
	counts := map[string]int{}
	for _, src := range []struct {
		token, owned string
	}{{reject.Token, prefix + "r/"}, {quarantine.Token, prefix + "q/"}} {
		g := &eventGen{r: rand.New(rand.NewPCG(seed, uint64(len(src.owned)))), owned: src.owned}
		for sent := 0; sent < *propertyEvents/2; {
			n := 1
			if g.r.IntN(3) == 0 {
				n = 2 + g.r.IntN(4)
			}
			batch := make([]*generated, n)
			bodies := make([]string, n)
			for i := range batch {
				body, note := g.event()
				batch[i] = &generated{body: body, note: note}
				bodies[i] = body
			}
			sent += n
			req := bodies[0]
			ct := "application/cloudevents+json"
			if n > 1 {
				req, ct = "["+strings.Join(bodies, ",")+"]", "application/cloudevents-batch+json"
			}
			status, raw := postAs(t, src.token, ct, "/events", req)
			if status >= 500 {
				t.Fatalf("POST %d events = %d %.300s; a 5xx (notes: %s)", n, status, raw, batch[0].note)
			}
			counts[fmt.Sprint(status)]++
			var out struct {
				Results []struct {
					ID           string `json:"id"`
					QuarantineID string `json:"quarantineId"`
				} `json:"results"`
			}
			_ = json.Unmarshal(raw, &out)
			if status == http.StatusAccepted || status == http.StatusMultiStatus {
				if len(out.Results) != n {
					t.Fatalf("POST %d events = %d %.300s; want a result for each", n, status, raw)
				}
				for i, r := range out.Results {
					batch[i].status, batch[i].id, batch[i].quarantineID = status, r.ID, r.QuarantineID
				}
			}
			all = append(all, batch...)
		}
	}
	accepted, quarantined := 0, 0
	deadline := time.Now().Add(90 * time.Second)
	for _, e := range all {
		if e.id == "" && e.quarantineID == "" {
			continue
		}
		accepted++
		ended := func() (bool, string) {
			if e.quarantineID != "" {
				if call(t, http.MethodGet, "/quarantine/"+e.quarantineID, local.AdminToken, "", nil) == http.StatusOK {
					return true, "quarantined"
				}
				return false, ""
			}
			var d struct{ Status string }
			if call(t, http.MethodGet, "/events/"+e.id, local.AdminToken, "", &d) == http.StatusOK && (d.Status == "stored" || d.Status == "quarantined") {
				return true, d.Status
			}
			return false, ""
		}
		for {
			ok, state := ended()
			if ok {
				counts[state]++
				if state == "quarantined" {
					quarantined++
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("accepted event (id %q, quarantine %q; %s) is neither stored nor quarantined", e.id, e.quarantineID, e.note)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("%d events generated, %d accepted (%d ended in quarantine); answers and ends: %v", len(all), accepted, quarantined, counts)
	if accepted == 0 || accepted == len(all) {
		t.Errorf("%d of %d accepted: the generator does not reach both sides of the limits", accepted, len(all))
	}
}
