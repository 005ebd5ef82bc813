package workers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Record is workers/<id>.json: what a later command needs to find, check
// and stop a worker.
type Record struct {
	ID        string `json:"id"`
	Backend   string `json:"backend"`
	GPU       int    `json:"gpu"`
	ModelID   string `json:"model_id"`
	ModelPath string `json:"model_path"`
	Port      int    `json:"port"`
	URI       string `json:"uri"`
	PID       int    `json:"pid"`
	// StartTime is the process creation time (gopsutil CreateTime, ms since
	// the epoch); with PID it identifies the process, so a reused pid is
	// not mistaken for the worker.
	StartTime int64     `json:"start_time_ms"`
	StartedAt time.Time `json:"started_at"`
	ReadyAt   time.Time `json:"ready_at,omitzero"`
	VRAMBytes int64     `json:"vram_bytes,omitempty"`
	LogPath   string    `json:"log_path"`
	Binary    string    `json:"binary"`
	Args      []string  `json:"args"`
}

// writeRecord writes the record atomically: temp file, fsync, rename.
func (m *Manager) writeRecord(r Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := m.recordPath(r.ID)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+r.ID+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing worker record: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing worker record %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing worker record %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing worker record %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing worker record: %w", err)
	}
	return nil
}

// readRecord reads workers/<id>.json; a missing one is WORKER_NOT_FOUND.
func (m *Manager) readRecord(id string) (Record, error) {
	var r Record
	if err := validID(id); err != nil {
		return r, err
	}
	path := m.recordPath(id)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, newError(CodeWorkerNotFound, "`rbee-hive worker list` shows the workers of this pool",
			"no worker %q on this pool", id)
	}
	if err != nil {
		return r, fmt.Errorf("reading worker record: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("worker record %s does not parse: %w", path, err)
	}
	return r, nil
}

func (m *Manager) removeRecord(id string) error {
	err := os.Remove(m.recordPath(id))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing worker record: %w", err)
	}
	return nil
}

// records reads every record, sorted by id.
func (m *Manager) records() ([]Record, error) {
	entries, err := os.ReadDir(m.dir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading workers: %w", err)
	}
	var rs []Record
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		r, err := m.readRecord(strings.TrimSuffix(name, ".json"))
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	return rs, nil
}

// validID keeps ids usable as file names (no path tricks from the command line).
func validID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return newError(CodeInvalidRequest, "worker ids look like worker-cpu-0", "invalid worker id %q", id)
	}
	return nil
}
