package steps

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/hive/hubmirror"
)

// registerRealHubSteps: the mirror behaving like huggingface.co (gated
// repos, rate limits, a CDN, Mistral's duplicate weights) and what an
// operator sees of it (features/cp3_downloads.feature).
func registerRealHubSteps(sc *godog.ScenarioContext, d *downloads) {
	sc.Step(`^the hub mirror gates "([^"]*)"$`, func(repo string) error {
		return d.mirror(func(s *hubmirror.Server) { s.Gate(repo) })
	})
	sc.Step(`^the account of the token "([^"]*)" accepts the terms of "([^"]*)"$`, func(tok, repo string) error {
		return d.mirror(func(s *hubmirror.Server) { s.Accept(repo, tok) })
	})
	sc.Step(`^the hub mirror rate-limits the first (\d+) requests for (\d+) seconds? each$`, func(n, secs int) error {
		return d.knob("", func(f *hubmirror.Faults) { f.RateLimit, f.RateLimitWait = n, secs })
	})
	sc.Step(`^the hub mirror rate-limits every request for (\d+) seconds? each$`, func(secs int) error {
		return d.knob("", func(f *hubmirror.Faults) { f.RateLimit, f.RateLimitWait = 1<<30, secs })
	})
	sc.Step(`^the hub mirror serves LFS files from a CDN on another host$`, d.startCDN)
	sc.Step(`^the CDN's presigned URLs for "([^"]*)" expire (\d+) times?$`, func(file string, n int) error {
		return d.knob(d.target(file), func(f *hubmirror.Faults) { f.ExpireURLs = n })
	})
	sc.Step(`^the CDN's presigned URLs for "([^"]*)" always expire$`, func(file string) error {
		return d.knob(d.target(file), func(f *hubmirror.Faults) { f.ExpireURLs = 1 << 30 })
	})
	sc.Step(`^no message shows a presigned signature$`, func() error {
		if strings.Contains(d.w.Stderr+d.w.Stdout, "Signature=") {
			return fmt.Errorf("a presigned query string was printed\n%s", d.w.Last())
		}
		return nil
	})
	sc.Step(`^the hub mirror also serves the Mistral-like repo "([^"]*)"$`, d.serveMistralLike)
	sc.Step(`^the hub mirror sent no bytes of "([^"]*)"$`, func(file string) error {
		if n := d.srv.BytesServed(d.target(file)); n != 0 {
			return fmt.Errorf("the mirror sent %d bytes of %s\n%s", n, file, d.w.Last())
		}
		return nil
	})
	sc.Step(`^no "\.incomplete" file exists under the home$`, d.noIncomplete)
}

// startCDN serves the LFS files from a second listener on 127.0.0.2 that,
// like the Hub's CDN, refuses Authorization and expires its URLs.
func (d *downloads) startCDN() error {
	var err error
	merr := d.mirror(func(s *hubmirror.Server) { _, err = s.StartCDN(hubmirror.DefaultCDNAddr, 0) })
	if merr != nil {
		return merr
	}
	return err
}

// serveMistralLike writes a repo laid out like mistralai/Mistral-7B-Instruct-v0.2:
// HF shards and their index, the same weights again as consolidated.safetensors
// (with Mistral's params.json), as PyTorch .bin, and under original/.
func (d *downloads) serveMistralLike(repo string) error {
	dir := filepath.Join(d.w.Dir, "hub", filepath.FromSlash(repo))
	r := rand.NewChaCha8([32]byte{'m', 'i', 's', 't'})
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = r.Read(b)
		return b
	}
	index, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 3 << 20},
		"weight_map": map[string]string{"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"model-00001-of-00002.safetensors": random(1 << 20),
		"model-00002-of-00002.safetensors": random(2 << 20),
		"model.safetensors.index.json":     index,
		"consolidated.safetensors":         random(3 << 20),
		"params.json":                      []byte(`{"dim": 64, "n_layers": 2}`),
		"pytorch_model-00001-of-00001.bin": random(3 << 20),
		"original/consolidated.00.pth":     random(1 << 20),
		"config.json":                      []byte(`{"architectures": ["MistralForCausalLM"], "hidden_size": 64}`),
		"tokenizer.json":                   []byte(`{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}`),
		"tokenizer_config.json":            []byte(`{"add_bos_token": true}`),
		"tokenizer.model":                  random(4096),
		"README.md":                        []byte("# " + repo + "\n"),
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	d.repo = repo
	return d.startMirror()
}

func (d *downloads) noIncomplete() error {
	var found []string
	_ = filepath.WalkDir(d.w.Home, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".incomplete") {
			found = append(found, p)
		}
		return nil
	})
	if len(found) > 0 {
		return fmt.Errorf("left behind: %v\n%s", found, d.w.Last())
	}
	return nil
}
