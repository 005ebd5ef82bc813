package hive

import (
	"context"
	"math"
	"os"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hfhub"
)

// DownloadOptions tune `rbee-hive models download`.
type DownloadOptions struct {
	Revision string        // overrides the catalog entry's revision
	Client   *hfhub.Client // nil = the hub named by HF_ENDPOINT / HF_TOKEN
}

// DownloadResult is a finished download and the catalog entry it produced.
type DownloadResult struct {
	Model             catalog.Model
	Hub               *hfhub.Result
	AlreadyDownloaded bool // nothing was fetched and the catalog already said so
}

// Download fetches the files of a registered model into models/<id>/ and,
// only when every file is verified, marks the entry downloaded with its
// sizes, commit and file list. A failed or interrupted download leaves the
// catalog as it was and keeps every byte on disk for the next run.
func (h Hive) Download(ctx context.Context, id string, opts DownloadOptions) (*DownloadResult, error) {
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	store := h.Catalog()
	m, err := store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	rev := opts.Revision
	if rev == "" {
		rev = m.Metadata.Revision
	}
	if rev == "" {
		rev = "main"
	}
	client := opts.Client
	if client == nil {
		client = hfhub.New(hfhub.ConfigFromEnv(os.Getenv))
	}
	dir := store.ModelDir(id)
	res, err := client.Download(ctx, hfhub.Request{Repo: m.Metadata.Repo, Revision: rev, Include: m.Metadata.Include, Dir: dir})
	if err != nil {
		return nil, err
	}
	files := make([]catalog.File, len(res.Files))
	for i, f := range res.Files {
		files[i] = catalog.File{Name: f.Name, Size: f.Size, SHA256: f.SHA256}
	}
	out := &DownloadResult{Hub: res}
	_, err = store.Update(ctx, func(c *catalog.Catalog) error {
		e := c.Find(id)
		if e == nil {
			return catalog.NotFound(id) // unregistered while we downloaded
		}
		format, path := locate(dir, res.Files)
		out.AlreadyDownloaded = res.AlreadyComplete() && e.Downloaded && e.Metadata.Commit == res.Commit && e.Path == path
		e.Downloaded = true
		e.Format, e.Path = format, path
		e.SizeBytes = res.Bytes
		e.SizeGB = math.Round(float64(res.Bytes)/1e9*100) / 100
		e.Metadata.Revision = rev
		e.Metadata.Commit = res.Commit
		e.Metadata.Files = mergeFiles(e.Metadata.Files, files)
		out.Model = *e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeFiles returns the new file list, keeping unknown JSON fields a previous
// writer stored on entries with the same name.
func mergeFiles(old, cur []catalog.File) []catalog.File {
	extra := map[string]catalog.Extra{}
	for _, f := range old {
		if len(f.Extra) > 0 {
			extra[f.Name] = f.Extra
		}
	}
	for i := range cur {
		cur[i].Extra = extra[cur[i].Name]
	}
	return cur
}
