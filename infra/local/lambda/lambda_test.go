package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bootstrap is testdata/fn built for the Runtime API, as the functions are.
var bootstrap string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambda-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bootstrap = filepath.Join(dir, "bootstrap")
	build := exec.Command(goTool(), "build", "-tags", "lambda.norpc", "-o", bootstrap, "./testdata/fn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test bootstrap: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// request and response mirror testdata/fn.
type request struct {
	Op    string `json:"op"`
	Msg   string `json:"msg,omitempty"`
	Ms    int    `json:"ms,omitempty"`
	Code  int    `json:"code,omitempty"`
	Size  int    `json:"size,omitempty"`
	File  string `json:"file,omitempty"`
	Fails int    `json:"fails,omitempty"`
}

type response struct {
	Msg        string            `json:"msg"`
	Pid        int               `json:"pid"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMs int64             `json:"deadlineMs"`
	Env        map[string]string `json:"env"`
	Status     int               `json:"status"`
	Body       string            `json:"body"`
	Child      int               `json:"child"`
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// newFunction returns a Function running the test bootstrap, closed at the end of the test.
func newFunction(t *testing.T, cfg Config) *Function {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "TestFunction"
	}
	if cfg.Binary == "" {
		cfg.Binary = bootstrap
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func payload(t *testing.T, req request) []byte {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invoke(t *testing.T, ctx context.Context, f *Function, req request) (response, error) {
	t.Helper()
	out, err := f.Invoke(ctx, payload(t, req))
	if err != nil {
		return response{}, err
	}
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("Invoke(%+v) = %q: not a response: %v", req, out, err)
	}
	return resp, nil
}

func mustInvoke(t *testing.T, f *Function, req request) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := invoke(t, ctx, f, req)
	if err != nil {
		t.Fatalf("Invoke(%+v) error = %v; want none", req, err)
	}
	return resp
}

func functionError(t *testing.T, err error) *FunctionError {
	t.Helper()
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T); want a *FunctionError", err, err)
	}
	return fe
}

func TestInvoke(t *testing.T) {
	f := newFunction(t, Config{MaxConcurrency: 1})
	tests := []struct {
		name     string
		req      request
		wantMsg  string // of a successful response
		wantType string // of a *FunctionError
		wantErr  string // substring of its message
		trace    bool   // whether it carries a stack trace
	}{
		{name: "echo", req: request{Op: "echo", Msg: "hello"}, wantMsg: "hello"},
		{name: "handler error", req: request{Op: "error", Msg: "boom"}, wantType: "errorString", wantErr: "boom"},
		{name: "panic", req: request{Op: "panic", Msg: "oops"}, wantType: "string", wantErr: "oops", trace: true},
		{name: "after panic", req: request{Op: "echo", Msg: "again"}, wantMsg: "again"},
		{name: "response too large", req: request{Op: "big", Size: maxPayload}, wantType: "Function.ResponseSizeTooLarge", wantErr: "6291556 bytes"},
		{name: "after too large", req: request{Op: "echo", Msg: "fine"}, wantMsg: "fine"},
		{name: "unknown op", req: request{Op: "nope"}, wantType: "errorString", wantErr: `unknown op "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := invoke(t, ctx, f, tt.req)
			if tt.wantType == "" {
				if err != nil {
					t.Fatalf("Invoke error = %v; want none", err)
				}
				if resp.Msg != tt.wantMsg {
					t.Errorf("Invoke msg = %q; want %q", resp.Msg, tt.wantMsg)
				}
				if len(resp.RequestID) != 36 {
					t.Errorf("request id = %q; want a UUID", resp.RequestID)
				}
				return
			}
			fe := functionError(t, err)
			if fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantErr) {
				t.Errorf("Invoke error = {%q, %q}; want {%q, ...%q...}", fe.Type, fe.Message, tt.wantType, tt.wantErr)
			}
			if got := len(fe.Trace) > 0; got != tt.trace {
				t.Errorf("Invoke error trace = %q; want one: %v", fe.Trace, tt.trace)
			}
		})
	}
}

func TestRuntimeEnvironment(t *testing.T) {
	f := newFunction(t, Config{
		Name:     "EnvFunction",
		Timeout:  5 * time.Second,
		MemoryMB: 256,
		Region:   "eu-west-1",
		Env:      []string{"TABLE_NAME=events", "AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324", "AWS_LAMBDA_FUNCTION_NAME=Other"},
	})
	resp := mustInvoke(t, f, request{Op: "env"})

	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "EnvFunction",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/EnvFunction",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(bootstrap),
		"cwd":                             filepath.Dir(bootstrap),
		"TZ":                              ":UTC",
		"TABLE_NAME":                      "events",
		"AWS_ENDPOINT_URL_SQS":            "http://127.0.0.1:9324",
	}
	for k, v := range want {
		if got := resp.Env[k]; got != v {
			t.Errorf("env %s = %q; want %q", k, got, v)
		}
	}
	if api := resp.Env["AWS_LAMBDA_RUNTIME_API"]; !strings.HasPrefix(api, "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q; want 127.0.0.1:<port>", api)
	}
	if s := resp.Env["AWS_LAMBDA_LOG_STREAM_NAME"]; !strings.Contains(s, "/[$LATEST]") {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q; want .../[$LATEST]...", s)
	}
	if resp.ARN != "arn:aws:lambda:eu-west-1:000000000000:function:EnvFunction" {
		t.Errorf("invoked function ARN = %q", resp.ARN)
	}
	if resp.DeadlineMs < 4000 || resp.DeadlineMs > 5000 {
		t.Errorf("time remaining at start = %d ms; want about 5000", resp.DeadlineMs)
	}
}

func TestRuntimeAPIUnknownRequestID(t *testing.T) {
	f := newFunction(t, Config{})
	resp := mustInvoke(t, f, request{Op: "badpost"})
	if resp.Status != 400 {
		t.Errorf("POST .../no-such-id/response status = %d; want 400", resp.Status)
	}
	var body struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.ErrorType != "InvalidRequestID" || body.ErrorMessage == "" {
		t.Errorf("POST .../no-such-id/response body = %q; want an InvalidRequestID error", resp.Body)
	}
}

func TestTimeout(t *testing.T) {
	f := newFunction(t, Config{Timeout: 300 * time.Millisecond, MaxConcurrency: 1})
	before := mustInvoke(t, f, request{Op: "echo"})

	start := time.Now()
	_, err := invoke(t, context.Background(), f, request{Op: "sleep", Ms: 5000})
	fe := functionError(t, err)
	if fe.Type != "Sandbox.Timedout" || !strings.Contains(fe.Message, "Task timed out after 0.30 seconds") {
		t.Errorf("Invoke error = {%q, %q}; want Sandbox.Timedout after 0.30 seconds", fe.Type, fe.Message)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("timed-out Invoke took %v; want about 300ms", elapsed)
	}

	after := mustInvoke(t, f, request{Op: "echo"})
	if after.Pid == before.Pid {
		t.Errorf("after a timeout the same process (pid %d) served again; want a fresh instance", after.Pid)
	}
	if processAlive(before.Pid) {
		t.Errorf("timed-out process %d still alive", before.Pid)
	}
}

func TestProcessExit(t *testing.T) {
	tests := []struct {
		name    string
		req     request
		kill    bool // KillBusy instead of the handler exiting
		wantErr string
	}{
		{name: "exit status", req: request{Op: "exit", Code: 2}, wantErr: "Runtime exited with error: exit status 2"},
		{name: "exit 0", req: request{Op: "exit", Code: 0}, wantErr: "Runtime exited without providing a reason"},
		{name: "KillBusy", req: request{Op: "sleep", Ms: 5000}, kill: true, wantErr: "Runtime exited with error: signal: killed"},
	}
	f := newFunction(t, Config{MaxConcurrency: 1})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustInvoke(t, f, request{Op: "echo"})
			if f.KillBusy() {
				t.Fatal("KillBusy() with no invocation running = true; want false")
			}
			type result struct{ err error }
			done := make(chan result, 1)
			go func() {
				_, err := f.Invoke(context.Background(), payload(t, tt.req))
				done <- result{err}
			}()
			if tt.kill {
				deadline := time.Now().Add(5 * time.Second)
				for !f.KillBusy() {
					if time.Now().After(deadline) {
						t.Fatal("KillBusy() never found the running invocation")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			var err error
			select {
			case r := <-done:
				err = r.err
			case <-time.After(10 * time.Second):
				t.Fatal("Invoke did not return after the process died")
			}
			fe := functionError(t, err)
			if fe.Type != "Runtime.ExitError" || !strings.Contains(fe.Message, tt.wantErr) || !strings.HasPrefix(fe.Message, "RequestId: ") {
				t.Errorf("Invoke error = {%q, %q}; want Runtime.ExitError, RequestId: ... %s", fe.Type, fe.Message, tt.wantErr)
			}
			after := mustInvoke(t, f, request{Op: "echo"})
			if after.Pid == before.Pid {
				t.Errorf("dead process %d served again", after.Pid)
			}
			if n := f.Instances(); n != 1 {
				t.Errorf("Instances() = %d; want 1", n)
			}
		})
	}
}

func TestIdleInstanceDies(t *testing.T) {
	f := newFunction(t, Config{MaxConcurrency: 1})
	for i := range 5 {
		before := mustInvoke(t, f, request{Op: "echo"})
		if err := syscall.Kill(before.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Racing with the death: the invocation succeeds on a new instance, or it was
		// delivered to the dying one and fails with Runtime.ExitError. It never hangs.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := invoke(t, ctx, f, request{Op: "echo"})
		cancel()
		if err != nil {
			if fe := functionError(t, err); fe.Type != "Runtime.ExitError" {
				t.Fatalf("round %d: Invoke error = %v; want none or Runtime.ExitError", i, err)
			}
		} else if resp.Pid == before.Pid {
			t.Fatalf("round %d: killed process %d served again", i, before.Pid)
		}
		after := mustInvoke(t, f, request{Op: "echo"})
		if after.Pid == before.Pid {
			t.Fatalf("round %d: killed process %d served again", i, before.Pid)
		}
	}
}

func TestConcurrency(t *testing.T) {
	const maxConcurrency, calls = 3, 9
	f := newFunction(t, Config{MaxConcurrency: maxConcurrency})

	stop := make(chan struct{})
	peak := make(chan int)
	go func() {
		most := 0
		for {
			most = max(most, f.Instances())
			select {
			case <-stop:
				peak <- most
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	pids := make(chan int, calls)
	for range calls {
		wg.Go(func() {
			resp, err := invoke(t, context.Background(), f, request{Op: "sleep", Ms: 200})
			if err != nil {
				t.Errorf("Invoke error = %v", err)
				return
			}
			pids <- resp.Pid
		})
	}
	wg.Wait()
	close(stop)
	close(pids)

	distinct := map[int]int{}
	for pid := range pids {
		distinct[pid]++
	}
	if len(distinct) != maxConcurrency {
		t.Errorf("%d parallel invocations ran on %d processes; want %d", calls, len(distinct), maxConcurrency)
	}
	if got := <-peak; got > maxConcurrency {
		t.Errorf("peak Instances() = %d; want at most %d", got, maxConcurrency)
	}
	if n := f.Instances(); n != maxConcurrency {
		t.Errorf("Instances() after the burst = %d; want %d warm", n, maxConcurrency)
	}
}

func TestCancel(t *testing.T) {
	f := newFunction(t, Config{MaxConcurrency: 1})
	counter := filepath.Join(t.TempDir(), "count")

	// Occupy the only instance.
	busy := make(chan error, 1)
	go func() {
		_, err := f.Invoke(context.Background(), payload(t, request{Op: "sleep", Ms: 400}))
		busy <- err
	}()
	waitFor(t, "the first invocation to run", func() bool { return running(f) == 1 })

	t.Run("while queued", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.Invoke(ctx, payload(t, request{Op: "count", File: counter}))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Invoke error = %v; want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Errorf("cancelled Invoke took %v", d)
		}
	})
	if err := <-busy; err != nil {
		t.Fatalf("first Invoke error = %v", err)
	}

	t.Run("while running", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.Invoke(ctx, payload(t, request{Op: "sleep", Ms: 300}))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Invoke error = %v; want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Errorf("cancelled Invoke took %v; want it to return at cancellation", d)
		}
		// The abandoned invocation still runs; the next waits for it, then succeeds.
		mustInvoke(t, f, request{Op: "echo"})
	})

	if _, err := os.Stat(counter); !os.IsNotExist(err) {
		t.Errorf("the invocation cancelled while queued ran (stat %s: %v)", counter, err)
	}
}

func TestInitFailure(t *testing.T) {
	tests := []struct {
		name     string
		init     string
		wantType string
		wantErr  string
	}{
		{name: "exits before next", init: "exit", wantType: "Runtime.ExitError", wantErr: "Runtime exited with error: exit status 3"},
		{name: "posts init error", init: "error", wantType: "InitFailure", wantErr: "missing TABLE_NAME"},
		{name: "init times out", init: "hang", wantType: "Sandbox.Timedout", wantErr: "timed out after 0.50 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFunction(t, Config{Env: []string{"FN_INIT=" + tt.init}, MaxConcurrency: 2})
			f.initTimeout = 500 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			err := f.Warm(ctx)
			fe := functionError(t, err)
			if fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantErr) {
				t.Errorf("Warm error = {%q, %q}; want {%q, ...%q...}", fe.Type, fe.Message, tt.wantType, tt.wantErr)
			}

			_, err = f.Invoke(ctx, []byte(`{"op":"echo"}`))
			fe = functionError(t, err)
			if fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantErr) {
				t.Errorf("Invoke error = {%q, %q}; want {%q, ...%q...}", fe.Type, fe.Message, tt.wantType, tt.wantErr)
			}
			if n := f.Instances(); n != 0 {
				t.Errorf("Instances() after init failures = %d; want 0", n)
			}
		})
	}
}

func TestWarm(t *testing.T) {
	f := newFunction(t, Config{MaxConcurrency: 2})
	ctx := context.Background()
	for i := range 3 {
		if err := f.Warm(ctx); err != nil {
			t.Fatalf("Warm #%d error = %v", i+1, err)
		}
	}
	if n := f.Instances(); n != 2 {
		t.Errorf("Instances() after 3 Warm = %d; want MaxConcurrency 2", n)
	}
	mustInvoke(t, f, request{Op: "echo"})
	if n := f.Instances(); n != 2 {
		t.Errorf("Instances() after Invoke on warm instances = %d; want 2", n)
	}
}

func TestMissingBinary(t *testing.T) {
	f := newFunction(t, Config{Binary: filepath.Join(t.TempDir(), "bootstrap")})
	_, err := f.Invoke(context.Background(), []byte(`{}`))
	if fe := functionError(t, err); fe.Type != "Runtime.InvalidEntrypoint" {
		t.Errorf("Invoke error type = %q; want Runtime.InvalidEntrypoint", fe.Type)
	}
	if err := f.Warm(context.Background()); err == nil {
		t.Error("Warm error = nil; want Runtime.InvalidEntrypoint")
	}
	if n := f.Instances(); n != 0 {
		t.Errorf("Instances() = %d; want 0", n)
	}
}

func TestOutput(t *testing.T) {
	var out syncBuffer
	f := newFunction(t, Config{Stdout: &out, Stderr: &out})
	mustInvoke(t, f, request{Op: "print", Msg: "hello from the handler"})
	waitFor(t, "the output", func() bool {
		s := out.String()
		return strings.Contains(s, "hello from the handler\n") && strings.Contains(s, "err:hello from the handler\n")
	})

	// A child of the bootstrap holding the output pipe open must not hold up the
	// report of the bootstrap's death.
	mustInvoke(t, f, request{Op: "spawn"})
	start := time.Now()
	_, err := f.Invoke(context.Background(), []byte(`{"op":"exit","code":1}`))
	if fe := functionError(t, err); fe.Type != "Runtime.ExitError" {
		t.Errorf("Invoke error type = %q; want Runtime.ExitError", fe.Type)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("crash reported after %v; want at once", d)
	}
}

func TestClose(t *testing.T) {
	baseline := runtime.NumGoroutine()
	f, err := New(Config{Name: "CloseFunction", Binary: bootstrap, MaxConcurrency: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	spawned := mustInvoke(t, f, request{Op: "spawn"})

	// Three invocations running, one of them on the instance that left a child behind.
	results := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := f.Invoke(context.Background(), payload(t, request{Op: "sleep", Ms: 5000}))
			results <- err
		}()
	}
	waitFor(t, "three instances", func() bool { return f.Instances() == 3 })

	pids := []int{spawned.Pid}
	f.mu.Lock()
	for inst := range f.instances {
		pids = append(pids, inst.pid)
	}
	f.mu.Unlock()
	pids = append(pids, spawned.Child)

	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatalf("Close error = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	for range 3 {
		if err := <-results; !errors.Is(err, ErrClosed) {
			t.Errorf("Invoke interrupted by Close error = %v; want ErrClosed", err)
		}
	}
	for _, pid := range pids[:len(pids)-1] { // reaped by Close
		if processAlive(pid) {
			t.Errorf("process %d alive after Close", pid)
		}
	}
	// The bootstrap's child is not ours to reap: SIGKILL reaches it, but not synchronously.
	waitFor(t, "the bootstrap's child to die", func() bool { return !processAlive(spawned.Child) })
	if n := f.Instances(); n != 0 {
		t.Errorf("Instances() after Close = %d", n)
	}
	if _, err := f.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close error = %v; want ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close error = %v", err)
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline })
}

// running returns the number of invocations delivered to a runtime and not finished.
func running(f *Function) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for inst := range f.instances {
		if inst.current != nil && inst.current.state == invRunning {
			n++
		}
	}
	return n
}

// processAlive reports whether pid is a live (not zombie) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// pid (comm) state ...: a zombie has been killed and waits for its parent.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestKillBusyFunc(t *testing.T) {
	f := newFunction(t, Config{MaxConcurrency: 1})
	done := make(chan error, 1)
	go func() {
		_, err := f.Invoke(context.Background(), payload(t, request{Op: "sleep", Ms: 5000}))
		done <- err
	}()
	var seen []string
	deadline := time.Now().Add(5 * time.Second)
	for len(seen) == 0 {
		if _, ok := f.KillBusyFunc(func(id string) bool { seen = append(seen, id); return false }); ok {
			t.Fatal("KillBusyFunc killed an invocation its pick refused")
		}
		if time.Now().After(deadline) {
			t.Fatal("KillBusyFunc never saw the running invocation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	id, ok := f.KillBusyFunc(func(id string) bool { return id == seen[0] })
	if !ok || id != seen[0] {
		t.Fatalf("KillBusyFunc(pick the running one) = %q, %v; want %q, true", id, ok, seen[0])
	}
	select {
	case err := <-done:
		if fe := functionError(t, err); fe.Type != "Runtime.ExitError" || !strings.HasPrefix(fe.Message, "RequestId: "+id) {
			t.Errorf("Invoke error = {%q, %q}; want Runtime.ExitError of request %s", fe.Type, fe.Message, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Invoke did not return after the process died")
	}
}

func TestReport(t *testing.T) {
	var mu sync.Mutex
	var reports []Report
	f := newFunction(t, Config{MaxConcurrency: 1, Report: func(r Report) {
		mu.Lock()
		reports = append(reports, r)
		mu.Unlock()
	}})
	if err := f.Warm(context.Background()); err != nil {
		t.Fatalf("Warm error = %v", err)
	}
	mu.Lock()
	if len(reports) != 1 || reports[0].RequestID != "" || reports[0].InitDuration <= 0 {
		t.Errorf("reports after Warm = %+v; want one init report with an InitDuration", reports)
	}
	mu.Unlock()

	resp := mustInvoke(t, f, request{Op: "sleep", Ms: 20})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := invoke(t, ctx, f, request{Op: "error", Msg: "boom"})
	if err == nil {
		t.Fatal("Invoke(error) error = nil; want a function error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 3 {
		t.Fatalf("got %d reports; want 3 (init, two invocations): %+v", len(reports), reports)
	}
	if r := reports[1]; r.RequestID != resp.RequestID || r.Duration < 20*time.Millisecond || r.Err != nil || r.InitDuration != 0 {
		t.Errorf("report of the sleep = %+v; want request %s, Duration >= 20ms, no error", r, resp.RequestID)
	}
	if r := reports[2]; r.RequestID == "" || r.Err == nil {
		t.Errorf("report of the error = %+v; want its request id and the error", r)
	}
}
