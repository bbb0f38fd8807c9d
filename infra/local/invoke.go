package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eventhub/eventhub/infra/local/fixtures"
	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/infra/local/stack"
)

// invoke runs one function once with an event from a file, like `sam local invoke -e`,
// in a stack of its own with in-memory tables, and prints the response and the logs.
// Without -fn and -event it runs every fixture in events/ (events/fixtures.json says
// which function each is for and what it should answer) and fails if one does not.
// The stack holds the example records the fixtures name and takes their admin token.
func invoke(ctx context.Context, root string, args []string, log *slog.Logger) error {
	fs := newFlags("invoke")
	name := fs.String("fn", "", "function: ingest, normalize, persist, notify, api or replay (or its logical id)")
	eventFile := fs.String("event", "", "file holding the invocation payload, e.g. events/ingest-cloudevent.json")
	_ = fs.Parse(args)
	if (*name == "") != (*eventFile == "") {
		return errors.New("invoke needs both -fn and -event, or neither (to run every fixture in events/)")
	}
	all, err := fixtures.Load(filepath.Join(root, "events"))
	if err != nil && *name == "" {
		return err
	}
	var run []fixtures.Fixture
	if *name == "" {
		run = all
	} else {
		path, err := filepath.Abs(*eventFile)
		if err != nil {
			return err
		}
		f := fixtures.Fixture{File: path}
		for _, known := range all {
			if known.File == path {
				f = known // its expectation too
			}
		}
		run = []fixtures.Fixture{f}
	}

	st, err := stack.Start(ctx, stack.Options{
		Root: root, APIAddr: "127.0.0.1:0", Logger: log, FunctionOutput: os.Stderr, AdminToken: fixtures.ExampleAdminToken,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := fixtures.Seed(ctx, st); err != nil {
		return err
	}
	var failed []string
	for _, f := range run {
		fnName := f.Function
		if *name != "" {
			fnName = *name
		}
		fn, id := findFunction(st, fnName)
		if fn == nil {
			return fmt.Errorf("no function %q in template.yaml", fnName)
		}
		rel, _ := filepath.Rel(root, f.File)
		log.Info("invoking", "function", id, "event", rel)
		start := time.Now()
		out, err := f.Run(ctx, fn)
		var fe *lambda.FunctionError
		switch {
		case errors.As(err, &fe):
			fmt.Printf("{\"errorType\":%q,\"errorMessage\":%q}\n", fe.Type, fe.Message)
		case out != nil:
			fmt.Println(string(out))
		}
		if err != nil {
			log.Error("fixture did not answer as expected", "event", rel, "err", err)
			failed = append(failed, rel)
		}
		log.Info("done", "function", id, "event", rel, "duration", time.Since(start).Round(time.Millisecond))
	}
	// Let what the invocations put on the bus run through the stack before stopping.
	idle, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = st.Idle(idle)
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d fixtures did not answer as expected: %s", len(failed), len(run), strings.Join(failed, ", "))
	}
	if len(run) > 1 {
		log.Info("every fixture answered as expected", "fixtures", len(run))
	}
	return nil
}

func findFunction(st *stack.Stack, name string) (*lambda.Function, string) {
	for id, fn := range st.Functions {
		short := strings.ToLower(strings.TrimSuffix(id, "Function"))
		if strings.EqualFold(id, name) || short == strings.ToLower(name) {
			return fn, id
		}
	}
	return nil, ""
}
