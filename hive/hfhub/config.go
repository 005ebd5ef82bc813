package hfhub

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultEndpoint is the public Hugging Face Hub.
const DefaultEndpoint = "https://huggingface.co"

// DefaultInclude are the seed's default patterns; a download without
// include patterns narrows them further (InDefaultSet, DESIGN §7).
var DefaultInclude = []string{"*.safetensors", "*.json", "tokenizer.model"}

// Config is where the hub is and who we are to it.
type Config struct {
	Endpoint  string // without trailing slash
	Token     string // sent as Authorization: Bearer; empty = anonymous
	TokenFrom string // "HF_TOKEN" or the token file path, for hints
	// StallTimeout: a transfer delivering no byte for this long is abandoned
	// and retried (HF_HUB_DOWNLOAD_TIMEOUT, seconds); 0 = the client default.
	StallTimeout time.Duration
	// RateLimitBudget: the total wait for the hub's rate limit before giving
	// up (RBEE_HUB_RATE_LIMIT_BUDGET, a Go duration); 0 = the client default.
	RateLimitBudget time.Duration
}

// ConfigFromEnv reads HF_ENDPOINT, HF_HUB_DOWNLOAD_TIMEOUT, RBEE_HUB_RATE_LIMIT_BUDGET and the token the way huggingface_hub does:
// HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the token file at
// HF_TOKEN_PATH or $HF_HOME/token (HF_HOME defaults to ~/.cache/huggingface).
// getenv is os.Getenv in production; tests pass their own.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{Endpoint: strings.TrimRight(getenv("HF_ENDPOINT"), "/")}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if s, err := strconv.ParseFloat(getenv("HF_HUB_DOWNLOAD_TIMEOUT"), 64); err == nil && s > 0 {
		c.StallTimeout = time.Duration(s * float64(time.Second))
	}
	if d, err := time.ParseDuration(getenv("RBEE_HUB_RATE_LIMIT_BUDGET")); err == nil && d > 0 {
		c.RateLimitBudget = d
	}
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := strings.TrimSpace(getenv(k)); t != "" {
			c.Token, c.TokenFrom = t, k
			return c
		}
	}
	path := getenv("HF_TOKEN_PATH")
	if path == "" {
		home := getenv("HF_HOME")
		if home == "" {
			if h := getenv("HOME"); h != "" {
				home = filepath.Join(h, ".cache", "huggingface")
			}
		}
		if home != "" {
			path = filepath.Join(home, "token")
		}
	}
	if path != "" {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
			c.Token, c.TokenFrom = strings.TrimSpace(string(b)), path
		}
	}
	return c
}

// checkEndpoint refuses an endpoint that is not an http(s) URL with a host,
// before anything is asked or written.
func (c *Client) checkEndpoint() error {
	u, err := url.Parse(c.cfg.Endpoint)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" {
		return nil
	}
	return &Error{Code: CodeBadEndpoint,
		Msg:  fmt.Sprintf("hub endpoint %q (HF_ENDPOINT) is not an http(s) URL", c.cfg.Endpoint),
		Hint: "set HF_ENDPOINT to the hub's URL, e.g. https://huggingface.co or http://mirror.lan:8088, or unset it"}
}
