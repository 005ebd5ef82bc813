package keeper

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rbee-go/rbee/hive"
)

// MinFreeDiskBytes: less free disk than this on a pool's home is a warning.
const MinFreeDiskBytes = 10 << 30

// PreflightReport is what `rbee-keeper pool preflight` finds on one host.
type PreflightReport struct {
	Host        string       `json:"host"`
	Transport   string       `json:"transport"` // "local" or "ssh"
	SSH         *SSHCheck    `json:"ssh,omitempty"`
	RoundTripMS int64        `json:"round_trip_ms"`
	HiveVersion string       `json:"hive_version"`
	Status      *hive.Status `json:"status"`
	Problems    []string     `json:"problems"` // each one makes the pool unusable
	Warnings    []string     `json:"warnings"`
	OK          bool         `json:"ok"`
}

// Preflight checks one host over a single connection: the transport and its
// round trip, rbee-hive and its version, worker binaries per backend, RAM,
// disk and GPUs (from the hive's status).
func (k *Keeper) Preflight(ctx context.Context, host string) (r PreflightReport) {
	r = PreflightReport{Host: host, Problems: []string{}, Warnings: []string{}}
	defer func() { r.OK = len(r.Problems) == 0 }()
	tr, target, err := k.Connect(ctx, host)
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
		return r
	}
	defer func() { _ = tr.Close() }()
	r.Transport = "ssh"
	if target.Local {
		r.Transport = "local"
	}
	if h, ok := tr.(*SSHHive); ok {
		r.SSH = checkSSH(ctx, h)
	}

	var out, errb bytes.Buffer
	start := time.Now()
	code, err := tr.Run(ctx, []string{"--version"}, &out, &errb)
	r.RoundTripMS = time.Since(start).Milliseconds()
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
		return r
	}
	if code != 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("rbee-hive --version exited with %d: %s", code, strings.TrimSpace(errb.String())))
		return r
	}
	if f := strings.Fields(out.String()); len(f) >= 2 && f[0] == "rbee-hive" {
		r.HiveVersion = f[1]
	}
	if r.HiveVersion != hive.Version {
		r.Warnings = append(r.Warnings, fmt.Sprintf("rbee-hive version %q differs from the keeper's %s", r.HiveVersion, hive.Version))
	}

	out.Reset()
	errb.Reset()
	code, err = tr.Run(ctx, []string{"status", "--json"}, &out, &errb)
	var st hive.Status
	if err := (Result{Host: host, ExitCode: code, Err: err, Stdout: out.Bytes(), Stderr: errb.Bytes()}).Decode(&st); err != nil {
		r.Problems = append(r.Problems, err.Error())
		return r
	}
	r.Status = &st
	r.Warnings = append(r.Warnings, st.Warnings...)
	r.checkBackends(target)
	if st.DiskFreeBytes < MinFreeDiskBytes {
		r.Warnings = append(r.Warnings, fmt.Sprintf("only %s free on the disk of %s", hive.HumanBytes(st.DiskFreeBytes), st.Home))
	}
	return r
}

// checkBackends: a backend the pools file promises must be present with a
// worker binary; a detected backend without a binary is only a warning.
func (r *PreflightReport) checkBackends(t Target) {
	st := r.Status
	present := map[string]bool{}
	for _, b := range st.Backends {
		present[b] = true
	}
	var promised []string
	if t.Pool != nil {
		promised = t.Pool.Backends
	}
	for _, b := range promised {
		switch {
		case !present[b]:
			r.Problems = append(r.Problems, fmt.Sprintf("backend %s is in the pools file but not available on the host (detected: %s)", b, strings.Join(st.Backends, ", ")))
		case st.WorkerProfiles[b].Error != "" && st.WorkerProfiles[b].BinError == "":
			r.Problems = append(r.Problems, fmt.Sprintf("worker profile of backend %s: %s", b, st.WorkerProfiles[b].Error))
		case st.WorkerBinaries[b] == "":
			r.Problems = append(r.Problems, fmt.Sprintf("no worker binary for backend %s (install llm-worker-rbee or set RBEE_WORKER_BIN_%s)", b, strings.ToUpper(b)))
		}
		delete(present, b)
	}
	for _, b := range st.Backends {
		if present[b] && st.WorkerBinaries[b] == "" {
			r.Warnings = append(r.Warnings, fmt.Sprintf("backend %s is available but has no worker binary", b))
		}
	}
}

// PreflightAll checks every host concurrently; reports are in hosts order.
func (k *Keeper) PreflightAll(ctx context.Context, hosts []string) []PreflightReport {
	reports := make([]PreflightReport, len(hosts))
	done := make(chan struct{}, len(hosts))
	for i, h := range hosts {
		go func() {
			reports[i] = k.Preflight(ctx, h)
			done <- struct{}{}
		}()
	}
	for range hosts {
		<-done
	}
	return reports
}
