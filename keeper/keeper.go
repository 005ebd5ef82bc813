package keeper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/internal/syncio"
)

// Keeper drives the hives of one or more pools.
type Keeper struct {
	Pools    *Pools
	Remote   RemoteDialer // nil until an SSH transport is plugged in
	LocalEnv []string     // environment of local hives; nil = the keeper's own
}

// Connect resolves spec and opens a transport to it.
func (k *Keeper) Connect(ctx context.Context, spec string) (Transport, Target, error) {
	t, err := k.Pools.Resolve(spec)
	if err != nil {
		return nil, t, err
	}
	if t.Local {
		return LocalTransport{Target: t, Env: k.LocalEnv}, t, nil
	}
	if k.Remote == nil {
		return nil, t, &Error{Code: CodeSSHUnavailable, Host: spec,
			Msg:  fmt.Sprintf("%s: SSH transport not available yet", spec),
			Hint: "use --host localhost for this machine"}
	}
	tr, err := k.Remote.Dial(ctx, t)
	return tr, t, err
}

// Result is the outcome of running the hive on one host.
type Result struct {
	Host     string
	ExitCode int
	Stdout   []byte // captured output (when the caller asked for capture)
	Stderr   []byte
	Err      error // resolution or transport failure; nil when the hive ran
}

// Streams says where a host's output goes; nil writers capture into the Result.
type Streams struct {
	Stdout, Stderr io.Writer
}

// serialized makes one writer given as both stdout and stderr safe: a
// transport copies the two streams concurrently, and a shared bytes.Buffer
// (whose ReadFrom io.Copy would use) loses data that way.
func (s Streams) serialized() Streams {
	if s.Stdout != nil && s.Stdout == s.Stderr {
		w := syncio.NewWriter(s.Stdout)
		return Streams{Stdout: w, Stderr: w}
	}
	return s
}

// RunOne runs the hive with args on one host.
func (k *Keeper) RunOne(ctx context.Context, host string, args []string, s Streams) Result {
	res := Result{Host: host}
	var outBuf, errBuf bytes.Buffer
	s = s.serialized()
	stdout, stderr := s.Stdout, s.Stderr
	if stdout == nil {
		stdout = &outBuf
	}
	if stderr == nil {
		stderr = &errBuf
	}
	tr, _, err := k.Connect(ctx, host)
	if err != nil {
		res.ExitCode, res.Err = exitFor(err), err
		return res
	}
	defer func() { _ = tr.Close() }()
	res.ExitCode, res.Err = tr.Run(ctx, args, stdout, stderr)
	res.Stdout, res.Stderr = outBuf.Bytes(), errBuf.Bytes()
	return res
}

func exitFor(err error) int {
	if CodeOf(err) == CodeHiveNotFound {
		return ExitNotFound
	}
	return ExitTransport
}

// RunAll runs the hive with args on every host concurrently. streams(host)
// gives each host's writers (nil = capture). Results are in hosts order.
func (k *Keeper) RunAll(ctx context.Context, hosts, args []string, streams func(host string) Streams) []Result {
	results := make([]Result, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s Streams
			if streams != nil {
				s = streams(h)
			}
			results[i] = k.RunOne(ctx, h, args, s)
		}()
	}
	wg.Wait()
	return results
}

// ExitCode summarises results: 0 when all succeeded, else the highest code.
func ExitCode(results []Result) int {
	code := 0
	for _, r := range results {
		code = max(code, r.ExitCode)
	}
	return code
}

// HostJSON is one element of the multi-host --json array.
type HostJSON struct {
	Host     string          `json:"host"`
	ExitCode int             `json:"exit_code"`
	Output   json.RawMessage `json:"output"`
	Error    string          `json:"error"`
}

// ToJSON turns a captured result into its --json array element. Output is
// the hive's JSON verbatim (null when it printed none or not JSON).
func (r Result) ToJSON() HostJSON {
	h := HostJSON{Host: r.Host, ExitCode: r.ExitCode, Output: json.RawMessage("null")}
	if out := bytes.TrimSpace(r.Stdout); len(out) > 0 && json.Valid(out) {
		h.Output = json.RawMessage(out)
	}
	switch {
	case r.Err != nil:
		h.Error = r.Err.Error()
	case r.ExitCode != 0:
		h.Error = strings.TrimSpace(string(r.Stderr))
		if h.Error == "" {
			h.Error = fmt.Sprintf("rbee-hive exited with status %d", r.ExitCode)
		}
	}
	return h
}

// RunJSON runs the hive with args plus --json on one host and decodes its
// output into v.
func (k *Keeper) RunJSON(ctx context.Context, host string, args []string, v any) error {
	res := k.RunOne(ctx, host, append(append([]string{}, args...), "--json"), Streams{})
	return res.Decode(v)
}

// HiveStderr is the whole stderr of a failed hive command (the error line,
// its hint and details such as a worker's log tail), the cause of its
// CodeHiveFailed error.
type HiveStderr struct{ Text string }

func (h *HiveStderr) Error() string { return h.Text }

// Decode checks a captured result and decodes its stdout into v.
func (r Result) Decode(v any) error {
	if r.Err != nil {
		return r.Err
	}
	if r.ExitCode != 0 {
		msg := strings.TrimSpace(string(r.Stderr))
		first, rest, _ := strings.Cut(msg, "\n")
		first = strings.TrimPrefix(first, "error: ")
		e := &Error{Code: CodeHiveFailed, Host: r.Host, Msg: fmt.Sprintf("%s: %s", r.Host, first), Err: &HiveStderr{Text: msg}}
		if first == "" {
			e.Msg = fmt.Sprintf("%s: rbee-hive exited with status %d", r.Host, r.ExitCode)
		}
		if h, ok := strings.CutPrefix(rest, "hint: "); ok {
			e.Hint = h
		}
		return e
	}
	if c, ok := v.(*catalog.Catalog); ok {
		parsed, err := catalog.Parse(r.Stdout)
		if err != nil {
			return badOutput(r.Host, err)
		}
		*c = *parsed
		return nil
	}
	if err := json.Unmarshal(r.Stdout, v); err != nil {
		return badOutput(r.Host, err)
	}
	return nil
}

func badOutput(host string, err error) error {
	return &Error{Code: CodeBadOutput, Host: host, Err: err,
		Msg:  fmt.Sprintf("%s: rbee-hive printed output the keeper cannot read: %v", host, err),
		Hint: "check that the pool's rbee-hive has the same version as the keeper (rbee-keeper pool preflight)"}
}

// Status is `rbee-hive status` on a host, typed.
func (k *Keeper) Status(ctx context.Context, host string) (hive.Status, error) {
	var st hive.Status
	return st, k.RunJSON(ctx, host, []string{"status"}, &st)
}

// Catalog is `rbee-hive models catalog` on a host, typed.
func (k *Keeper) Catalog(ctx context.Context, host string) (*catalog.Catalog, error) {
	var c catalog.Catalog
	if err := k.RunJSON(ctx, host, []string{"models", "catalog"}, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Models is `rbee-hive models list` on a host (downloaded models), typed.
func (k *Keeper) Models(ctx context.Context, host string) ([]catalog.Model, error) {
	var ms []catalog.Model
	return ms, k.RunJSON(ctx, host, []string{"models", "list"}, &ms)
}
