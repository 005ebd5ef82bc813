package hfhub_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigFromEnv(t *testing.T) {
	home := t.TempDir()
	hfHome := filepath.Join(home, "hf")
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".cache", "huggingface"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".cache", "huggingface", "token"), []byte("hf_default\n"), 0o600))
	require.NoError(t, os.MkdirAll(hfHome, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(hfHome, "token"), []byte("  hf_home  \n"), 0o600))
	tests := []struct {
		name string
		env  map[string]string
		want hfhub.Config
	}{
		{"defaults", map[string]string{"HOME": t.TempDir()}, hfhub.Config{Endpoint: "https://huggingface.co"}},
		{"endpoint without trailing slash", map[string]string{"HF_ENDPOINT": "http://mirror:8088/"}, hfhub.Config{Endpoint: "http://mirror:8088"}},
		{"stall timeout", map[string]string{"HF_HUB_DOWNLOAD_TIMEOUT": "2.5"}, hfhub.Config{Endpoint: "https://huggingface.co", StallTimeout: 2500 * time.Millisecond}},
		{"rate limit budget", map[string]string{"RBEE_HUB_RATE_LIMIT_BUDGET": "90s"}, hfhub.Config{Endpoint: "https://huggingface.co", RateLimitBudget: 90 * time.Second}},
		{"bad stall timeout ignored", map[string]string{"HF_HUB_DOWNLOAD_TIMEOUT": "soon"}, hfhub.Config{Endpoint: "https://huggingface.co"}},
		{"HF_TOKEN wins", map[string]string{"HF_TOKEN": "hf_env", "HF_HOME": hfHome}, hfhub.Config{Endpoint: "https://huggingface.co", Token: "hf_env", TokenFrom: "HF_TOKEN"}},
		{"legacy variable", map[string]string{"HUGGING_FACE_HUB_TOKEN": "hf_old"}, hfhub.Config{Endpoint: "https://huggingface.co", Token: "hf_old", TokenFrom: "HUGGING_FACE_HUB_TOKEN"}},
		{"token file under HF_HOME", map[string]string{"HF_HOME": hfHome, "HOME": home}, hfhub.Config{Endpoint: "https://huggingface.co", Token: "hf_home", TokenFrom: filepath.Join(hfHome, "token")}},
		{"token file under ~/.cache/huggingface", map[string]string{"HOME": home}, hfhub.Config{Endpoint: "https://huggingface.co", Token: "hf_default", TokenFrom: filepath.Join(home, ".cache", "huggingface", "token")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, hfhub.ConfigFromEnv(func(k string) string { return tt.env[k] }))
		})
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		path     string
		patterns []string
		want     bool
	}{
		{"model.safetensors", hfhub.DefaultInclude, true},
		{"model-00001-of-00002.safetensors", hfhub.DefaultInclude, true},
		{"onnx/model.safetensors", hfhub.DefaultInclude, true},
		{"tokenizer.model", hfhub.DefaultInclude, true},
		{"config.json", hfhub.DefaultInclude, true},
		{"pytorch_model.bin", hfhub.DefaultInclude, false},
		{"README.md", hfhub.DefaultInclude, false},
		{"gguf/q4.gguf", []string{"gguf/*.gguf"}, true},
		{"q4.gguf", []string{"gguf/*.gguf"}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hfhub.Matches(tt.path, tt.patterns), tt.path)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 29: "1.5 GiB", 1 << 50: "1.0 PiB"} {
		assert.Equal(t, want, hfhub.HumanBytes(n))
	}
}
