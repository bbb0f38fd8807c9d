package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The console (issue 17) in a real browser: Debian's chromium, headless, driven by
// chromedp against the local stack. Every page it visits is saved to
// .eventhub/screenshots/.

// browser starts a headless chromium with a fresh profile and no traffic of its own.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make test` installs it (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout of its own
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// page is a browser tab on the console.
type page struct {
	t   *testing.T
	ctx context.Context
}

// do runs the steps, each bounded to 30 seconds.
func (p page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

func (p page) str(expr string) string {
	p.t.Helper()
	v, err := eval[string](p, expr)
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// until polls a JavaScript condition until it is true.
func (p page) until(timeout time.Duration, what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ok, err := eval[bool](p, "!!("+expr+")"); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := eval[string](p, "document.body.innerText")
			p.t.Fatalf("timed out after %s waiting for %s; the page reads:\n%s", timeout, what, body)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func (p page) open(hash string) {
	p.t.Helper()
	p.str(fmt.Sprintf("location.hash = %q", hash))
}

func (p page) text(sel string) string {
	p.t.Helper()
	return p.str(fmt.Sprintf("(document.querySelector(%q) || {}).textContent || ''", sel))
}

// fill sets a field's value as typing would, input event included.
func (p page) fill(sel, value string) {
	p.t.Helper()
	p.do("fill "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
	p.str(fmt.Sprintf("document.querySelector(%q).dispatchEvent(new Event('input')) && ''", sel))
}

func (p page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// shot saves the page to .eventhub/screenshots/<name>.png.
func (p page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()) // the viewport: small files
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", ".eventhub", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// noData reports whether the page shows nothing but the sign-in form.
const noData = `document.getElementById('page').childElementCount === 0 && document.getElementById('nav').hidden && !document.getElementById('login').hidden`

func TestConsole(t *testing.T) {
	needStack(t)
	p := page{t: t, ctx: browser(t)}
	consoleURL := local.APIURL + "/console"

	// No token: the sign-in form, and nothing else.
	p.do("open the console", chromedp.Navigate(consoleURL), chromedp.WaitVisible(chromedp.CSS("#login")))
	p.until(5*time.Second, "the sign-in form alone", noData)
	p.open("#/events")
	p.until(5*time.Second, "the sign-in form alone for #/events", noData)
	p.shot("login")

	// A wrong token: refused, still nothing shown, and not kept.
	p.fill("#token", "eha_wrong_token")
	p.click("#login-form button[type=submit]")
	p.until(10*time.Second, "the refusal", `document.getElementById('login-error').textContent.includes('refused')`)
	p.until(time.Second, "the sign-in form alone after a wrong token", noData)
	if kept := p.str(`sessionStorage.getItem('eventhub.adminToken') || ''`); kept != "" {
		t.Errorf("a refused token is kept in sessionStorage: %q", kept)
	}

	// The admin token: the overview.
	p.fill("#token", local.AdminToken)
	p.click("#login-form button[type=submit]")
	p.open("#/overview")
	p.until(15*time.Second, "the overview's charts", `document.querySelectorAll('.cards svg').length >= 6`)
	if persisted := p.str(`localStorage.length + ':' + document.cookie`); persisted != "0:" {
		t.Errorf("the console keeps state beyond the session: localStorage/cookies %q", persisted)
	}

	// A posted event arrives in the live list, and its timeline opens.
	typ := fmt.Sprintf("e2e.console.t%d", time.Now().UnixNano())
	p.open("#/events")
	p.until(10*time.Second, "the events list", `document.querySelector('#event-list table')`)
	ceID, body := cloudEvent(typ)
	key := post(t, body)
	p.until(30*time.Second, "event "+ceID+" in the live list", fmt.Sprintf(`document.querySelector('a[data-event-id=%q]')`, ceID))
	p.shot("events")
	p.click(fmt.Sprintf(`a[data-event-id=%q]`, ceID))
	p.until(15*time.Second, "the timeline of "+key, `[...document.querySelectorAll('#timeline li strong')].some(e => e.textContent === 'stored')`)
	p.shot("event")

	// A subscription made with the pattern editor, which shows the event matching.
	var mu sync.Mutex
	h := newHook(t, status(http.StatusNoContent))
	p.open("#/subscriptions/new")
	p.until(10*time.Second, "the subscription form", `document.getElementById('subscription-form')`)
	p.fill("#s-name", t.Name())
	p.fill("#s-url", h.URL)
	p.fill("#s-pattern", fmt.Sprintf(`{"type":[%q]}`, typ))
	p.until(15*time.Second, "the pattern editor's one match", fmt.Sprintf(
		`(document.querySelector('#pattern-matches p') || {textContent: ''}).textContent.startsWith('Matches 1 of') && `+
			`[...document.querySelectorAll('#pattern-matches tr')].some(r => r.textContent.includes(%q) && r.textContent.includes('✓ match'))`, ceID))
	p.shot("subscription-new")
	p.click("#subscription-form button[type=submit]")
	p.until(15*time.Second, "the new subscription's secret", `document.querySelector('[data-secret]')`)
	subID := p.text("#created-id")
	secret := p.text("[data-secret]")
	t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+subID, local.AdminToken, "", nil) })
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown %q; want whsec_...", secret)
	}
	h.verifyWith(secret)

	// Its delivery, seen on the subscription's page.
	_, body = cloudEvent(typ)
	delivered := post(t, body)
	waitDelivery(t, delivered, subID, "delivered", 30*time.Second)
	p.open("#/subscriptions/" + subID)
	p.until(10*time.Second, "the delivery on the subscription's page", fmt.Sprintf(
		`[...document.querySelectorAll('tr')].some(r => r.textContent.includes(%q) && r.querySelector('[data-delivery-status=delivered]'))`, delivered))
	if reqs := h.requests(); len(reqs) == 0 || reqs[len(reqs)-1].SigErr != "" {
		t.Errorf("deliveries %+v; want one signed with the secret the console showed", reqs)
	}

	// Rotate its secret: the new one is shown once, and signs the next delivery.
	p.click("#rotate-secret")
	p.until(10*time.Second, "the rotated secret", `document.querySelector('#sub-status [data-secret]')`)
	rotated := p.text("#sub-status [data-secret]")
	if !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
		t.Errorf("rotated secret %q; want a new whsec_ secret", rotated)
	}
	p.shot("subscription")
	h.verifyWith(rotated)
	_, body = cloudEvent(typ)
	waitDelivery(t, post(t, body), subID, "delivered", 30*time.Second)
	if reqs := h.requests(); reqs[len(reqs)-1].SigErr != "" {
		t.Errorf("the delivery after the rotation: %s; want it signed with the rotated secret", reqs[len(reqs)-1].SigErr)
	}

	// Retry a failed delivery from the console.
	code := http.StatusInternalServerError
	failing := newHook(t, func(int, hookRequest) hookAnswer {
		mu.Lock()
		defer mu.Unlock()
		return hookAnswer{Status: code}
	})
	ftyp := typ + ".failing"
	fsub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["0s"]}`, failing.URL, ftyp))
	failing.verifyWith(fsub.Secret)
	_, body = cloudEvent(ftyp)
	fkey := post(t, body)
	waitDelivery(t, fkey, fsub.ID, "failed", 30*time.Second)
	mu.Lock()
	code = http.StatusNoContent
	mu.Unlock()
	p.open("#/subscriptions/" + fsub.ID)
	p.until(10*time.Second, "the failed delivery's retry button", fmt.Sprintf(`document.querySelector('button[data-retry=%q]')`, fkey))
	p.click(fmt.Sprintf(`button[data-retry=%q]`, fkey))
	waitDelivery(t, fkey, fsub.ID, "delivered", 30*time.Second)

	// Re-submit a quarantined event with the format that reads it.
	var src struct{ ID, Token string }
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-console-quarantine","format":"juno","onInvalid":"quarantine","owns":{}}`, &src); status != http.StatusCreated {
		t.Fatalf("POST /sources = %d", status)
	}
	status, raw := send(t, http.MethodPost, "/events", src.Token, "application/json", []byte(`{"id":11980,"app_name":"console","create_time":1603942730}`))
	var q struct {
		Results []struct {
			QuarantineID string `json:"quarantineId"`
		}
	}
	if err := json.Unmarshal(raw, &q); err != nil || status != http.StatusAccepted || len(q.Results) != 1 || q.Results[0].QuarantineID == "" {
		t.Fatalf("POST /events = %d %s; want 202 with a quarantine id", status, raw)
	}
	qid := q.Results[0].QuarantineID
	p.open("#/quarantine")
	eventually(t, 20*time.Second, "quarantine item "+qid, func() bool {
		return call(t, http.MethodGet, "/quarantine/"+qid, local.AdminToken, "", nil) == http.StatusOK
	})
	p.open("#/overview")
	p.open("#/quarantine")
	p.until(10*time.Second, "the quarantined event's re-submit button", fmt.Sprintf(`document.querySelector('button[data-resubmit=%q]')`, qid))
	p.shot("quarantine")
	p.fill("#fmt-"+qid, "generic")
	p.click(fmt.Sprintf(`button[data-resubmit=%q]`, qid))
	p.until(10*time.Second, "the re-submission", `document.querySelector('#quarantine-status .ok')`)
	eventually(t, 20*time.Second, "the re-submitted event stored", func() bool {
		var events struct{ Events []json.RawMessage }
		call(t, http.MethodGet, "/events?source=/sources/"+src.ID, local.AdminToken, "", &events)
		return len(events.Events) == 1
	})

	// N good and M bad events, counted on the overview.
	const n, m = 4, 3
	count := func() (int, int) {
		p.open("#/sources")
		p.open("#/overview")
		p.until(15*time.Second, "the overview's counters", `document.getElementById('stat-accepted')`)
		a, _ := strconv.Atoi(p.text("#stat-accepted"))
		r, _ := strconv.Atoi(p.text("#stat-rejected"))
		return a, r
	}
	a0, r0 := count()
	for range n {
		_, body := cloudEvent(typ + ".counted")
		post(t, body)
	}
	for i := range m {
		bad := fmt.Sprintf(`{"specversion":"1.0","id":"bad-%d-%d","source":"/e2e/tests"}`, time.Now().UnixNano(), i) // no type
		if status, raw := send(t, http.MethodPost, "/events", producer, "application/cloudevents+json", []byte(bad)); status != http.StatusBadRequest {
			t.Fatalf("bad event = %d %s; want 400", status, raw)
		}
	}
	a1, r1 := count()
	if a1-a0 != n || r1-r0 != m {
		t.Errorf("overview went from %d accepted, %d rejected to %d, %d; want %d more accepted and %d more rejected", a0, r0, a1, r1, n, m)
	}
	p.shot("overview")

	// The remaining pages, at laptop width and one at phone width.
	for _, pg := range []string{"sources", "types", "alerts", "replays", "subscriptions"} {
		p.open("#/" + pg)
		p.until(10*time.Second, "the "+pg+" page", `document.querySelector('#page h1')`)
		p.shot(pg)
	}
	p.do("phone width", chromedp.EmulateViewport(390, 844))
	p.open("#/overview")
	p.until(15*time.Second, "the overview at phone width", `document.querySelectorAll('.cards svg').length >= 6`)
	if p.str(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`) == "true" {
		t.Error("the overview scrolls sideways at phone width")
	}
	p.shot("overview-phone")

	// Signing out forgets the token: back to the sign-in form.
	p.click("#logout")
	p.until(5*time.Second, "the sign-in form after signing out", noData)
}
