package steps

// Running keeper commands against the SSH pools and checking what came
// back (features/cp1_remote.feature); the pools themselves are set up in
// remote.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"time"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
)

func (r *remote) hostile() string { return "x'; touch " + r.marker + "; echo '" }

func (r *remote) runHostile(cmdline string) error {
	if _, err := r.clientKey(); err != nil {
		return err
	}
	argv, err := r.w.Split(cmdline)
	if err != nil {
		return err
	}
	for i, a := range argv {
		if a == "HOSTILE" {
			argv[i] = r.hostile()
		}
	}
	return r.runArgv(cmdline, argv)
}

func (r *remote) runArgv(cmdline string, argv []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	var stdout, stderr strings.Builder
	cmd := r.w.Command(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r.w.Cmdline, r.w.Stdout, r.w.Stderr, r.w.ExitCode = cmdline, stdout.String(), stderr.String(), 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.w.ExitCode = exitErr.ExitCode()
	case err != nil:
		return fmt.Errorf("run %q: %w", cmdline, err)
	}
	return nil
}

func (r *remote) noInjection() error {
	if r.marker == "" {
		return errors.New("no shell-injection argument was used")
	}
	if _, err := os.Stat(r.marker); err == nil {
		return fmt.Errorf("the injected command ran: %s exists\n%s", r.marker, r.w.Last())
	}
	return nil
}

// onPool runs a hive command line directly on the pool's machine and home
// (the reference the SSH result is compared with).
func (r *remote) onPool(cmdline, name string) ([]byte, error) {
	p, err := r.pool(name)
	if err != nil {
		return nil, err
	}
	argv, err := r.w.Split(cmdline)
	if err != nil {
		return nil, err
	}
	cmd := r.w.Command(context.Background(), argv[0], argv[1:]...)
	cmd.Env = append(cmd.Env, "RBEE_HOME="+p.Home)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s on pool %s: %w", cmdline, name, err)
	}
	return out, nil
}

func (r *remote) catalogNamesHostile(name, id string) error {
	out, err := r.onPool("rbee-hive models catalog --json", name)
	if err != nil {
		return err
	}
	var cat struct {
		Models []struct{ ID, Name string }
	}
	if err := json.Unmarshal(out, &cat); err != nil {
		return err
	}
	for _, m := range cat.Models {
		if m.ID == id {
			if m.Name != r.hostile() {
				return fmt.Errorf("model %q is named %q, want %q", id, m.Name, r.hostile())
			}
			return nil
		}
	}
	return fmt.Errorf("pool %s has no model %q:\n%s", name, id, out)
}

func decodeJSON(b []byte) (any, error) {
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

func (r *remote) sameJSON(cmdline, name string) error {
	local, err := r.onPool(cmdline, name)
	if err != nil {
		return err
	}
	want, err := decodeJSON(local)
	if err != nil {
		return fmt.Errorf("local output is not JSON: %w", err)
	}
	got, err := decodeJSON([]byte(r.w.Stdout))
	if err != nil {
		return fmt.Errorf("stdout is not JSON: %w\n%s", err, r.w.Last())
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("over SSH:\n%s\non the pool itself:\n%s", r.w.Stdout, local)
	}
	return nil
}

func (r *remote) sameFields(fields, cmdline, name string) error {
	local, err := r.onPool(cmdline, name)
	if err != nil {
		return err
	}
	want, err := decodeJSON(local)
	if err != nil {
		return err
	}
	got, err := decodeJSON([]byte(r.w.Stdout))
	if err != nil {
		return fmt.Errorf("stdout is not JSON: %w\n%s", err, r.w.Last())
	}
	wm, _ := want.(map[string]any)
	gm, _ := got.(map[string]any)
	for _, f := range splitList(fields) {
		if _, ok := wm[f]; !ok {
			return fmt.Errorf("the pool's own output has no field %q:\n%s", f, local)
		}
		if !reflect.DeepEqual(wm[f], gm[f]) {
			return fmt.Errorf("field %q: over SSH %v, on the pool itself %v\n%s", f, gm[f], wm[f], r.w.Last())
		}
	}
	return nil
}

func (r *remote) timedRun(cmdline string) error {
	start := time.Now()
	err := r.w.Run(context.Background(), cmdline)
	r.elapsed = time.Since(start)
	return err
}

func (r *remote) tookLess(secs int) error {
	if r.elapsed >= time.Duration(secs)*time.Second {
		return fmt.Errorf("took %s, want < %ds\n%s", r.elapsed.Round(time.Millisecond), secs, r.w.Last())
	}
	return nil
}

func (r *remote) fanOutJSON(n, code int) error {
	var arr []struct {
		Host     string          `json:"host"`
		ExitCode int             `json:"exit_code"`
		Output   json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.w.Stdout), &arr); err != nil {
		return fmt.Errorf("stdout is not a JSON list: %w\n%s", err, r.w.Last())
	}
	if len(arr) != n {
		return fmt.Errorf("%d hosts in the list, want %d\n%s", len(arr), n, r.w.Last())
	}
	for _, h := range arr {
		if h.ExitCode != code || string(h.Output) == "null" {
			return fmt.Errorf("host %s: exit code %d, output %s\n%s", h.Host, h.ExitCode, h.Output, r.w.Last())
		}
	}
	return nil
}

func (r *remote) prefixedLines(list string) error {
	prefixes := splitList(list)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimRight(r.w.Stdout, "\n"), "\n") {
		ok := false
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				ok, seen[p] = true, true
			}
		}
		if !ok {
			return fmt.Errorf("line %q has none of the prefixes %v\n%s", l, prefixes, r.w.Last())
		}
	}
	for _, p := range prefixes {
		if !seen[p] {
			return fmt.Errorf("no line starts with %q\n%s", p, r.w.Last())
		}
	}
	return nil
}

func (r *remote) start(cmdline string) error { return r.bg.start(r.w, cmdline) }

func (r *remote) cut(name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	// let the command get going on the pool before the cable is pulled
	time.Sleep(time.Second)
	return p.Cut(context.Background())
}

func (r *remote) bgEnds(secs, code int) error {
	if _, err := r.bg.running(); err != nil {
		return err
	}
	ended, err := r.bg.wait(r.w, time.Duration(secs)*time.Second)
	switch {
	case !ended:
		return fmt.Errorf("%q still running after %ds", r.bg.line, secs)
	case err != nil:
		return err
	}
	if r.w.ExitCode != code {
		return fmt.Errorf("exit code %d, want %d\n%s", r.w.ExitCode, code, r.w.Last())
	}
	return nil
}

// workerIDs lists the workers the pool's hive knows about.
func (r *remote) workerIDs(p *sshpool.Pool) ([]string, error) {
	cmd := r.w.Command(context.Background(), "rbee-hive", "worker", "list", "--json")
	cmd.Env = append(cmd.Env, "RBEE_HOME="+p.Home)
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var ws []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &ws); err != nil {
		return nil, err
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	return ids, nil
}

func (r *remote) noWorkers(name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	ids, err := r.workerIDs(p)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		return fmt.Errorf("pool %s still has workers %v", name, ids)
	}
	return nil
}

// stopWorkers stops what a failed scenario left running on the pool.
func (r *remote) stopWorkers(p *sshpool.Pool) {
	ids, err := r.workerIDs(p)
	if err != nil {
		return
	}
	for _, id := range ids {
		cmd := r.w.Command(context.Background(), "rbee-hive", "worker", "stop", id, "--timeout", "2s")
		cmd.Env = append(cmd.Env, "RBEE_HOME="+p.Home)
		_ = cmd.Run()
	}
}
