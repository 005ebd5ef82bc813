package workers

import (
	"context"
	"errors"
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
	// GPU is, for a cuda worker, whether nvidia-smi lists its process
	// (proof that it runs on the GPU, not the CPU).
	GPU *GPUUse `json:"gpu,omitempty"`
}

// GPUUse is what nvidia-smi says of one worker process.
type GPUUse struct {
	Listed    bool   `json:"listed"`
	UsedBytes uint64 `json:"used_bytes"`
	Error     string `json:"error,omitempty"` // nvidia-smi could not be asked
}

// gpuProcesses is a Host that can list the processes using the GPU
// (SystemHost, through nvidia-smi).
type gpuProcesses interface {
	ComputeApps(ctx context.Context) (map[int]uint64, error)
}

// ComputeApps implements gpuProcesses.
func (h SystemHost) ComputeApps(ctx context.Context) (map[int]uint64, error) {
	return h.Prober.ComputeApps(ctx)
}

// addGPU fills GPU of the cuda workers of out, asking nvidia-smi once.
func (m *Manager) addGPU(ctx context.Context, out []Status) {
	gp, ok := m.host().(gpuProcesses)
	var apps map[int]uint64
	var err error
	asked := false
	for i := range out {
		if out[i].Backend != BackendCUDA || out[i].State == StateDead {
			continue
		}
		if !asked {
			asked = true
			if ok {
				apps, err = gp.ComputeApps(ctx)
			} else {
				err = errors.New("this host cannot list GPU processes")
			}
		}
		use := &GPUUse{}
		if err != nil {
			use.Error = err.Error()
		} else {
			use.UsedBytes, use.Listed = apps[out[i].PID]
		}
		out[i].GPU = use
	}
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
	m.addGPU(ctx, out)
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
