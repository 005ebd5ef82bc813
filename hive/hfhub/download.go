package hfhub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sync/errgroup"
)

// Request says what to download where.
type Request struct {
	Repo     string   // ORG/NAME
	Revision string   // branch, tag or commit; default "main"
	Include  []string // glob patterns (path.Match on the base name or the full path); default: InDefaultSet
	Dir      string   // destination folder; files keep their repo paths below it
}

// FileResult is one verified file.
type FileResult struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Fetched int64  `json:"fetched"` // bytes transferred for it in this run
	Skipped bool   `json:"skipped"` // already present and verified
}

// Result describes a finished download; every file in it is verified.
type Result struct {
	Repo     string        `json:"repo"`
	Revision string        `json:"revision"`
	Commit   string        `json:"commit"`
	Dir      string        `json:"path"`
	Files    []FileResult  `json:"files"`
	Bytes    int64         `json:"size_bytes"` // total size of the files
	Fetched  int64         `json:"fetched_bytes"`
	Duration time.Duration `json:"-"`
}

// AlreadyComplete reports that nothing had to be fetched.
func (r *Result) AlreadyComplete() bool {
	for _, f := range r.Files {
		if !f.Skipped {
			return false
		}
	}
	return true
}

// Download fetches the matching files of req.Repo into req.Dir. Each file is
// written to <file>.incomplete, resumed from the bytes already there, checked
// (size always, sha256 for LFS files, the git blob id otherwise) and renamed
// into place; a file verified earlier is skipped. Files verified in this run
// stay in place when another file fails, so a rerun only fetches the rest.
func (c *Client) Download(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	if req.Revision == "" {
		req.Revision = "main"
	}
	if err := c.checkEndpoint(); err != nil {
		return nil, err
	}
	if org, name, ok := strings.Cut(req.Repo, "/"); !ok || org == "" || name == "" || strings.Contains(name, "/") {
		return nil, &Error{Code: CodeNotFound, Repo: req.Repo, Msg: fmt.Sprintf("repo %q is not ORG/NAME", req.Repo)}
	}
	commit, err := c.Commit(ctx, req.Repo, req.Revision)
	if err != nil {
		return nil, err
	}
	// List and fetch by commit, so a branch moving mid-download cannot mix versions.
	tree, err := c.Tree(ctx, req.Repo, commit)
	if err != nil {
		return nil, err
	}
	include := req.Include
	if len(include) == 0 {
		include = DefaultInclude // a GGUF repo without --include is refused, naming its .gguf files
	}
	if _, err := SelectGGUF(tree, req.Repo, req.Revision, include); err != nil {
		return nil, err
	}
	var shards map[string]bool
	if len(req.Include) == 0 {
		if shards, err = c.shardIndex(ctx, req.Repo, commit, tree); err != nil {
			return nil, err
		}
	}
	files, err := selectFiles(tree, req, shards)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", req.Dir, err)
	}
	unlock, err := lockDir(req.Dir, req.Repo)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &Result{Repo: req.Repo, Revision: req.Revision, Commit: commit, Dir: req.Dir}
	jobs := make([]*job, 0, len(files))
	var need, have int64
	for _, e := range files {
		j := &job{entry: e, dir: req.Dir, dest: filepath.Join(req.Dir, filepath.FromSlash(e.Path)), commit: commit}
		if rec, ok := c.verifiedEarlier(req.Dir, e); ok {
			j.result = FileResult{Name: e.Path, Size: e.Size, SHA256: rec.SHA256, Skipped: true}
			j.done = true
			have += e.Size
		} else {
			part := partialBytes(req.Dir, e, j.dest+".incomplete")
			need += e.Size - part
			have += part
		}
		jobs = append(jobs, j)
	}
	if need > 0 {
		// Gated and private repos list their files to anyone: ask for a file
		// before judging the disk, so a refusal is the error an operator sees.
		if err := c.checkAccess(ctx, req.Repo, commit, jobs); err != nil {
			return nil, err
		}
		free, err := c.freeSpace(req.Dir)
		if err != nil {
			return nil, err
		}
		if uint64(need) > free {
			return nil, &Error{Code: CodeInsufficientDisk, Repo: req.Repo,
				Msg:  fmt.Sprintf("not enough disk space for %s in %s: need %s more, %s free", req.Repo, req.Dir, HumanBytes(need), HumanBytes(int64(free))),
				Hint: "free some space, or point --home (RBEE_HOME) at a bigger disk"}
		}
	}
	plan := Plan{Repo: req.Repo, Commit: commit, Total: need + have, Present: have}
	for _, j := range jobs {
		plan.Files = append(plan.Files, PlanFile{Name: j.entry.Path, Size: j.entry.Size, Skipped: j.done})
	}
	c.progress.Begin(plan)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.parallel)
	for _, j := range jobs {
		if j.done {
			continue
		}
		g.Go(func() error { return c.fetch(gctx, req.Repo, j) })
	}
	err = g.Wait()
	res.Duration = time.Since(start)
	c.progress.End(err)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		res.Files = append(res.Files, j.result)
		res.Bytes += j.result.Size
		res.Fetched += j.result.Fetched
	}
	return res, nil
}

// Matches reports whether a repo path matches one of the glob patterns, by its
// base name or its full path.
func Matches(p string, patterns []string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, path.Base(p)); ok {
			return true
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

// job is one file to fetch.
type job struct {
	entry    TreeEntry
	dir      string // the download folder
	dest     string
	commit   string
	done     bool
	noRanges bool // the server ignored a range request: fetch as one stream
	result   FileResult
}

// record is what we know about a verified file, kept beside the model under
// .cache/rbee/ so a rerun need not rehash gigabytes.
type record struct {
	Size    int64  `json:"size"`
	MtimeNS int64  `json:"mtime_ns"`
	SHA256  string `json:"sha256"`
	GitOID  string `json:"git_oid,omitempty"`
	Commit  string `json:"commit"`
}

func recordPath(dir, name string) string {
	return filepath.Join(dir, ".cache", "rbee", filepath.FromSlash(name)+".verified.json")
}

// verifiedEarlier reports whether the file in place is the one the tree
// describes: by its record (size, mtime and hash unchanged), else by hashing it.
func (c *Client) verifiedEarlier(dir string, e TreeEntry) (record, bool) {
	dest := filepath.Join(dir, filepath.FromSlash(e.Path))
	st, err := os.Stat(dest)
	if err != nil || st.Size() != e.Size || !st.Mode().IsRegular() {
		return record{}, false
	}
	var rec record
	if b, err := os.ReadFile(recordPath(dir, e.Path)); err == nil && json.Unmarshal(b, &rec) == nil &&
		rec.Size == st.Size() && rec.MtimeNS == st.ModTime().UnixNano() && rec.matches(e) {
		return rec, true
	}
	// No usable record (copied in, or written by another tool): verify the bytes.
	v := newVerifier(e)
	f, err := os.Open(dest)
	if err != nil {
		return record{}, false
	}
	defer f.Close()
	buf := c.getBuf()
	defer c.putBuf(buf)
	if _, err := copyBuf(v, f, *buf); err != nil || v.check(e) != nil {
		return record{}, false
	}
	rec = v.record(e, st)
	writeRecord(dir, e.Path, rec)
	return rec, true
}

func (r record) matches(e TreeEntry) bool {
	if sha := e.SHA256(); sha != "" {
		return r.SHA256 == sha
	}
	if isGitOID(e.OID) {
		return r.GitOID == e.OID
	}
	return r.SHA256 != "" // the hub published no hash: size (checked by caller) is all we have
}

func writeRecord(dir, name string, rec record) {
	p := recordPath(dir, name)
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	b, _ := json.Marshal(rec)
	// A lost record only costs a rehash on the next run.
	_ = os.WriteFile(p, b, 0o644)
}

// lockDir takes the download lock of dir: two downloads writing the same
// .incomplete files would corrupt each other.
func lockDir(dir, repo string) (func(), error) {
	p := filepath.Join(dir, ".cache", "rbee", "download.lock")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	l := flock.New(p)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if !ok {
		return nil, &Error{Code: CodeBusy, Repo: repo, Msg: fmt.Sprintf("another download into %s is running", dir),
			Hint: "wait for it to finish (running this again afterwards is a quick no-op)"}
	}
	return func() { _ = l.Unlock() }, nil
}

// getBuf hands out a copy buffer from the client's pool: no allocation per
// attempt or chunk.
func (c *Client) getBuf() *[]byte {
	if b, ok := c.bufs.Get().(*[]byte); ok && len(*b) == c.bufSize {
		return b
	}
	b := make([]byte, c.bufSize)
	return &b
}

func (c *Client) putBuf(b *[]byte) { c.bufs.Put(b) }
