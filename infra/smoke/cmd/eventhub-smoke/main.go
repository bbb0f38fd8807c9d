// Command eventhub-smoke checks a deployed eventhub end to end (make smoke): every
// producer format sent and read back, a delivery to the receiver URL given, one trace
// from the bus to the delivery. It reads the stack's API URL from EVENTHUB_API (or
// -api) and the admin token from EVENTHUB_ADMIN_TOKEN; it deletes the subscription and
// disables the producer sources it creates.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/eventhub/eventhub/infra/smoke"
)

func main() {
	fs := flag.NewFlagSet("eventhub-smoke", flag.ExitOnError)
	api := fs.String("api", os.Getenv("EVENTHUB_API"), "the stack's ApiUrl output (default $EVENTHUB_API)")
	receiver := fs.String("receiver", "", "a webhook URL that answers 2xx, for the delivery check (required)")
	wait := fs.Duration("wait", 90*time.Second, "how long to wait for each event to be stored and delivered")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: EVENTHUB_API=https://... EVENTHUB_ADMIN_TOKEN=eha_... eventhub-smoke -receiver https://your.endpoint/hook")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	token := os.Getenv("EVENTHUB_ADMIN_TOKEN")
	if *api == "" || token == "" || *receiver == "" {
		fs.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Printf("eventhub smoke test against %s, delivering to %s\n", *api, *receiver)
	if _, err := smoke.Run(ctx, smoke.Config{API: *api, AdminToken: token, Receiver: *receiver, Wait: *wait, Log: os.Stdout}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}
