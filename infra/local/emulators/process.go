package emulators

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stopGrace is how long a child gets to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// process is a child process running in its own process group, so that stopping it
// also stops anything it started.
type process struct {
	name   string
	cmd    *exec.Cmd
	logger *slog.Logger
	tail   *tailBuffer
	done   chan struct{} // closed once the process has exited
	err    error         // from Wait, valid once done is closed

	stopOnce sync.Once
	stopErr  error
	stopping chan struct{} // closed when Stop begins
	ready    atomic.Bool   // set once the emulator answered; an exit before is reported by waitReady
}

// startProcess starts cmd in its own process group with its output forwarded to
// stdout and stderr (nil discards), and stops it when ctx is done.
func startProcess(ctx context.Context, name string, cmd *exec.Cmd, stdout, stderr io.Writer, logger *slog.Logger) (*process, error) {
	p := &process{
		name:     name,
		cmd:      cmd,
		logger:   logger,
		tail:     &tailBuffer{max: 4096},
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout = io.MultiWriter(orDiscard(stdout), p.tail)
	cmd.Stderr = io.MultiWriter(orDiscard(stderr), p.tail)
	// The output copiers end when every holder of the pipes is gone; the group kill
	// sees to that, WaitDelay bounds it if a grandchild escaped the group.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	logger.Debug("started emulator", "emulator", name, "pid", cmd.Process.Pid, "args", cmd.Args)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		select {
		case <-p.stopping:
		default:
			if p.ready.Load() {
				logger.Error("emulator exited", "emulator", name, "err", p.err, "output", p.tail.String())
			}
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.stop() // reported by the goroutine above if it fails
		case <-p.done:
		}
	}()
	return p, nil
}

// stop ends the process group: SIGTERM, then SIGKILL after stopGrace. It is safe to
// call more than once; an exit caused by the signal is not an error.
func (p *process) stop() error {
	p.stopOnce.Do(func() {
		close(p.stopping)
		pid := p.cmd.Process.Pid
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-pid, syscall.SIGTERM) // the group may already be gone
			select {
			case <-p.done:
			case <-time.After(stopGrace):
				p.logger.Warn("emulator ignored SIGTERM; killing it", "emulator", p.name, "pid", pid)
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				<-p.done
			}
		}
		// Anything the child left behind in its group goes too.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		var exit *exec.ExitError
		if p.err != nil && !(errors.As(p.err, &exit) && exitedBySignalOrStatus(exit)) {
			p.stopErr = fmt.Errorf("stop %s: %w", p.name, p.err)
		}
		p.logger.Debug("stopped emulator", "emulator", p.name, "pid", pid)
	})
	return p.stopErr
}

// exitedBySignalOrStatus accepts the ways a child ends when told to stop: killed by
// a signal, or exiting with the status Java (143) or Node use after SIGTERM.
func exitedBySignalOrStatus(exit *exec.ExitError) bool {
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return true
	}
	switch exit.ExitCode() {
	case 0, 130, 143:
		return true
	}
	return false
}

// exited returns an error describing an unexpected early exit, with the output's tail.
func (p *process) exited() error {
	msg := p.tail.String()
	if msg != "" {
		msg = "; output:\n" + msg
	}
	return fmt.Errorf("%s exited during startup (%v)%s", p.name, p.err, msg)
}

// waitReady calls ready until it succeeds, the process exits, ctx is done or timeout
// passes.
func (p *process) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancel()
		if last == nil {
			p.ready.Store(true)
			return nil
		}
		select {
		case <-p.done:
			return p.exited()
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for it to answer: %w", p.name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %w", p.name, timeout, last)
		}
	}
}

// choosePort returns port if it is free on the loopback interface, or a free port
// when port is 0.
func choosePort(port int) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d is busy (another emulator or stack still running?): %w", port, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
