// Package matrix runs the acceptance matrix of DESIGN §6 — every model on
// every backend of every pool — through the keeper library, and writes its
// results (results/matrix.json, MODEL_SUPPORT.md).
package matrix

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Status is the outcome of one cell.
type Status string

// Cell outcomes.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Cell is one model × pool/backend run and its metrics.
type Cell struct {
	Pool         string `json:"pool"`
	Backend      string `json:"backend"`
	Model        string `json:"model"`
	Repo         string `json:"repo"`
	Architecture string `json:"architecture"`
	Tiny         bool   `json:"tiny"`
	CI           bool   `json:"ci,omitempty"` // the real trained model of CI runs (stories260K)
	Status       Status `json:"status"`
	// Downloaded: the model's files were on the pool, verified, when the
	// cell went past its download step (a sign-off counts it per pool).
	Downloaded   bool    `json:"downloaded"`
	Reason       string  `json:"reason,omitempty"`
	ModelBytes   int64   `json:"model_bytes"`
	SpawnReadyMs int64   `json:"spawn_to_ready_ms"`
	FirstTokenMs int64   `json:"first_token_ms"`
	DecodeTokS   float64 `json:"decode_tokens_per_s"`
	// PrefillMs is the worker's prefill_time_ms of the warm run (the
	// prompt's forward pass; decode_tokens_per_s leaves it out).
	PrefillMs int64  `json:"prefill_ms"`
	Tokens    int    `json:"tokens"`
	Prompt    string `json:"prompt,omitempty"` // the request's prompt (Text continues it)
	Text      string `json:"text,omitempty"`
	WallMs    int64  `json:"wall_ms"`
	// OverheadMs is the wall time not spent loading the model or generating:
	// register, download no-op checks, preflight, spawn bookkeeping, stop.
	OverheadMs int64 `json:"overhead_ms"`
	// DownloadMs is the hive's transfer time (0 when already downloaded).
	DownloadMs int64 `json:"download_ms"`
	// FetchedBytes is what the download step transferred (0 when the
	// model was already on the pool).
	FetchedBytes int64 `json:"fetched_bytes,omitempty"`
	// StepsMs is the wall time of each cell step, in the order run.
	StepsMs []StepTime `json:"steps_ms,omitempty"`
	// What the cell ran with, so -resume reuses it only when nothing changed:
	// the model repo's commit, the pool's rbee-hive and worker versions.
	Commit        string `json:"commit,omitempty"`
	HiveVersion   string `json:"hive_version,omitempty"`
	WorkerVersion string `json:"worker_version,omitempty"`
	// ReusedFrom is the date of the run that measured this cell, when
	// -resume took it from a previous results/matrix.json instead of running it.
	ReusedFrom *time.Time `json:"reused_from,omitempty"`
	// Redials counts how often the pool's SSH connection had to be dialled
	// again during the cell; Retried: the cell was run a second time after
	// a redial (the first try's worker stopped first).
	Redials int  `json:"redials,omitempty"`
	Retried bool `json:"retried,omitempty"`
	// ReturnToCellMs is, for a retried cell, the time from the pool's
	// return (the redial) to the retry starting.
	ReturnToCellMs int64     `json:"return_to_cell_ms,omitempty"`
	RetriedAt      time.Time `json:"retried_at,omitzero"` // when the retry started

	leftWorker string // a worker the cell could not stop (its pool was away)
	// Buffered: the worker sent the whole stream at once (the seed-era
	// Rust worker), so FirstTokenMs is not reported.
	Buffered bool `json:"buffered,omitempty"`
	// LogTail is the worker's log tail of a failed spawn (also written to
	// results/worker-logs/).
	LogTail []string `json:"log_tail,omitempty"`
}

// StepTime is the wall time of one cell step.
type StepTime struct {
	Step string `json:"step"`
	Ms   int64  `json:"ms"`
}

// Column names the pool/backend pair of a cell as the table shows it.
func (c Cell) Column() string { return c.Pool + "/" + c.Backend }

// Run is a whole matrix run.
type Run struct {
	Date    time.Time `json:"date"`
	Command string    `json:"command"`
	Pools   []string  `json:"pools"`
	WallMs  int64     `json:"wall_ms"`
	Hives   []Hive    `json:"hives,omitempty"`
	Cells   []Cell    `json:"cells"`
}

// Hive is what a pool's rbee-hive said of itself at the start of the run.
type Hive struct {
	Pool     string   `json:"pool"`
	Version  string   `json:"version,omitempty"`
	Backends []string `json:"backends,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// WriteJSON writes the run as indented JSON, creating the directory.
func (r Run) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode matrix results: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
