package keeper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// EnvPools names the environment variable holding the pools file path.
const EnvPools = "RBEE_POOLS"

// Pool is one [[pool]] entry of the pools file.
type Pool struct {
	Name         string   `toml:"name"`
	Host         string   `toml:"host"`
	Port         int      `toml:"port"`
	User         string   `toml:"user"`
	IdentityFile string   `toml:"identity_file"`
	HiveBin      string   `toml:"hive_bin"` // rbee-hive on the pool; default "rbee-hive" on PATH
	Repo         string   `toml:"repo"`     // the pool's checkout, for `pool git`
	Backends     []string `toml:"backends"`
	Home         string   `toml:"home"` // passed as --home to the pool's hive when set
}

// Pools is a parsed pools file.
type Pools struct {
	Path  string `toml:"-"`
	Pools []Pool `toml:"pool"`
}

// DefaultPoolsPath is $RBEE_POOLS, else ~/.config/rbee/pools.toml.
func DefaultPoolsPath(getenv func(string) string) string {
	if p := getenv(EnvPools); p != "" {
		return p
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".config", "rbee", "pools.toml")
	}
	return filepath.Join(".config", "rbee", "pools.toml")
}

// LoadPools reads a pools file. A missing file is an empty list unless
// required (the operator named it explicitly with --pools or RBEE_POOLS).
func LoadPools(path string, required bool) (*Pools, error) {
	p := &Pools{Path: path}
	md, err := toml.DecodeFile(path, p)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return &Pools{Path: path}, nil
	}
	if err != nil {
		return nil, &Error{Code: CodePoolsFile, Msg: fmt.Sprintf("pools file %s: %v", path, err), Err: err,
			Hint: "the pools file is TOML: [[pool]] name, host, port, user, identity_file, hive_bin, repo, backends, home"}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, &Error{Code: CodePoolsFile, Msg: fmt.Sprintf("pools file %s: unknown key(s) %s", path, strings.Join(keys, ", ")),
			Hint: "known keys: name, host, port, user, identity_file, hive_bin, repo, backends, home"}
	}
	seen := map[string]bool{}
	for i, pool := range p.Pools {
		switch {
		case strings.TrimSpace(pool.Name) == "":
			return nil, &Error{Code: CodePoolsFile, Msg: fmt.Sprintf("pools file %s: pool #%d has no name", path, i+1)}
		case seen[pool.Name]:
			return nil, &Error{Code: CodePoolsFile, Msg: fmt.Sprintf("pools file %s: pool %q is defined twice", path, pool.Name)}
		case strings.TrimSpace(pool.Host) == "":
			return nil, &Error{Code: CodePoolsFile, Msg: fmt.Sprintf("pools file %s: pool %q has no host", path, pool.Name)}
		case pool.Port < 0 || pool.Port > 65535:
			return nil, &Error{Code: CodePoolsFile, Msg: fmt.Sprintf("pools file %s: pool %q has bad port %d", path, pool.Name, pool.Port)}
		}
		seen[pool.Name] = true
	}
	return p, nil
}

// Find returns the pool with this name, or nil.
func (p *Pools) Find(name string) *Pool {
	if p == nil {
		return nil
	}
	for i := range p.Pools {
		if p.Pools[i].Name == name {
			return &p.Pools[i]
		}
	}
	return nil
}
