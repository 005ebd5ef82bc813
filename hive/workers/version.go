package workers

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// versionTimeout bounds `<bin> --version`: status must answer even when a
// configured binary hangs.
const versionTimeout = 5 * time.Second

// BinaryVersion is the first line `bin --version` prints, or "" when the
// binary cannot say (missing, no such flag, failed). A matrix resume reuses
// a cell only when this matches what the cell ran with.
func BinaryVersion(ctx context.Context, bin string) string {
	if bin == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}
