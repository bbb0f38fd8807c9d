package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/infra/local/stack"
)

// invoke runs one function once with an event from a file, like `sam local invoke -e`,
// in a stack of its own with in-memory tables, and prints the response and the logs.
func invoke(ctx context.Context, root string, args []string, log *slog.Logger) error {
	fs := newFlags("invoke")
	name := fs.String("fn", "", "function: ingest, normalize, persist, notify or api (or its logical id)")
	eventFile := fs.String("event", "", "file holding the invocation payload, e.g. events/ingest-cloudevent.json")
	_ = fs.Parse(args)
	if *name == "" || *eventFile == "" {
		return errors.New("invoke needs -fn and -event")
	}
	payload, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Options{
		Root: root, APIAddr: "127.0.0.1:0", Logger: log, FunctionOutput: os.Stderr,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	fn, id := findFunction(st, *name)
	if fn == nil {
		return fmt.Errorf("no function %q in template.yaml", *name)
	}
	log.Info("invoking", "function", id, "event", *eventFile)
	start := time.Now()
	out, err := fn.Invoke(ctx, payload)
	elapsed := time.Since(start)
	var fe *lambda.FunctionError
	switch {
	case errors.As(err, &fe):
		fmt.Printf("{\"errorType\":%q,\"errorMessage\":%q}\n", fe.Type, fe.Message)
	case err != nil:
		return err
	default:
		fmt.Println(string(out))
	}
	// Let what the invocation put on the bus run through the stack before stopping.
	idle, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = st.Idle(idle)
	log.Info("done", "function", id, "duration", elapsed.Round(time.Millisecond))
	if fe != nil {
		return fmt.Errorf("function error %s", fe.Type)
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
