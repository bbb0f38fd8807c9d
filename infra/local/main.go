// Command local runs eventhub on one machine with no Docker and no AWS account:
//
//	go run ./infra/local run [-addr 127.0.0.1:3000] [-fresh]
//	go run ./infra/local invoke -fn notify -event events/notify-stored.json
//	go run ./infra/local install
//
// run starts DynamoDB Local, the SQS emulator, the EventBridge emulator, the functions'
// real bootstraps under a local Lambda Runtime API and the HTTP API, all from
// template.yaml, and prints the API URL and tokens (also written to
// .eventhub/local.env). Data is kept under .eventhub/data across restarts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventhub/eventhub/infra/local/emulators"
	"github.com/eventhub/eventhub/infra/local/stack"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(os.Args) < 2 {
		usage()
	}
	root, err := stack.RepoRoot()
	if err != nil {
		log.Error("find the repository", "error", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "run":
		err = run(ctx, root, os.Args[2:], log)
	case "invoke":
		err = invoke(ctx, root, os.Args[2:], log)
	case "install":
		err = emulators.EnsureInstalled(ctx, root, log)
	default:
		usage()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error(os.Args[1]+" failed", "error", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go run ./infra/local run [-addr host:port] [-fresh] | invoke -fn NAME -event FILE | install")
	os.Exit(2)
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	return fs
}
