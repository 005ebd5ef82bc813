package keeper

import (
	"context"
	"fmt"
	"time"

	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// CodePoolUnreachable: a pool's connection dropped and it did not come back
// within the redial limit.
const CodePoolUnreachable Code = "POOL_UNREACHABLE"

// ErrPoolUnreachable matches a CodePoolUnreachable error with errors.Is.
var ErrPoolUnreachable = &Error{Code: CodePoolUnreachable}

// Redial backoff: the first retry soon (a reset is often over at once), then
// doubling, never longer apart than redialMaxWait.
const (
	redialFirstWait = 250 * time.Millisecond
	redialMaxWait   = 5 * time.Second
)

// hostState is what the dialer knows of a pool's outages.
type hostState struct {
	downSince  time.Time // zero while the pool is up
	redials    int       // successful redials so far
	returnedAt time.Time // when the last redial succeeded
}

// deadLocked reports whether the cached connection of spec must be dialled
// again, noting when the pool went away. Caller holds s.mu.
func (s *SSHDialer) deadLocked(spec string, sc *sshConn) bool {
	select {
	case <-sc.ready:
	default:
		return false // a dial is in progress: wait for it
	}
	if sc.final {
		return false
	}
	h := s.hosts[spec]
	dead := sc.c != nil && sc.c.Dead() || sc.err != nil && h != nil && !h.downSince.IsZero()
	if !dead {
		return false
	}
	if h == nil {
		h = &hostState{}
		s.hosts[spec] = h
	}
	if h.downSince.IsZero() {
		h.downSince = time.Now()
	}
	if sc.c != nil {
		_ = sc.c.Close() // its keepalive goroutine and socket
	}
	return true
}

// redial dials until it works or the pool has been away RedialLimit. A
// cancelled ctx ends the attempt without a verdict (the next caller goes on).
func (s *SSHDialer) redial(ctx context.Context, t sshtransport.Target, spec string, down time.Time) (*sshtransport.Client, bool, error) {
	deadline := down.Add(s.RedialLimit)
	wait := redialFirstWait
	for {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		c, err := s.d.Dial(dctx, t)
		cancel()
		if err == nil {
			s.mu.Lock()
			h := s.hosts[spec]
			h.downSince, h.returnedAt = time.Time{}, time.Now()
			h.redials++
			s.mu.Unlock()
			return c, false, nil
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, true, &Error{Code: CodePoolUnreachable, Host: spec, Err: err,
				Msg: fmt.Sprintf("pool unreachable since %s (its SSH connection dropped; redialled for %s)",
					down.UTC().Format(time.RFC3339), s.RedialLimit),
				Hint: "bring the pool back (network, power, sshd), then run again: -resume reuses the cells that passed"}
		}
		select {
		case <-time.After(min(wait, left)):
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		wait = min(2*wait, redialMaxWait)
	}
}

// Outage is what the dialer knows of one pool's connection.
type Outage struct {
	Redials    int       // successful redials so far
	Down       bool      // the connection is dead and not yet redialled
	DownSince  time.Time // when it was found dead (zero while up)
	ReturnedAt time.Time // when the last redial succeeded
}

// Outage reports the redial state of the pool spec (as the operator named it).
func (s *SSHDialer) Outage(spec string) Outage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o Outage
	if h := s.hosts[spec]; h != nil {
		o = Outage{Redials: h.redials, DownSince: h.downSince, ReturnedAt: h.returnedAt, Down: !h.downSince.IsZero()}
	}
	if sc, ok := s.conns[spec]; ok && !o.Down {
		select {
		case <-sc.ready:
			o.Down = sc.c != nil && sc.c.Dead() || sc.final
		default:
		}
	}
	return o
}
