package sshpool

import (
	"net"
	"sync"
)

// Blackhole is a TCP listener on loopback that accepts connections and never
// says anything: an SSH client connecting to it waits for a banner until its
// own timeout, like a host whose sshd hangs.
type Blackhole struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

// NewBlackhole listens on 127.0.0.1 on a free port.
func NewBlackhole() (*Blackhole, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Blackhole{l: l, done: make(chan struct{})}
	go b.serve()
	return b, nil
}

func (b *Blackhole) serve() {
	defer close(b.done)
	for {
		c, err := b.l.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
	}
}

// Addr is host:port of the listener.
func (b *Blackhole) Addr() string { return b.l.Addr().String() }

// Close stops listening and drops held connections.
func (b *Blackhole) Close() error {
	err := b.l.Close()
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
	return err
}
