package signoff

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"strings"
)

// GitState is the commit of the module root and whether the tree has
// changes (a dirty tree may be signed, and the report says so).
func GitState(ctx context.Context, dir string) (commit string, dirty []string, err error) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", nil, fmt.Errorf("git rev-parse HEAD in %s: %w", dir, err)
	}
	commit = strings.TrimSpace(string(out))
	out, err = exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain").Output()
	if err != nil {
		return "", nil, fmt.Errorf("git status in %s: %w", dir, err)
	}
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if len(l) > 3 {
			dirty = append(dirty, strings.TrimSpace(l[3:]))
		}
	}
	return commit, dirty, nil
}

// Operator is $USER@host of whoever signs.
func Operator(getenv func(string) string) string {
	user := getenv("USER")
	if user == "" {
		user = getenv("LOGNAME")
	}
	if user == "" {
		if u, err := osuser.Current(); err == nil {
			user = u.Username
		} else {
			user = "unknown"
		}
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return user + "@" + host
}
