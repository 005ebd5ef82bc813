package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// background is a command line a scenario runs in the background (an
// operator's long download, a keeper command whose pool loses its network)
// and later ends, interrupts or kills.
type background struct {
	cmd      *exec.Cmd
	out, err *bytes.Buffer
	line     string
	done     chan error
}

// start runs cmdline in the background.
func (b *background) start(w *World, cmdline string) error {
	argv, err := w.Split(cmdline)
	if err != nil {
		return err
	}
	cmd := w.Command(context.Background(), argv[0], argv[1:]...)
	b.out, b.err = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = b.out, b.err
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %q: %w", cmdline, err)
	}
	b.cmd, b.line, b.done = cmd, cmdline, make(chan error, 1)
	go func() { b.done <- cmd.Wait() }()
	return nil
}

// running returns the command, or an error when none runs.
func (b *background) running() (*exec.Cmd, error) {
	if b.cmd == nil {
		return nil, errors.New("no background command")
	}
	return b.cmd, nil
}

// wait waits up to timeout for the command to end and records its outcome
// in w as Run does. ended is false (and the command killed) when it was still
// running.
func (b *background) wait(w *World, timeout time.Duration) (ended bool, err error) {
	select {
	case err = <-b.done:
	case <-time.After(timeout):
		b.kill()
		return false, nil
	}
	w.Cmdline, w.Stdout, w.Stderr, w.ExitCode = b.line, b.out.String(), b.err.String(), 0
	b.cmd = nil
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		w.ExitCode = exitErr.ExitCode()
		return true, nil
	}
	return true, err
}

// kill ends the command, if one runs.
func (b *background) kill() {
	if b.cmd != nil {
		_ = b.cmd.Process.Kill()
		<-b.done
		b.cmd = nil
	}
}
