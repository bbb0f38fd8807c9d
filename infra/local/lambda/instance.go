package lambda

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

type instState int

const (
	instStarting instState = iota // process launched, init not finished
	instIdle                      // in /next, in f.idle
	instBusy                      // holds (or is about to take) an invocation, or is between invocations
	instDead                      // process reaped
)

// instance is one bootstrap process and the Runtime API endpoint it talks to.
type instance struct {
	f   *Function
	seq int

	wake   chan struct{} // an invocation was assigned (capacity 1)
	ready  chan struct{} // closed at the first /next: init done
	dead   chan struct{} // closed when the process has been reaped
	exited chan struct{} // closed when the instance is fully torn down; deathErr is set

	// guarded by Function.mu
	state     instState
	current   *invocation
	doomed    bool // killed or about to be: never given work
	initDone  bool
	initErr   *FunctionError // from /init/error or the init timeout
	pid       int
	started   time.Time // when its process was started
	initTimer *time.Timer
	deathErr  error // why the instance ended, for Warm
}

func (f *Function) newInstanceLocked() *instance {
	f.seq++
	inst := &instance{
		f:      f,
		seq:    f.seq,
		wake:   make(chan struct{}, 1),
		ready:  make(chan struct{}),
		dead:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	f.instances[inst] = struct{}{}
	f.wg.Add(1)
	return inst
}

// launch starts the process of inst and the goroutine that reaps it. A failure to
// start fails the invocation reserved for inst as Lambda does for a missing or
// non-executable bootstrap (Runtime.InvalidEntrypoint).
func (f *Function) launch(inst *instance) {
	var undo []func() // in reverse order on failure
	fail := func(err error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		f.launchFailed(inst, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(fmt.Errorf("runtime API listener: %w", err))
		return
	}
	srv := &http.Server{
		Handler:  inst.routes(),
		ErrorLog: slog.NewLogLogger(f.log.Handler(), slog.LevelDebug),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns http.ErrServerClosed once shut down
	}()
	undo = append(undo, func() { stopServer(srv, served) })

	cmd := exec.Command(f.cfg.Binary)
	cmd.Dir = f.taskRoot
	cmd.Env = append(append([]string(nil), f.env...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/["+version+"]"+randomHex(16),
	)
	setProcessGroup(cmd)
	stdout, err := newOutputPipe(f.stdout)
	if err != nil {
		fail(err)
		return
	}
	undo = append(undo, func() { stdout.finish(0) })
	stderr, err := newOutputPipe(f.stderr)
	if err != nil {
		fail(err)
		return
	}
	undo = append(undo, func() { stderr.finish(0) })
	if fd := stdout.file(); fd != nil {
		cmd.Stdout = fd
	}
	if fd := stderr.file(); fd != nil {
		cmd.Stderr = fd
	}

	started := time.Now()
	err = cmd.Start()
	stdout.started()
	stderr.started()
	if err != nil {
		fail(err)
		return
	}
	f.mu.Lock()
	inst.pid = cmd.Process.Pid
	inst.started = started
	doomed := inst.doomed || f.closed
	inst.initTimer = time.AfterFunc(f.initTimeout, func() { f.initTimedOut(inst) })
	f.mu.Unlock()
	f.log.Debug("instance started", "instance", inst.seq, "pid", inst.pid)
	if doomed { // Close ran while the process was starting
		killGroup(cmd.Process.Pid)
	}

	go func() {
		waitErr := cmd.Wait()
		killGroup(cmd.Process.Pid) // children the bootstrap left behind die with it, as with a sandbox
		stdout.finish(time.Second)
		stderr.finish(time.Second)
		f.reap(inst, waitErr)
		stopServer(srv, served)
		close(inst.exited)
		f.wg.Done()
	}()
}

func stopServer(srv *http.Server, served <-chan struct{}) {
	// Handlers blocked in /next return on inst.dead; the rest end with their connection.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		_ = srv.Close()
	}
	<-served
}

func (f *Function) launchFailed(inst *instance, err error) {
	f.log.Error("cannot start instance", "binary", f.cfg.Binary, "err", err)
	f.mu.Lock()
	inst.state = instDead
	delete(f.instances, inst)
	var fe *FunctionError
	if inv := inst.current; inv != nil {
		fe = &FunctionError{Type: errTypeEntrypoint, Message: requestPrefix(inv.id) + err.Error()}
		f.finishLocked(inv, nil, fe)
	} else {
		fe = &FunctionError{Type: errTypeEntrypoint, Message: requestPrefix("") + err.Error()}
	}
	inst.deathErr = fe
	if f.closed {
		inst.deathErr = ErrClosed
	}
	start := f.dispatchLocked()
	f.mu.Unlock()
	close(inst.dead)
	close(inst.exited)
	f.wg.Done()
	for _, s := range start {
		f.launch(s)
	}
}

// reap removes an instance whose process has exited and fails the invocation it
// owed a result, then starts instances for queued invocations if there is room. An
// invocation assigned to an initialised instance that died before taking it is
// given to another instance instead: it never reached the function.
func (f *Function) reap(inst *instance, waitErr error) {
	f.mu.Lock()
	inst.state = instDead
	delete(f.instances, inst)
	f.removeIdleLocked(inst)
	if inst.initTimer != nil {
		inst.initTimer.Stop()
	}
	closed, initDone, doomed := f.closed, inst.initDone, inst.doomed
	switch {
	case closed:
		inst.deathErr = ErrClosed
	case !initDone && inst.initErr != nil:
		inst.deathErr = inst.initErr
	default:
		inst.deathErr = exitError("", waitErr)
	}
	inv := inst.current
	var failed error
	switch {
	case inv == nil:
	case closed:
		f.finishLocked(inv, nil, ErrClosed)
	case inv.state == invAssigned && initDone:
		inst.current, inv.inst = nil, nil
		if other := f.popIdleLocked(); other != nil {
			f.assignLocked(other, inv)
		} else {
			inv.state = invQueued
			inv.elem = f.waiting.PushFront(inv)
		}
	case !initDone && inst.initErr != nil:
		failed = inst.initErr
		f.finishLocked(inv, nil, failed)
	default:
		failed = exitError(inv.id, waitErr)
		f.finishLocked(inv, nil, failed)
	}
	start := f.dispatchLocked()
	f.mu.Unlock()
	close(inst.dead)

	log := f.log.With("instance", inst.seq, "pid", inst.pid)
	switch {
	case closed:
	case failed != nil && initDone:
		log.Error("instance died during invocation", "requestId", inv.id, "err", failed)
	case !initDone:
		log.Error("instance failed to initialise", "err", inst.deathErr)
	case !doomed:
		log.Warn("idle instance exited; removed", "err", waitErr)
	default:
		log.Debug("instance stopped")
	}
	for _, s := range start {
		f.launch(s)
	}
}

// initTimedOut kills an instance that did not finish init in time.
func (f *Function) initTimedOut(inst *instance) {
	f.mu.Lock()
	if inst.initDone || inst.state == instDead || inst.doomed {
		f.mu.Unlock()
		return
	}
	inst.initErr = &FunctionError{
		Type:    errTypeTimeout,
		Message: fmt.Sprintf("%sInit phase timed out after %.2f seconds", requestPrefix(""), f.initTimeout.Seconds()),
	}
	inst.doomed = true
	pid := inst.pid
	f.mu.Unlock()
	killGroup(pid)
}

// timedOut fails a running invocation that exceeded the function timeout and kills
// its instance, as Lambda does.
func (f *Function) timedOut(inst *instance, inv *invocation) {
	f.mu.Lock()
	if inv.state != invRunning {
		f.mu.Unlock()
		return
	}
	f.finishLocked(inv, nil, timeoutError(inv.id, f.cfg.Timeout))
	inst.doomed = true
	pid := inst.pid
	f.mu.Unlock()
	f.log.Warn("invocation timed out; killing instance", "requestId", inv.id, "instance", inst.seq, "pid", pid, "timeout", f.cfg.Timeout)
	killGroup(pid)
}

// --- the Runtime API of one instance ---

const (
	headerRequestID    = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline     = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN  = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID      = "Lambda-Runtime-Trace-Id"
	headerErrorType    = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody   = "Lambda-Runtime-Function-Error-Body"
	headerExtensionID  = "Lambda-Extension-Identifier"
	headerExtensionNam = "Lambda-Extension-Name"
)

func (inst *instance) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", inst.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", inst.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", inst.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", inst.initError)
	// Enough of the Extensions API for aws-lambda-go's WithEnableSIGTERM: it registers
	// an internal extension and parks a goroutine in event/next.
	mux.HandleFunc("POST /2020-01-01/extension/register", inst.extensionRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", inst.extensionNext)
	return mux
}

// next blocks until an invocation is assigned to this instance and delivers it.
// Its first call marks the end of init.
func (inst *instance) next(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	f := inst.f
	f.mu.Lock()
	if !inst.initDone {
		inst.initDone = true
		if inst.initTimer != nil {
			inst.initTimer.Stop()
		}
		initDuration := now.Sub(inst.started)
		f.mu.Unlock()
		f.log.Debug("instance initialised", "instance", inst.seq, "pid", inst.pid, "initDuration", initDuration)
		if f.cfg.Report != nil {
			f.cfg.Report(Report{InitDuration: initDuration})
		}
		close(inst.ready) // after the report, so that Warm's caller has it
		f.mu.Lock()
	}
	if inv := inst.current; inv != nil && inv.state == invRunning {
		// The runtime asks for more work without having reported a result.
		f.finishLocked(inv, nil, &FunctionError{Type: errTypeNoResponse, Message: requestPrefix(inv.id) + "runtime requested the next invocation without reporting a result"})
	}
	var inv *invocation
	for {
		if inst.doomed || inst.state == instDead {
			f.mu.Unlock()
			waitGone(r, inst)
			return
		}
		cur := inst.current
		if cur != nil && cur.state == invAssigned {
			inv = cur
			break
		}
		if cur == nil { // (otherwise a concurrent /next delivered it: a runtime bug)
			if e := f.waiting.Front(); e != nil {
				f.assignLocked(inst, f.waiting.Remove(e).(*invocation))
				continue
			}
			if inst.state != instIdle {
				inst.state = instIdle
				f.idle = append(f.idle, inst)
			}
		}
		f.mu.Unlock()
		select {
		case <-inst.wake:
		case <-inst.dead:
			return
		case <-r.Context().Done():
			return // the process went away; reap fails whatever was assigned
		}
		f.mu.Lock()
	}
	inv.state = invRunning
	inv.started = time.Now()
	deadline := inv.started.Add(f.cfg.Timeout)
	inv.timer = time.AfterFunc(f.cfg.Timeout, func() { f.timedOut(inst, inv) })
	f.mu.Unlock()

	f.log.Debug("invocation delivered", "requestId", inv.id, "instance", inst.seq)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, f.arn)
	h.Set(headerTraceID, traceFor(inv.trace))
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload) // a failed write means the process died: reap reports it
}

func waitGone(r *http.Request, inst *instance) {
	select {
	case <-inst.dead:
	case <-r.Context().Done():
	}
}

// running returns the invocation with the given id if it is the one this instance
// is running.
func (inst *instance) running(id string) *invocation {
	inst.f.mu.Lock()
	defer inst.f.mu.Unlock()
	if inv := inst.current; inv != nil && inv.id == id && inv.state == invRunning {
		return inv
	}
	return nil
}

func (inst *instance) complete(inv *invocation, result []byte, err error) bool {
	f := inst.f
	f.mu.Lock()
	done := f.finishLocked(inv, result, err)
	f.mu.Unlock()
	if done && f.cfg.Report != nil {
		f.cfg.Report(Report{RequestID: inv.id, Duration: time.Since(inv.started), Err: err})
	}
	return done
}

func (inst *instance) response(w http.ResponseWriter, r *http.Request) {
	inv := inst.running(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return // connection lost: the process is gone and reap reports it
	}
	if len(body) > maxPayload {
		inst.complete(inv, nil, &FunctionError{
			Type:    errTypeResponseSize,
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayload),
		})
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", maxPayload))
		return
	}
	var result error
	// A runtime that fails while streaming the response reports it in trailers
	// (aws-lambda-go does for a handler's io.Reader that returns an error).
	if t := r.Trailer.Get(headerErrorType); t != "" {
		doc, decErr := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		if decErr != nil {
			doc = nil
		}
		result = parseErrorDocument(doc, t, t)
		body = nil
	}
	if !inst.complete(inv, body, result) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	writeAccepted(w)
}

func (inst *instance) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := inst.running(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	if err != nil {
		return
	}
	fe := parseErrorDocument(body, r.Header.Get(headerErrorType), "Runtime.Unknown")
	if !inst.complete(inv, nil, fe) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	writeAccepted(w)
}

// initError records the runtime's init failure and ends the instance: Lambda resets
// the sandbox, and the invocation that caused the cold start fails with that error.
func (inst *instance) initError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	if err != nil {
		return
	}
	f := inst.f
	f.mu.Lock()
	if inst.initDone {
		f.mu.Unlock()
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime")
		return
	}
	inst.initErr = parseErrorDocument(body, r.Header.Get(headerErrorType), errTypeInit)
	inst.doomed = true
	pid := inst.pid
	f.mu.Unlock()
	writeAccepted(w)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	killGroup(pid)
}

func (inst *instance) extensionRegister(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(headerExtensionNam) == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "missing "+headerExtensionNam+" header")
		return
	}
	w.Header().Set(headerExtensionID, newRequestID())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"functionName":    inst.f.cfg.Name,
		"functionVersion": version,
		"handler":         "bootstrap",
	})
}

// extensionNext never delivers an event: the instance is not told of its shutdown.
func (inst *instance) extensionNext(w http.ResponseWriter, r *http.Request) {
	waitGone(r, inst)
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`+"\n")
}

func writeAPIError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, errType})
}

// --- ids ---

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// newRequestID returns a random (version 4) UUID, the form of Lambda request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// traceFor returns the trace header of an invocation whose caller sent header: the
// caller's trace (its Root and sampling decision) with a segment of its own, or a new
// unsampled trace when the caller sent none.
func traceFor(header string) string {
	root, sampled := "", "0"
	for _, field := range strings.Split(header, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Root":
			root = v
		case "Sampled":
			sampled = v
		}
	}
	if root == "" {
		return newTraceID()
	}
	return "Root=" + root + ";Parent=" + randomHex(8) + ";Sampled=" + sampled
}

// newTraceID returns an X-Ray trace header value for an unsampled request.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}
