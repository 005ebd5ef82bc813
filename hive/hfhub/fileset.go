package hfhub

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
)

// IndexFile names the shards of a sharded safetensors checkpoint.
const IndexFile = "model.safetensors.index.json"

// InDefaultSet reports whether a repo path belongs to the default download
// set of a safetensors repo (DESIGN §7): top-level files only (nothing under
// original/), the shards the index names when there is an index (shards nil:
// none), else every *.safetensors but Mistral's consolidated*.safetensors,
// the *.json files but Mistral's params.json, and tokenizer.model. Repos
// like mistralai/Mistral-7B-Instruct-v0.2 ship the same weights twice
// (consolidated.safetensors beside the HF shards, *.bin beside both).
func InDefaultSet(p string, shards map[string]bool) bool {
	if strings.Contains(p, "/") {
		return false
	}
	switch {
	case p == "tokenizer.model":
		return true
	case p == "params.json":
		return false
	case strings.HasSuffix(p, ".json"):
		return true
	case strings.HasSuffix(p, ".safetensors"):
		if shards != nil {
			return shards[p]
		}
		return !strings.HasPrefix(p, "consolidated")
	}
	return false
}

// shardIndex reads the repo's safetensors index (when the tree has one) and
// returns the shard files its weight_map names; nil when there is no index.
func (c *Client) shardIndex(ctx context.Context, repo, commit string, tree []TreeEntry) (map[string]bool, error) {
	found := false
	names := map[string]bool{}
	for _, e := range tree {
		names[e.Path] = true
		found = found || e.Path == IndexFile
	}
	if !found {
		return nil, nil
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if _, err := c.getJSON(ctx, c.resolveURL(repo, commit, IndexFile), repo, commit, IndexFile, &idx); err != nil {
		return nil, err
	}
	shards := map[string]bool{}
	for _, f := range idx.WeightMap {
		if !names[f] {
			return nil, &Error{Code: CodeBadResponse, Repo: repo, File: IndexFile,
				Msg:  fmt.Sprintf("%s of %s names the shard %s, which the repo does not have", IndexFile, repo, f),
				Hint: "the repo is inconsistent at this revision; pick another --revision or name the files with --include"}
		}
		shards[f] = true
	}
	if len(shards) == 0 {
		return nil, &Error{Code: CodeBadResponse, Repo: repo, File: IndexFile,
			Msg: fmt.Sprintf("%s of %s has an empty weight_map", IndexFile, repo)}
	}
	return shards, nil
}

func (c *Client) resolveURL(repo, commit, p string) string {
	return fmt.Sprintf("%s/%s/resolve/%s/%s", c.cfg.Endpoint, repoPath(repo), url.PathEscape(commit), escapePath(p))
}

// selectFiles keeps the tree's files in the download set (the include
// patterns, else the default set), largest first so the long transfers
// start early.
func selectFiles(tree []TreeEntry, req Request, shards map[string]bool) ([]TreeEntry, error) {
	var out []TreeEntry
	for _, e := range tree {
		if len(req.Include) > 0 && !Matches(e.Path, req.Include) || len(req.Include) == 0 && !InDefaultSet(e.Path, shards) {
			continue
		}
		if p := path.Clean(e.Path); p != e.Path || strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) || strings.HasPrefix(path.Base(p), ".") {
			continue // never write outside Dir or over our own bookkeeping
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		what := "the default set (*.safetensors, *.json, tokenizer.model)"
		if len(req.Include) > 0 {
			what = strings.Join(req.Include, ", ")
		}
		return nil, &Error{Code: CodeNoFiles, Repo: req.Repo,
			Msg:  fmt.Sprintf("no file of %s@%s matches %s; the repo has %s", req.Repo, req.Revision, what, listFiles(tree, 12)),
			Hint: "register the model again with --include patterns that match its files (rbee-hive models register ... --include GLOB)"}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Size > out[j].Size })
	return out, nil
}

// listFiles names up to max files of a tree for an error message.
func listFiles(tree []TreeEntry, limit int) string {
	if len(tree) == 0 {
		return "no files"
	}
	var names []string
	for i, e := range tree {
		if i == limit {
			names = append(names, fmt.Sprintf("and %d more", len(tree)-limit))
			break
		}
		names = append(names, e.Path)
	}
	return strings.Join(names, ", ")
}

// checkAccess asks the hub for the smallest file still to fetch (HEAD, not
// following a redirect to another origin: a presigned CDN URL is signed for
// GET only, and the redirect itself means the hub granted access).
func (c *Client) checkAccess(ctx context.Context, repo, commit string, jobs []*job) error {
	var probe *job
	for _, j := range jobs {
		if !j.done && (probe == nil || j.entry.Size < probe.entry.Size) {
			probe = j
		}
	}
	if probe == nil {
		return nil
	}
	hc := *c.http
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(via[0].URL, req.URL) {
			return http.ErrUseLastResponse
		}
		return checkRedirect(req, via)
	}
	u := c.resolveURL(repo, commit, probe.entry.Path)
	return c.retry(ctx, repo, probe.entry.Path, func(ctx context.Context) (int64, error) {
		actx, cancel := context.WithTimeout(ctx, c.apiTimeout)
		defer cancel()
		req, err := c.newRequest(actx, http.MethodHead, u)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			if actx.Err() != nil && ctx.Err() == nil {
				return 0, fmt.Errorf("%s: no answer in %s: %w", redactURL(u), c.apiTimeout, ErrStalled)
			}
			return 0, redact(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return 0, nil
		}
		return 0, c.checkStatus(resp, repo, commit, probe.entry.Path)
	})
}
