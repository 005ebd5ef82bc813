package workers

import (
	"context"
	"sync"
	"time"
)

// State of a worker as list reports it.
type State string

const (
	StateReady   State = "ready"   // process alive, /health healthy
	StateLoading State = "loading" // process alive, not healthy (yet)
	StateDead    State = "dead"    // the recorded process is gone
)

// Status is a record with its current state.
type Status struct {
	Record
	State State `json:"state"`
}

// List returns every recorded worker with its state, sorted by id. Dead
// workers stay listed until stopped or respawned, so the operator sees them.
func (m *Manager) List(ctx context.Context) ([]Status, error) {
	rs, err := m.records()
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(rs))
	hc := newHealthClient()
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = m.status(ctx, hc, r)
		}()
	}
	wg.Wait()
	return out, nil
}

// Get returns one worker's status; an unknown id is WORKER_NOT_FOUND.
func (m *Manager) Get(ctx context.Context, id string) (Status, error) {
	r, err := m.readRecord(id)
	if err != nil {
		return Status{}, err
	}
	return m.status(ctx, newHealthClient(), r), nil
}

func (m *Manager) status(ctx context.Context, hc *healthClient, r Record) Status {
	switch {
	case !alive(ctx, r.PID, r.StartTime):
		return Status{Record: r, State: StateDead}
	case hc.healthy(ctx, localURI(r.Port), time.Second):
		return Status{Record: r, State: StateReady}
	default:
		return Status{Record: r, State: StateLoading}
	}
}
