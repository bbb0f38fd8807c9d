package lambda

import (
	"bytes"
	"io"
	"os"
	"time"
)

// lineWriter passes a process's output on a whole line per Write, so that lines of
// instances sharing a writer do not interleave mid-line. It is used by the single
// goroutine copying one pipe; flush writes a final unterminated line.
type lineWriter struct {
	w   io.Writer
	buf []byte
}

const maxLine = 64 << 10 // a longer line is passed on in pieces

func (lw *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			lw.buf = append(lw.buf, p...)
			if len(lw.buf) >= maxLine {
				lw.flush()
			}
			break
		}
		line := p[:i+1]
		p = p[i+1:]
		if len(lw.buf) > 0 {
			lw.buf = append(lw.buf, line...)
			line = lw.buf
		}
		_, _ = lw.w.Write(line) // the caller's writer failing must not stop the process
		lw.buf = lw.buf[:0]
	}
	return n, nil
}

func (lw *lineWriter) flush() {
	if lw == nil || len(lw.buf) == 0 {
		return
	}
	_, _ = lw.w.Write(append(lw.buf, '\n'))
	lw.buf = lw.buf[:0]
}

// outputPipe carries one output stream of a process to a writer. The child gets the
// write end of an OS pipe as its file, so cmd.Wait returns as soon as the process
// exits; finish then drains what is left, even if a stray child keeps the pipe open.
type outputPipe struct {
	r, w *os.File
	done chan struct{}
}

// newOutputPipe returns nil when dst is nil: the child's output goes to /dev/null.
func newOutputPipe(dst io.Writer) (*outputPipe, error) {
	if dst == nil {
		return nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := &outputPipe{r: r, w: w, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		lw := &lineWriter{w: dst}
		_, _ = io.Copy(lw, r) // ends at EOF, or when finish closes r
		lw.flush()
	}()
	return p, nil
}

// file is what the child writes to.
func (p *outputPipe) file() *os.File {
	if p == nil {
		return nil
	}
	return p.w
}

// started closes the parent's copy of the write end once the child has its own.
func (p *outputPipe) started() {
	if p != nil {
		_ = p.w.Close()
	}
}

// finish waits up to grace for the output to end and then stops reading.
func (p *outputPipe) finish(grace time.Duration) {
	if p == nil {
		return
	}
	_ = p.w.Close() // in case the child never started
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	_ = p.r.Close()
	<-p.done
}
