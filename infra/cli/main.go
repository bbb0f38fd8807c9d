// Command eventhub is the operators' command line for an eventhub API, local or
// deployed: send events, read them with their timelines, list and follow them, replay
// them, and look at quarantine and alerts.
//
// It reads the API's URL from EVENTHUB_API, the admin token from EVENTHUB_ADMIN_TOKEN
// and the producer token (for send) from EVENTHUB_TOKEN; when they are not set it
// reads them from .eventhub/local.env, which `make run` writes, in this directory or
// one above it.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

const usage = `usage: eventhub <command> [flags] [args]

commands:
  send      send a CloudEvent (producer token): -type T -source S [-id ID] [-subject S] [-data JSON]
            or a whole event or batch from a file: -f event.json (- for stdin)
  get       an event with its timeline and deliveries: get <id>
  list      stored events, newest first: [-source S] [-type T] [-subject S] [-since T] [-until T] [-limit N] [-all] [-oldest]
  tail      follow new events as they are stored: [-source S] [-type T] [-since T] [-n N]
  replay    send an event again: replay <id> [-subscription sub_...]
            or a window: replay -subscription sub_... -since T [-until T] [-pattern JSON]; -wait follows the job
  replays   a replay job's progress: replays <rpl_id>
  quarantine  events that could not be normalized: [-source src_...]
  resubmit  send a quarantined event through normalization again: resubmit <id> [-format F]
  alerts    folded alerts: [-status ABNORMAL|RECOVERED|CLOSED]
  sources migrate  give every transitional source (registered before sources owned their
            CloudEvents sources) a grant of the values only it published: [-since T] [-apply]
  listen    a local receiver to try subscriptions and API destinations with: answers 204
            to every POST and prints it: [-addr 127.0.0.1:9000] [-secret whsec_...]

Times (-since, -until) are RFC 3339 (2026-11-23T10:00:00Z) or durations before now (15m, 2h, 7d).
Every command takes -json to print the API's answer as it is.
Environment: EVENTHUB_API, EVENTHUB_ADMIN_TOKEN, EVENTHUB_TOKEN (else .eventhub/local.env).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// errUsage marks errors in the command line itself (exit status 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cfg := config(getenv)
	c := &client{base: strings.TrimRight(cfg["EVENTHUB_API"], "/"), admin: cfg["EVENTHUB_ADMIN_TOKEN"], producer: cfg["EVENTHUB_TOKEN"],
		out: stdout, now: time.Now}
	cmds := map[string]func(context.Context, *client, []string) error{
		"send": cmdSend, "get": cmdGet, "list": cmdList, "tail": cmdTail, "replay": cmdReplay, "replays": cmdReplays,
		"quarantine": cmdQuarantine, "resubmit": cmdResubmit, "alerts": cmdAlerts, "sources": cmdSources, "listen": cmdListen,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "eventhub: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if c.base == "" && args[0] != "listen" {
		fmt.Fprintln(stderr, "eventhub: EVENTHUB_API is not set (and no .eventhub/local.env was found): run `make run`, or export EVENTHUB_API")
		return 2
	}
	if err := cmd(ctx, c, args[1:]); err != nil {
		fmt.Fprintf(stderr, "eventhub %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

var keys = []string{"EVENTHUB_API", "EVENTHUB_ADMIN_TOKEN", "EVENTHUB_TOKEN"}

// config reads the settings from the environment, falling back to
// .eventhub/local.env in the working directory or one above it.
func config(getenv func(string) string) map[string]string {
	cfg := map[string]string{}
	missing := false
	for _, k := range keys {
		cfg[k] = getenv(k)
		missing = missing || cfg[k] == ""
	}
	if !missing {
		return cfg
	}
	dir, err := os.Getwd()
	for err == nil {
		if f, ferr := os.Open(filepath.Join(dir, ".eventhub", "local.env")); ferr == nil {
			for k, v := range readEnv(f) {
				if cfg[k] == "" {
					cfg[k] = v
				}
			}
			f.Close()
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return cfg
}

// readEnv reads `export NAME=value` and `NAME=value` lines.
func readEnv(r io.Reader) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if ok {
			vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return vars
}
