package hfhub

import (
	"errors"
	"fmt"
	"syscall"
)

// CodeDiskFull: the disk filled up during the download (ENOSPC). The bytes
// already written are kept in their .incomplete files for the next run.
const CodeDiskFull Code = "DISK_FULL"

// ErrDiskFull matches a CodeDiskFull error with errors.Is.
var ErrDiskFull = &Error{Code: CodeDiskFull}

// diskFull turns a write that ran out of space into DISK_FULL, saying how
// many bytes the files not yet verified still need; other errors pass.
func diskFull(err error, req Request, jobs []*job) error {
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	var need int64
	for _, j := range jobs {
		if !j.done && j.result.Name == "" { // neither skipped nor finished in this run
			need += j.entry.Size - partialBytes(req.Dir, j.entry, j.dest+".incomplete")
		}
	}
	home := req.Home
	if home == "" {
		home = req.Dir
	}
	return &Error{Code: CodeDiskFull, Repo: req.Repo, Err: err,
		Msg: fmt.Sprintf("disk full under %s: %d more bytes needed (%s) for %s", home, need, HumanBytes(need), req.Repo),
		Hint: "free that much space and run the download again: the bytes already fetched are kept and resumed " +
			"(or point --home / RBEE_HOME at a bigger disk)"}
}
