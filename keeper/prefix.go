package keeper

import (
	"bytes"
	"io"
	"sync"
)

// PrefixWriter writes whole lines to W, each starting with Prefix, so the
// output of several hosts running at once stays readable. Writers that share
// one destination must share Mu.
type PrefixWriter struct {
	W      io.Writer
	Prefix string
	Mu     *sync.Mutex
	buf    []byte
}

// NewPrefixWriter returns a writer prefixing lines with "[host] ".
func NewPrefixWriter(w io.Writer, host string, mu *sync.Mutex) *PrefixWriter {
	return &PrefixWriter{W: w, Prefix: "[" + host + "] ", Mu: mu}
}

func (p *PrefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if err := p.emit(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

// Flush writes a last unterminated line, adding the newline.
func (p *PrefixWriter) Flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	line := append(p.buf, '\n')
	p.buf = nil
	return p.emit(line)
}

func (p *PrefixWriter) emit(line []byte) error {
	p.Mu.Lock()
	defer p.Mu.Unlock()
	_, err := p.W.Write(append([]byte(p.Prefix), line...))
	return err
}
