package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// RealHub is the Hugging Face Hub, the default endpoint for real models.
const RealHub = "https://huggingface.co"

// HubCheckTimeout bounds the reachability check done before any cell, so an
// unreachable hub fails the run at once instead of every download hanging.
const HubCheckTimeout = 5 * time.Second

// ErrHubUnreachable is returned (wrapped) when the hub does not answer.
var ErrHubUnreachable = errors.New("hub not reachable")

// embeddedHub generates the four tiny repos and their GGUF siblings, writes
// stories260K's two repos from testdata into dir, and serves them on a loopback port with the
// hub mirror. Close it when done.
func embeddedHub(dir string) (*hubmirror.Server, error) {
	root := filepath.Join(dir, "hub")
	if err := tinymodel.GenerateAll(root, tinymodel.DefaultSeed); err != nil {
		return nil, fmt.Errorf("generating the tiny models: %w", err)
	}
	if _, err := tinymodel.GenerateAllGGUF(root, tinymodel.DefaultSeed, []quant.Type{TinyGGUFType}); err != nil {
		return nil, fmt.Errorf("generating the tiny GGUF models: %w", err)
	}
	if err := realmodel.WriteHub(root); err != nil {
		return nil, fmt.Errorf("writing the stories260K repos: %w", err)
	}
	srv, err := hubmirror.Start(root)
	if err != nil {
		return nil, err
	}
	// hash once now, so the first download of every pool does not wait for it
	if _, err := srv.Scan(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("hub mirror: %w", err)
	}
	return srv, nil
}

// CheckHub asks the hub for the revision of repo within HubCheckTimeout.
// Any HTTP answer means reachable (a gated or missing repo is the cell's
// failure to report, with the hive's own message); no answer is
// ErrHubUnreachable with what to do.
func CheckHub(ctx context.Context, endpoint, repo string) error {
	ctx, cancel := context.WithTimeout(ctx, HubCheckTimeout)
	defer cancel()
	url := strings.TrimRight(endpoint, "/") + "/api/models/" + repo + "/revision/main"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("-hub %q: %w", endpoint, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", HubCheckTimeout)
		}
		return fmt.Errorf("%w: %s (%v); the pools download the models from it\n"+
			"hint: check the network, or pass -hub=http://HOST:PORT of a mirror (rbee-hive hub serve DIR)",
			ErrHubUnreachable, endpoint, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return nil
}
