package hfhub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rbee-go/rbee/internal/durable"
)

// fetch downloads one file with retries: a big LFS file as parallel ranges
// (fetchRanges), any other as one stream (fetchOnce). Every try starts at the
// hub's resolve URL, so an expired presigned CDN URL is signed afresh.
func (c *Client) fetch(ctx context.Context, repo string, j *job) error {
	u := c.resolveURL(repo, j.commit, j.entry.Path)
	var fetched int64
	high := int64(-1) // the furthest the file got in this run
	err := c.retry(ctx, repo, j.entry.Path, func(ctx context.Context) (int64, error) {
		var t try
		var err error
		if c.useRanges(j) {
			t, err = c.fetchRanges(ctx, u, repo, j)
		} else {
			t, err = c.fetchOnce(ctx, u, repo, j)
		}
		fetched += t.moved
		if high < 0 {
			high = t.start
		}
		gain := max(0, t.end-high)
		high = max(high, t.end)
		return gain, err
	})
	j.result.Fetched = fetched
	c.progress.FileDone(j.entry.Path, j.result, err)
	return err
}

// try is what one attempt did: bytes transferred, and where the file stood
// (bytes in place) before and after it.
type try struct{ moved, start, end int64 }

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// openIncomplete opens (creating it and its folder) the file's <file>.incomplete.
func openIncomplete(repo string, j *job) (*os.File, string, error) {
	inc := j.dest + ".incomplete"
	if err := os.MkdirAll(filepath.Dir(j.dest), 0o755); err != nil {
		return nil, inc, &Error{Code: CodeWriteFailed, Repo: repo, File: j.entry.Path, Msg: "cannot create " + filepath.Dir(j.dest), Err: err}
	}
	f, err := os.OpenFile(inc, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, inc, &Error{Code: CodeWriteFailed, Repo: repo, File: j.entry.Path, Msg: "cannot write " + inc, Err: err}
	}
	return f, inc, nil
}

// fetchOnce is one attempt: continue <file>.incomplete from its current size
// (when its sidecar says the bytes are of this version of the file), verify,
// rename into place.
func (c *Client) fetchOnce(ctx context.Context, u, repo string, j *job) (t try, err error) {
	e := j.entry
	f, inc, err := openIncomplete(repo, j)
	if err != nil {
		return t, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if permanent(err) {
			dropEmpty(j.dir, e.Path, inc) // a refused file leaves nothing behind
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return t, err
	}
	off := st.Size()
	if p := readPartial(j.dir, e.Path); p == nil || !p.stream(e) {
		// Bytes of another version of the file (or of unknown origin) are
		// not resumed: they would only fail verification at the end. Of
		// parallel ranges, the contiguous written prefix is kept.
		off = 0
		if p != nil && p.ranges(e) {
			off = p.prefix()
		}
		if err := writePartial(j.dir, e.Path, newPartial(e, 0)); err != nil {
			return t, &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot write the sidecar of " + inc, Err: err}
		}
	}
	v := newVerifier(e)
	buf := c.getBuf()
	defer c.putBuf(buf)
	if off > e.Size {
		off = 0
	}
	if off > 0 {
		// Resume: the hash must cover the bytes already on disk.
		if _, err := copyBuf(v, io.NewSectionReader(f, 0, off), *buf); err != nil {
			off = 0
			v = newVerifier(e)
		}
	}
	// Truncate only when needed: on ext4, truncating a file to 0 makes its
	// close flush all written data (auto_da_alloc), slowing big downloads.
	if st.Size() != off {
		if err := f.Truncate(off); err != nil {
			return t, err
		}
	}
	t.start, t.end = off, off
	c.progress.FileStart(e.Path, e.Size, off)
	if off < e.Size || e.Size == 0 && off == 0 {
		n, newOff, err := c.transfer(ctx, u, repo, j, f, off, v)
		t.moved, t.end = n, newOff
		if err != nil {
			return t, err
		}
	}
	if err := v.check(e); err != nil {
		// Never keep bytes that failed verification: the retry starts clean.
		f.Close()
		f = nil
		os.Remove(inc)
		t.end = 0
		c.progress.FileStart(e.Path, e.Size, 0)
		return t, fmt.Errorf("%s: %w", e.Path, err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return t, err
	}
	f = nil
	return t, c.finish(repo, j, v)
}

// finish moves a verified .incomplete into place and records it.
func (c *Client) finish(repo string, j *job, v *verifier) error {
	e := j.entry
	inc := j.dest + ".incomplete"
	// The bytes reach the disk before the name says they are complete, and
	// the rename before the record: a power cut cannot leave a verified
	// name over missing bytes.
	if err := durable.SyncFile(inc); err != nil {
		return &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot flush " + inc + " to disk", Err: err}
	}
	if err := os.Rename(inc, j.dest); err != nil {
		return &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot move " + inc + " into place", Err: err}
	}
	if err := durable.SyncDir(filepath.Dir(j.dest)); err != nil {
		return &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot flush " + filepath.Dir(j.dest) + " to disk", Err: err}
	}
	removePartial(j.dir, e.Path)
	dst, err := os.Stat(j.dest)
	if err != nil {
		return err
	}
	rec := v.record(e, dst)
	rec.Commit = j.commit
	writeRecord(j.dir, e.Path, rec)
	j.result = FileResult{Name: e.Path, Size: e.Size, SHA256: rec.SHA256}
	return nil
}

// transfer GETs the file from off and appends to f, hashing in the same pass.
func (c *Client) transfer(ctx context.Context, u, repo string, j *job, f *os.File, off int64, v *verifier) (moved, newOff int64, err error) {
	e := j.entry
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	watchdog := time.AfterFunc(c.stallTimeout, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	stallErr := func(err error) error {
		if stalled.Load() {
			return fmt.Errorf("%s: no data for %s: %w", e.Path, c.stallTimeout, ErrStalled)
		}
		return err
	}
	req, err := c.newRequest(actx, http.MethodGet, u)
	if err != nil {
		return 0, off, err
	}
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, off, stallErr(redact(err))
	}
	defer resp.Body.Close()
	if err := checkIdentity(resp, repo, e.Path); err != nil {
		return 0, off, err
	}
	if err := c.checkStatus(resp, repo, j.commit, e.Path); err != nil {
		var se *statusError
		if errors.As(err, &se) && se.Status == http.StatusRequestedRangeNotSatisfiable {
			f.Truncate(0) // our partial file no longer fits the server's: start over
		}
		return 0, off, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != off {
			f.Truncate(0)
			return 0, off, fmt.Errorf("%s: server sent range %q for bytes=%d-", e.Path, resp.Header.Get("Content-Range"), off)
		}
	case http.StatusOK:
		if off > 0 { // the server ignored Range: start over
			off = 0
			v.reset(e)
			if err := f.Truncate(0); err != nil {
				return 0, 0, err
			}
			c.progress.FileStart(e.Path, e.Size, 0)
		}
	default:
		return 0, off, &statusError{Status: resp.StatusCode, Msg: "unexpected status"}
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, off, err
	}
	// Read one byte past the expected end to notice an overlong body.
	body := &watchedReader{r: io.LimitReader(resp.Body, e.Size-off+1), dog: watchdog, d: c.stallTimeout}
	pipe := c.newHashPipe(v)
	defer pipe.finish() // the verifier is complete once transfer returns
	for done := false; !done; {
		// Fill a whole chunk before handing it to the hasher: one handoff
		// per chunk, not per socket read. Each read is written at once, in
		// pieces (see writeSize), while it is still in the CPU cache.
		b := pipe.next()
		filled := 0
		for filled < len(*b) {
			// One Read per piece: ReadFull would route short tails through bufio.
			n, rerr := body.Read((*b)[filled:min(len(*b), filled+readSize)])
			if n > 0 {
				if off+int64(n) > e.Size {
					pipe.release(b)
					f.Truncate(0)
					return moved, off, fmt.Errorf("%s: server sent more than %d bytes: %w", e.Path, e.Size, ErrSizeMismatch)
				}
				if err := writeSmall(f, (*b)[filled:filled+n]); err != nil {
					pipe.release(b)
					return moved, off, &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot write " + f.Name(), Err: err}
				}
				filled += n
				off += int64(n)
				moved += int64(n)
				c.progress.Advance(e.Path, int64(n))
			}
			if rerr == io.EOF {
				done = true
				break
			}
			if rerr != nil {
				pipe.submit(b, filled) // hash what was written, so a resume's hash matches the file
				return moved, off, stallErr(fmt.Errorf("%s: %w", e.Path, redact(rerr)))
			}
		}
		if filled == 0 {
			pipe.release(b)
		} else {
			pipe.submit(b, filled)
		}
	}
	if off != e.Size {
		return moved, off, fmt.Errorf("%s: got %d of %d bytes: %w", e.Path, off, e.Size, ErrSizeMismatch)
	}
	return moved, off, nil
}

// checkIdentity refuses an encoded body: a compressing proxy's bytes are not
// the file's, and asking again would not change them.
func checkIdentity(resp *http.Response, repo, file string) error {
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") && resp.StatusCode < 300 {
		return &Error{Code: CodeBadResponse, Repo: repo, File: file,
			Msg:  fmt.Sprintf("the answer for %s of %s is %s-encoded though the client asked for identity", file, repo, ce),
			Hint: "a proxy between this host and the hub compresses downloads: bypass it (NO_PROXY) or turn its compression off"}
	}
	return nil
}

// writeSize caps one page-cache write. Measured on Linux 6.18/ext4, idle
// machine: with reads of readSize written whole, 128 KiB writes cost less CPU
// than 16 KiB pieces (1.67 vs 1.87 s/GiB incl. the mirror); 1 MiB writes cost
// more (large folios: copy_folio_from_iter_atomic).
const writeSize = 128 << 10

// readSize caps one socket read: a read is written before the next one, so it
// should fit in the CPU cache (chunks, the hasher's unit, are bigger).
const readSize = 128 << 10

func writeSmall(f *os.File, b []byte) error {
	for len(b) > 0 {
		n := min(len(b), writeSize)
		if _, err := f.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// rangeStart parses the first byte of "bytes START-END/TOTAL".
func rangeStart(cr string) (int64, bool) {
	s, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	s, _, ok = strings.Cut(s, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// watchedReader feeds the stall watchdog on every byte that arrives.
type watchedReader struct {
	r   io.Reader
	dog *time.Timer
	d   time.Duration
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.dog.Reset(w.d)
	}
	return n, err
}

// copyBuf is io.CopyBuffer without the WriterTo/ReaderFrom detours, so the
// given buffer is really used.
func copyBuf(w io.Writer, r io.Reader, buf []byte) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, buf)
}

// verifier hashes a file as it is written: sha256 always (recorded in the
// catalog), the git blob id when that is all the hub publishes (non-LFS files).
type verifier struct {
	sha hash.Hash
	git hash.Hash
	n   int64
}

func newVerifier(e TreeEntry) *verifier {
	v := &verifier{}
	v.reset(e)
	return v
}

func (v *verifier) reset(e TreeEntry) {
	v.sha, v.git, v.n = sha256.New(), nil, 0
	if e.SHA256() == "" && isGitOID(e.OID) {
		v.git = sha1.New()
		fmt.Fprintf(v.git, "blob %d\x00", e.Size)
	}
}

func (v *verifier) Write(p []byte) (int, error) {
	v.sha.Write(p)
	if v.git != nil {
		v.git.Write(p)
	}
	v.n += int64(len(p))
	return len(p), nil
}

func (v *verifier) check(e TreeEntry) error {
	if v.n != e.Size {
		return fmt.Errorf("%d bytes, expected %d: %w", v.n, e.Size, ErrSizeMismatch)
	}
	if want := e.SHA256(); want != "" {
		if got := hex.EncodeToString(v.sha.Sum(nil)); got != want {
			return fmt.Errorf("sha256 %s, expected %s: %w", got, want, ErrChecksumMismatch)
		}
	}
	if v.git != nil {
		if got := hex.EncodeToString(v.git.Sum(nil)); got != e.OID {
			return fmt.Errorf("git blob id %s, expected %s: %w", got, e.OID, ErrChecksumMismatch)
		}
	}
	return nil
}

func (v *verifier) record(e TreeEntry, st fs.FileInfo) record {
	r := record{Size: st.Size(), MtimeNS: st.ModTime().UnixNano(), SHA256: hex.EncodeToString(v.sha.Sum(nil))}
	if v.git != nil {
		r.GitOID = e.OID
	}
	return r
}

func isGitOID(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
