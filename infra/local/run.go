package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/infra/local/fixtures"
	"github.com/eventhub/eventhub/infra/local/metricsum"
	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/shared/auth"
)

func run(ctx context.Context, root string, args []string, log *slog.Logger) error {
	fs := newFlags("run")
	addr := fs.String("addr", "127.0.0.1:3000", "address of the HTTP API")
	fresh := fs.Bool("fresh", false, "start with empty tables and new tokens")
	quiet := fs.Bool("quiet", false, "do not print the functions' logs")
	every := fs.Duration("metrics", time.Minute, "print a summary of the functions' metrics this often (0: never)")
	examples := fs.Bool("examples", false, "also accept the example credentials of the fixtures in events/ (for sam local invoke)")
	_ = fs.Parse(args)

	home := filepath.Join(root, ".eventhub")
	dataDir := filepath.Join(home, "data", "dynamodb")
	envFile := filepath.Join(home, "local.env")
	if *fresh {
		log.Info("starting fresh: removing local data and tokens")
		if err := os.RemoveAll(filepath.Join(home, "data")); err != nil {
			return err
		}
		_ = os.Remove(envFile)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	saved := readEnvFile(envFile)
	admin := saved["EVENTHUB_ADMIN_TOKEN"]
	if admin == "" {
		admin = auth.NewToken(auth.AdminPrefix)
	}

	started := time.Now()
	opts := stack.Options{
		Root: root, APIAddr: *addr, DataDir: dataDir, AdminToken: admin, Logger: log,
		BusStateFile: filepath.Join(home, "data", "eventbridge.json"),
		Ports: stack.Ports{
			DynamoDB:    portOf(saved["AWS_ENDPOINT_URL_DYNAMODB"], stack.DefaultPorts.DynamoDB),
			SQS:         portOf(saved["AWS_ENDPOINT_URL_SQS"], stack.DefaultPorts.SQS),
			EventBridge: portOf(saved["AWS_ENDPOINT_URL_EVENTBRIDGE"], stack.DefaultPorts.EventBridge),
			Lambda:      portOf(saved["AWS_ENDPOINT_URL_LAMBDA"], stack.DefaultPorts.Lambda),
		},
	}
	if !*quiet {
		opts.FunctionOutput = os.Stdout
	}
	sum := metricsum.New()
	if *every > 0 {
		opts.FunctionLines = sum.Observe
	}
	st, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		log.Info("stopping the local stack")
		if err := st.Close(); err != nil {
			log.Error("stop", "error", err)
		}
	}()

	token, err := producerToken(ctx, st, saved["EVENTHUB_TOKEN"])
	if err != nil {
		return err
	}
	vars := st.LocalEnv(token)
	if err := stack.WriteEnvFile(envFile, vars); err != nil {
		return err
	}
	samEnv := filepath.Join(home, "env.json")
	if err := writeSAMEnv(samEnv, st); err != nil {
		return err
	}
	if *examples {
		if err := fixtures.Seed(ctx, st); err != nil {
			return err
		}
		log.Info("the example credentials of events/ are accepted (-examples)", "producerToken", fixtures.ExampleProducerToken)
	}
	fmt.Printf(`
eventhub is running (started in %.1fs)

  API            %s
  admin token    %s
  producer token %s
  bus            %s (EventBridge emulator at %s)
  DynamoDB Local %s, table %s
  SQS (fauxqs)   %s

These, and what the AWS CLI and SDKs need to reach the local stack (endpoints,
region, dummy credentials), are in .eventhub/local.env:  . .eventhub/local.env
Press Ctrl-C to stop.

`, time.Since(started).Seconds(), st.APIURL, st.AdminToken, token, st.Bus, st.EventBridge, st.DynamoDB, st.Table, st.SQS)
	if *every > 0 {
		go printMetrics(ctx, sum, *every)
	}
	<-ctx.Done()
	return nil
}

// printMetrics prints what the functions counted, every period: the numbers the
// CloudWatch dashboard shows in AWS.
func printMetrics(ctx context.Context, sum *metricsum.Summary, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if line := sum.Flush(now); line != "" {
				fmt.Println(line)
			}
		}
	}
}

// producerToken returns saved if the API still accepts it, or the token of a new
// source named "local".
func producerToken(ctx context.Context, st *stack.Stack, saved string) (string, error) {
	if saved != "" {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.APIURL+"/events", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+saved)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("check the saved producer token: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			return saved, nil
		}
	}
	// The local producer owns the CloudEvents sources of the README's examples and of
	// the CLI's send command (docs/producers-ownership.md); Juno and Huawei sources are
	// registered for themselves.
	body := `{"name":"local","format":"auto","owns":{"exact":["/eventhub/cli"],"prefixes":["/shop/"]}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.APIURL+"/sources", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+st.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("create the local source: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusCreated || out.Token == "" {
		return "", fmt.Errorf("create the local source: HTTP %d %s", resp.StatusCode, raw)
	}
	return out.Token, nil
}

func readEnvFile(path string) map[string]string {
	vars := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return vars
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && !strings.HasPrefix(k, "#") {
			vars[strings.TrimPrefix(k, "export ")] = v
		}
	}
	return vars
}

// portOf returns the port of a saved http://127.0.0.1:PORT endpoint, or def.
func portOf(endpoint string, def int) int {
	u, err := url.Parse(endpoint)
	if err != nil {
		return def
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	return def
}

// writeSAMEnv writes the env.json of `sam local invoke --env-vars` for this run.
func writeSAMEnv(path string, st *stack.Stack) error {
	b, err := json.MarshalIndent(fixtures.SAMEnv(st), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
