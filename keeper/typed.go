package keeper

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/workers"
)

// Typed calls of the hive on one host (localhost or over SSH), decoded from
// its --json output: the library API of the matrix and of scripts. Each
// reuses the host's connection (one per host for the Keeper's lifetime when
// Remote is an SSHDialer).

// Register is `rbee-hive models register`.
func (k *Keeper) Register(ctx context.Context, host string, req hive.RegisterRequest) (catalog.Model, error) {
	args := []string{"models", "register", req.ID, "--name", req.Name, "--repo", req.Repo, "--architecture", req.Architecture}
	if len(req.Backends) > 0 {
		bs := make([]string, len(req.Backends))
		for i, b := range req.Backends {
			bs[i] = string(b)
		}
		args = append(args, "--backends", strings.Join(bs, ","))
	}
	if req.Revision != "" {
		args = append(args, "--revision", req.Revision)
	}
	for _, inc := range req.Include {
		args = append(args, "--include", inc)
	}
	var m catalog.Model
	return m, k.RunJSON(ctx, host, args, &m)
}

// Unregister is `rbee-hive models unregister`.
func (k *Keeper) Unregister(ctx context.Context, host, id string, deleteFiles bool) (catalog.Model, error) {
	args := []string{"models", "unregister", id}
	if deleteFiles {
		args = append(args, "--delete-files")
	}
	var m catalog.Model
	return m, k.RunJSON(ctx, host, args, &m)
}

// DownloadResult is `rbee-hive models download --json`.
type DownloadResult struct {
	ID                string         `json:"id"`
	Repo              string         `json:"repo"`
	Revision          string         `json:"revision"`
	Commit            string         `json:"commit"`
	Path              string         `json:"path"`
	Files             []catalog.File `json:"files"`
	SizeBytes         int64          `json:"size_bytes"`
	FetchedBytes      int64          `json:"fetched_bytes"`
	Seconds           float64        `json:"seconds"`
	MBPerS            float64        `json:"mb_per_s"`
	AlreadyDownloaded bool           `json:"already_downloaded"`
}

// Download is `rbee-hive models download` (revision "" = the catalog's).
func (k *Keeper) Download(ctx context.Context, host, id, revision string) (DownloadResult, error) {
	args := []string{"models", "download", id}
	if revision != "" {
		args = append(args, "--revision", revision)
	}
	var d DownloadResult
	return d, k.RunJSON(ctx, host, args, &d)
}

// Spawn is `rbee-hive worker spawn`; it returns when the worker is ready.
func (k *Keeper) Spawn(ctx context.Context, host string, req workers.SpawnRequest) (workers.SpawnResult, error) {
	args := []string{"worker", "spawn", req.Backend, "--model", req.ModelID, "--gpu", strconv.Itoa(req.GPU)}
	if req.Port > 0 {
		args = append(args, "--port", strconv.Itoa(req.Port))
	}
	if req.Wait > 0 {
		args = append(args, "--wait", req.Wait.String())
	}
	var res workers.SpawnResult
	return res, k.RunJSON(ctx, host, args, &res)
}

// Workers is `rbee-hive worker list`.
func (k *Keeper) Workers(ctx context.Context, host string) ([]workers.Status, error) {
	var ws []workers.Status
	return ws, k.RunJSON(ctx, host, []string{"worker", "list"}, &ws)
}

// StopWorker is `rbee-hive worker stop` (timeout 0 = the hive's default).
func (k *Keeper) StopWorker(ctx context.Context, host, id string, timeout time.Duration) (workers.StopResult, error) {
	args := []string{"worker", "stop", id}
	if timeout > 0 {
		args = append(args, "--timeout", timeout.String())
	}
	var res workers.StopResult
	return res, k.RunJSON(ctx, host, args, &res)
}
