// Package lambda runs Lambda bootstrap binaries locally under an implementation of the Lambda Runtime API.
//
// A Function owns up to MaxConcurrency instances. Each instance is one child process
// (the function's bootstrap) with its own loopback Runtime API endpoint, so the
// package always knows which process an invocation is on. Invocations go to an idle
// instance, or to a new one while there are fewer than MaxConcurrency, or wait.
// The failure modes are Lambda's: a handler error, an init failure, a process exit
// (Runtime.ExitError) or a timeout (Sandbox.Timedout, the instance is killed) fail the
// invocation with a *FunctionError, and a dead instance is replaced on demand by a
// cold start. Async adds Lambda's asynchronous invocation: an internal queue, retries
// and the on-failure destination record.
package lambda

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits and defaults of the Lambda service.
const (
	maxPayload            = 6291556 // bytes: synchronous request and response payloads ("6 MB")
	defaultTimeout        = 3 * time.Second
	defaultMemoryMB       = 128
	defaultMaxConcurrency = 4
	defaultRegion         = "us-east-1"
	initTimeout           = 10 * time.Second // Lambda's limit on the init phase of an on-demand instance
	accountID             = "000000000000"
	version               = "$LATEST"
)

// Config describes one function.
type Config struct {
	Name           string        // function name, e.g. "IngestFunction" (AWS_LAMBDA_FUNCTION_NAME)
	Binary         string        // path to the bootstrap executable
	Env            []string      // KEY=VALUE from the template, merged over a minimal base env (PATH, HOME, TZ=:UTC, LANG)
	Timeout        time.Duration // function timeout; when exceeded the instance is killed and the invocation fails with Type "Sandbox.Timedout"; default 3s
	MemoryMB       int           // AWS_LAMBDA_FUNCTION_MEMORY_SIZE; default 128
	MaxConcurrency int           // max instances (processes) of this function at once; default 4
	Region         string        // AWS_REGION / AWS_DEFAULT_REGION; default us-east-1
	Stdout, Stderr io.Writer     // where the processes' output goes, a whole line per Write; nil = discard
	Logger         *slog.Logger  // the package's own progress and errors; nil = discard
	// Report, if set, receives what Lambda's REPORT log lines and metrics show: one
	// Report when an instance finishes its init, and one for every invocation an
	// instance ran. It is called without locks held and must not block.
	Report func(Report)
}

// Report is the measurement of one init or one invocation.
type Report struct {
	// RequestID is the invocation's id; "" for the report of an instance's init.
	RequestID string
	// Duration of an invocation: from handing it to the runtime (its /next) to the
	// runtime's response or error, the time Lambda bills.
	Duration time.Duration
	// InitDuration of an instance: from starting its process to its first /next.
	InitDuration time.Duration
	// Err is the invocation's failure (a *FunctionError), if any.
	Err error
}

// Function runs the instances of one function. It is safe for concurrent use.
type Function struct {
	cfg         Config
	arn         string // unqualified, as in Lambda-Runtime-Invoked-Function-Arn
	env         []string
	taskRoot    string
	log         *slog.Logger
	stdout      io.Writer // serialised; nil = discard
	stderr      io.Writer
	initTimeout time.Duration

	mu        sync.Mutex
	instances map[*instance]struct{}
	idle      []*instance // ready instances, blocked in /next
	waiting   list.List   // of *invocation queued for an instance
	closed    bool
	seq       int

	wg sync.WaitGroup // one per instance, until its process is reaped and its server stopped
}

// New validates cfg and returns a Function. No process is started until the first
// Invoke or Warm.
func New(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("lambda: config has no function name")
	}
	if cfg.Binary == "" {
		return nil, fmt.Errorf("lambda %s: config has no bootstrap binary", cfg.Name)
	}
	bin, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("lambda %s: binary path: %w", cfg.Name, err)
	}
	cfg.Binary = bin
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = defaultMemoryMB
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = defaultMaxConcurrency
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("function", cfg.Name)

	f := &Function{
		cfg:         cfg,
		arn:         "arn:aws:lambda:" + cfg.Region + ":" + accountID + ":function:" + cfg.Name,
		taskRoot:    filepath.Dir(bin),
		log:         log,
		initTimeout: initTimeout,
		instances:   make(map[*instance]struct{}),
	}
	f.env = f.buildEnv()
	var outMu sync.Mutex // one lock for both: the orchestrator may pass the same writer twice
	if cfg.Stdout != nil {
		f.stdout = &lockedWriter{mu: &outMu, w: cfg.Stdout}
	}
	if cfg.Stderr != nil {
		f.stderr = &lockedWriter{mu: &outMu, w: cfg.Stderr}
	}
	return f, nil
}

// buildEnv returns the environment common to all instances: a minimal base, then
// Config.Env, then the variables Lambda sets itself (which win, as Lambda reserves them).
func (f *Function) buildEnv() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	home := os.Getenv("HOME")
	if home == "" {
		home = os.TempDir()
	}
	base := []string{"PATH=" + path, "HOME=" + home, "TZ=:UTC", "LANG=en_US.UTF-8"}
	reserved := []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(f.cfg.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.cfg.Name,
		"AWS_REGION=" + f.cfg.Region,
		"AWS_DEFAULT_REGION=" + f.cfg.Region,
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + f.taskRoot,
	}
	// Set per instance; AWS_LAMBDA_MAX_CONCURRENCY would make the runtime poll /next
	// from several goroutines, which on-demand Lambda never does.
	perInstance := map[string]bool{"AWS_LAMBDA_RUNTIME_API": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_LAMBDA_MAX_CONCURRENCY": true}
	set := make(map[string]string)
	for _, kv := range reserved {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v
	}

	var env []string
	index := make(map[string]int)
	put := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			return
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	for _, kv := range base {
		put(kv)
	}
	for _, kv := range f.cfg.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			f.log.Warn("ignoring malformed environment entry", "entry", kv)
			continue
		}
		if want, isReserved := set[k]; (isReserved && v != want) || perInstance[k] {
			f.log.Warn("ignoring reserved environment variable", "key", k)
			continue
		}
		put(kv)
	}
	for _, kv := range reserved {
		put(kv)
	}
	return env
}

// Config returns the function's configuration, with defaults applied.
func (f *Function) Config() Config { return f.cfg }

// Instances returns the number of instances (processes), including those starting
// and those being torn down.
func (f *Function) Instances() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.instances)
}

// Invoke runs one synchronous invocation and returns the function's response. A
// function error is returned as a *FunctionError; ErrClosed, a context error or a
// payload over the 6 MB limit mean the invocation was not made.
//
// An empty payload is sent as {}, as Lambda does.
//
// If ctx is done before an instance takes the invocation, it is withdrawn and Invoke
// returns ctx.Err(). If ctx is done later, the invocation runs to completion (as on
// Lambda, a caller hanging up does not stop the function) but Invoke returns ctx.Err()
// at once.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f.invoke(ctx, newRequestID(), payload, "")
}

// invoke is Invoke with a given request id (retries of an asynchronous invocation
// keep the id of the first attempt) and the caller's trace header, if any.
func (f *Function) invoke(ctx context.Context, requestID string, payload []byte, traceHeader string) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("lambda %s: request payload of %d bytes exceeds the limit of %d bytes", f.cfg.Name, len(payload), maxPayload)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(payload) == 0 {
		payload = []byte("{}") // what Lambda passes when the caller sends no payload
	}
	inv := &invocation{id: requestID, payload: payload, trace: traceHeader, done: make(chan struct{})}

	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, ErrClosed
	}
	var start *instance
	if inst := f.popIdleLocked(); inst != nil {
		f.assignLocked(inst, inv)
	} else if len(f.instances) < f.cfg.MaxConcurrency {
		start = f.newInstanceLocked()
		f.assignLocked(start, inv)
	} else {
		inv.state = invQueued
		inv.elem = f.waiting.PushBack(inv)
	}
	f.mu.Unlock()
	if start != nil {
		f.launch(start)
	}

	select {
	case <-inv.done:
		return inv.result, inv.err
	case <-ctx.Done():
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch inv.state {
	case invDone:
		return inv.result, inv.err
	case invQueued:
		f.waiting.Remove(inv.elem)
		f.finishLocked(inv, nil, ctx.Err())
	case invAssigned: // the instance has not taken it yet: withdraw it
		f.finishLocked(inv, nil, ctx.Err())
	case invRunning:
		f.log.InfoContext(ctx, "caller gave up; invocation continues", "requestId", inv.id, "err", ctx.Err())
	}
	return nil, ctx.Err()
}

// Warm starts one instance, unless MaxConcurrency are already running, and waits
// until it has initialised (called /next). It returns the init failure as a
// *FunctionError if the instance dies first.
func (f *Function) Warm(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	if len(f.instances) >= f.cfg.MaxConcurrency {
		f.mu.Unlock()
		return nil
	}
	inst := f.newInstanceLocked()
	f.mu.Unlock()
	f.launch(inst)

	select {
	case <-inst.ready:
		return nil
	case <-inst.exited:
		select {
		case <-inst.ready: // initialised, then died: the warm-up itself worked
			return nil
		default:
		}
		return inst.deathErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// KillBusy kills (SIGKILL, whole process group) the process of one running
// invocation, if there is one, and reports whether it did. The invocation then fails
// with Runtime.ExitError, as when a Lambda sandbox dies. It is a hook for tests and
// chaos experiments.
func (f *Function) KillBusy() bool {
	_, ok := f.KillBusyFunc(nil)
	return ok
}

// KillBusyFunc is KillBusy for a running invocation that pick accepts by request id
// (nil accepts any); the retries of an asynchronous invocation keep the id of its
// first attempt. It returns the request id of the invocation it killed.
func (f *Function) KillBusyFunc(pick func(requestID string) bool) (string, bool) {
	f.mu.Lock()
	var victim *instance
	for inst := range f.instances {
		if inst.current != nil && inst.current.state == invRunning && !inst.doomed && (pick == nil || pick(inst.current.id)) {
			victim = inst
			break
		}
	}
	if victim == nil {
		f.mu.Unlock()
		return "", false
	}
	victim.doomed = true
	pid, id := victim.pid, victim.current.id
	f.mu.Unlock()
	f.log.Info("killing busy instance", "instance", victim.seq, "pid", pid, "requestId", id)
	killGroup(pid)
	return id, true
}

// Close kills every instance (SIGKILL to each process group, so children of the
// bootstrap die too) and waits until all processes are reaped and all goroutines of
// the Function have returned. Pending and running invocations fail with ErrClosed.
// Close is idempotent.
func (f *Function) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		for e := f.waiting.Front(); e != nil; e = f.waiting.Front() {
			inv := f.waiting.Remove(e).(*invocation)
			f.finishLocked(inv, nil, ErrClosed)
		}
		f.idle = nil
		var pids []int
		for inst := range f.instances {
			inst.doomed = true
			if inst.pid > 0 {
				pids = append(pids, inst.pid)
			}
		}
		f.mu.Unlock()
		for _, pid := range pids {
			killGroup(pid)
		}
	} else {
		f.mu.Unlock()
	}
	f.wg.Wait()
	return nil
}

// --- scheduling; all ...Locked methods require f.mu ---

type invState int

const (
	invQueued   invState = iota // in f.waiting
	invAssigned                 // reserved by an instance that has not taken it through /next yet
	invRunning                  // delivered to the runtime through /next
	invDone                     // result or error set, done closed
)

type invocation struct {
	id      string
	payload []byte
	trace   string // the caller's trace header, continued by the invocation's
	done    chan struct{}

	// guarded by Function.mu
	state   invState
	elem    *list.Element
	inst    *instance
	timer   *time.Timer
	started time.Time // when the runtime took it (/next)
	result  []byte
	err     error
}

func (f *Function) popIdleLocked() *instance {
	for n := len(f.idle); n > 0; n = len(f.idle) {
		inst := f.idle[n-1] // most recently used first: it is the warmest
		f.idle = f.idle[:n-1]
		if inst.state == instIdle && !inst.doomed {
			return inst
		}
	}
	return nil
}

func (f *Function) removeIdleLocked(inst *instance) {
	for i, x := range f.idle {
		if x == inst {
			f.idle = append(f.idle[:i], f.idle[i+1:]...)
			return
		}
	}
}

// assignLocked reserves inst for inv; inst takes it on its next (or current) /next.
func (f *Function) assignLocked(inst *instance, inv *invocation) {
	inst.state = instBusy
	inst.current = inv
	inv.inst = inst
	inv.state = invAssigned
	select {
	case inst.wake <- struct{}{}:
	default:
	}
}

// finishLocked completes inv once; it reports whether this call did.
func (f *Function) finishLocked(inv *invocation, result []byte, err error) bool {
	if inv.state == invDone {
		return false
	}
	inv.state = invDone
	inv.result, inv.err = result, err
	if inv.timer != nil {
		inv.timer.Stop()
	}
	if inv.inst != nil && inv.inst.current == inv {
		inv.inst.current = nil
	}
	close(inv.done)
	return true
}

// dispatchLocked starts instances for queued invocations while there is room; the
// caller launches the returned instances after unlocking.
func (f *Function) dispatchLocked() []*instance {
	var start []*instance
	for f.waiting.Len() > 0 && len(f.instances) < f.cfg.MaxConcurrency && !f.closed {
		inv := f.waiting.Remove(f.waiting.Front()).(*invocation)
		inst := f.newInstanceLocked()
		f.assignLocked(inst, inv)
		start = append(start, inst)
	}
	return start
}

// lockedWriter serialises the writes of all instances of a function to one writer.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
