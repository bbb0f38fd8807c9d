package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// eventhubCLI builds infra/cli once and returns the binary.
func eventhubCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eventhub-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "eventhub")
		out, err := exec.Command("go", "build", "-o", cliPath, "../infra/cli").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build ./infra/cli: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// eventhub runs the CLI against the test stack, as the README shows it against
// `make run`, and returns its standard output.
func eventhub(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, eventhubCLI(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "EVENTHUB_API="+local.APIURL, "EVENTHUB_ADMIN_TOKEN="+local.AdminToken, "EVENTHUB_TOKEN="+producer)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("eventhub %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

var evtID = regexp.MustCompile(`evt_[a-z2-7]{26}`)

func TestCLI(t *testing.T) {
	needStack(t)
	eventhubCLI(t)
	r := newReceiver(t, always(200))
	typ := unique("cli.order.created")
	sub := subscribe(t, r, typ)

	// tail follows from now: start it first, in the background.
	tailCtx, stopTail := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopTail()
	tail := exec.CommandContext(tailCtx, eventhubCLI(t), "tail", "-type", typ, "-n", "2", "-interval", "200ms")
	tail.Env = append(os.Environ(), "EVENTHUB_API="+local.APIURL, "EVENTHUB_ADMIN_TOKEN="+local.AdminToken)
	var tailOut bytes.Buffer
	tail.Stdout = &tailOut
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)

	out := eventhub(t, "send", "-type", typ, "-source", "/shop/orders", "-id", unique("order"), "-subject", "order-1001", "-data", `{"total":42}`)
	id := evtID.FindString(out)
	if id == "" {
		t.Fatalf("send printed %q; want the event id", out)
	}
	second := evtID.FindString(eventhub(t, "send", "-type", typ, "-source", "/shop/orders", "-data", `{"total":7}`))
	eventually(t, 20*time.Second, "two deliveries", func() bool { return len(r.deliveries()) == 2 })

	got := eventhub(t, "get", id)
	for _, want := range []string{id + "  stored", "order.created", "order-1001", "received", "normalized", "stored", "attempt", sub, "delivered"} {
		if !strings.Contains(got, want) {
			t.Errorf("get printed:\n%s\nwant %q in it", got, want)
		}
	}
	list := eventhub(t, "list", "-type", typ, "-limit", "1", "-all")
	if i, j := strings.Index(list, second), strings.Index(list, id); i < 0 || j < 0 || i > j {
		t.Errorf("list printed:\n%s\nwant %s then %s (newest first)", list, second, id)
	}
	var page struct{ Events []struct{ ID string } }
	if err := json.Unmarshal([]byte(eventhub(t, "list", "-type", typ, "-json")), &page); err != nil || len(page.Events) != 2 {
		t.Errorf("list -json = %+v, %v; want the two events", page, err)
	}

	replay := eventhub(t, "replay", id, "-subscription", sub, "-wait")
	if !strings.Contains(replay, "completed") || !strings.Contains(replay, "done 1") {
		t.Errorf("replay -wait printed %q; want the job completed with done 1", replay)
	}
	window := eventhub(t, "replay", "-since", "5m", "-subscription", sub, "-pattern", fmt.Sprintf(`{"type":[%q]}`, typ), "-wait")
	if !strings.Contains(window, "completed") || !strings.Contains(window, "total 2") {
		t.Errorf("window replay printed %q; want total 2, completed", window)
	}
	eventually(t, 10*time.Second, "replayed deliveries", func() bool { return len(r.deliveries()) == 5 })
	if got := eventhub(t, "get", id); !strings.Contains(got, "replay rpl_") {
		t.Errorf("get after replay:\n%s\nwant the replays in the timeline", got)
	}

	if err := tail.Wait(); err != nil {
		t.Fatalf("tail: %v (printed %q)", err, tailOut.String())
	}
	if s := tailOut.String(); !strings.Contains(s, id) || !strings.Contains(s, second) {
		t.Errorf("tail printed %q; want both events", s)
	}
	if out := eventhub(t, "alerts", "-status", "recovered"); !strings.HasPrefix(out, "LAST SEEN") {
		t.Errorf("alerts printed %q", out)
	}
}
