package hive

import (
	"context"
	"os"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hostinfo"
	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/internal/bytesize"
)

// Status is `rbee-hive status --json`.
type Status struct {
	PoolID  string `json:"pool_id"`
	Version string `json:"version"`
	Home    string `json:"home"`
	hostinfo.Info
	Models  ModelCounts `json:"models"`
	Workers int         `json:"workers"`
	// WorkerBinaries maps each backend to the worker executable a spawn
	// would use ("" = none found), for preflight checks.
	WorkerBinaries map[string]string `json:"worker_binaries"`
	// WorkerProfiles is each backend's resolved worker profile: preset,
	// binary (found or not), arguments, environment, memory factor, and
	// where each value came from.
	WorkerProfiles map[string]workers.Profile `json:"worker_profiles"`
}

// ModelCounts counts catalog entries.
type ModelCounts struct {
	Registered int `json:"registered"`
	Downloaded int `json:"downloaded"`
}

// Status collects host facts and counts models and workers. A catalog or
// workers directory that cannot be read is reported as a warning: status is
// what an operator runs to find out what is wrong.
func (h Hive) Status(ctx context.Context) (Status, error) {
	info, err := h.Prober.Collect(ctx, h.Home)
	if err != nil {
		return Status{}, err
	}
	st := Status{Version: Version, Home: h.Home, Info: info, PoolID: info.Hostname}
	if c, err := h.LoadCatalog(ctx); err != nil {
		st.Warnings = append(st.Warnings, err.Error())
	} else {
		st.Models.Registered, st.Models.Downloaded = c.Counts()
		if _, statErr := os.Stat(h.Catalog().Path()); statErr == nil && c.PoolID != "" {
			st.PoolID = c.PoolID
		}
	}
	if st.Workers, err = h.CountWorkers(); err != nil {
		st.Warnings = append(st.Warnings, err.Error())
	}
	st.WorkerBinaries = map[string]string{}
	m := workers.Manager{Home: h.Home}
	st.WorkerProfiles = m.Profiles()
	for _, b := range catalog.AllBackends() {
		st.WorkerBinaries[string(b)] = st.WorkerProfiles[string(b)].Path
	}
	return st, nil
}

// HumanBytes renders a byte count for people (1024-based, one decimal).
func HumanBytes(n uint64) string { return bytesize.Format(n) }
