package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rbee-go/rbee/hive/hubmirror"
)

// hubFlags are the real-Hub behaviours `hub serve` can switch on.
type hubFlags struct {
	cdn           string
	gated         []string // REPO or REPO=TOKEN,TOKEN
	renames       []string // OLD=NEW
	resolveCache  bool
	xet           bool
	rateLimit     int
	rateLimitWait int
}

func (h *hubFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&h.cdn, "cdn", "", "serve LFS files from a CDN on HOST:PORT (e.g. 127.0.0.2:0) through presigned, expiring URLs")
	fs.StringArrayVar(&h.gated, "gated", nil, "REPO[=TOKEN,...]: a gated repo; files need a token listed as having accepted its terms (repeatable)")
	fs.StringArrayVar(&h.renames, "rename", nil, "OLD=NEW: requests for repo OLD answer 307 to NEW (repeatable)")
	fs.BoolVar(&h.resolveCache, "resolve-cache", false, "small files answer a relative 307 to /api/resolve-cache/..., as the Hub does")
	fs.BoolVar(&h.xet, "xet", false, "LFS answers carry Xet storage headers")
	fs.IntVar(&h.rateLimit, "rate-limit", 0, "answer 429 to the first N requests")
	fs.IntVar(&h.rateLimitWait, "rate-limit-wait", 5, "the wait in seconds those 429s announce (RateLimit t=)")
}

func (h *hubFlags) apply(m *hubmirror.Mirror) error {
	for _, g := range h.gated {
		repo, toks, _ := strings.Cut(g, "=")
		if !strings.Contains(repo, "/") {
			return fmt.Errorf("--gated %q: want ORG/NAME[=TOKEN,...]", g)
		}
		var accepted []string
		if toks != "" {
			accepted = strings.Split(toks, ",")
		}
		m.Gate(repo, accepted...)
	}
	for _, r := range h.renames {
		old, new, ok := strings.Cut(r, "=")
		if !ok || !strings.Contains(old, "/") || !strings.Contains(new, "/") {
			return fmt.Errorf("--rename %q: want OLD_ORG/NAME=NEW_ORG/NAME", r)
		}
		m.Rename(old, new)
	}
	if h.rateLimit < 0 || h.rateLimitWait < 0 {
		return fmt.Errorf("--rate-limit and --rate-limit-wait must not be negative")
	}
	m.SetResolveCache(h.resolveCache)
	m.SetXet(h.xet)
	if h.rateLimit > 0 {
		m.SetFaults("", hubmirror.Faults{RateLimit: h.rateLimit, RateLimitWait: h.rateLimitWait})
	}
	return nil
}
