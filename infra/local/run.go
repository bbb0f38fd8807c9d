package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

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
	vars := map[string]string{
		"EVENTHUB_API":         st.APIURL,
		"EVENTHUB_ADMIN_TOKEN": st.AdminToken,
		"EVENTHUB_TOKEN":       token,
	}
	if err := writeEnvFile(envFile, vars); err != nil {
		return err
	}
	fmt.Printf(`
eventhub is running (started in %.1fs)

  API            %s
  admin token    %s
  producer token %s
  bus            %s (EventBridge emulator at %s)
  DynamoDB Local %s, table %s
  SQS (fauxqs)   %s

These are also in .eventhub/local.env:  source .eventhub/local.env
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

func writeEnvFile(path string, vars map[string]string) error {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# written by `make run`; source it: . .eventhub/local.env\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%s\n", k, vars[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
