package hfhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// DefaultConnections is how many range requests fetch one big LFS file at
// once: hf_transfer and hf_xet exist because one TCP stream from a CDN is
// often capped far below the link.
const DefaultConnections = 8

// DefaultRangeMin is the smallest file fetched as parallel ranges; smaller
// files stay single requests (they are over before more streams would help).
const DefaultRangeMin = 64 << 20

// errNoRanges: the server answered a range request with the whole file.
var errNoRanges = errors.New("the server ignores Range")

func (c *Client) useRanges(j *job) bool {
	return c.connections > 1 && j.entry.LFS != nil && j.entry.Size >= c.rangeMin && !j.noRanges
}

// partSize splits a file into about 4 parts per connection, so a slow part
// does not hold the others up at the end; 1 MiB to 256 MiB.
func (c *Client) partSize(size int64) int64 {
	n := size / int64(4*c.connections)
	return min(max(n, 1<<20), 256<<20)
}

// fetchRanges is one attempt at a big LFS file: the parts still missing are
// fetched by c.connections concurrent range requests into one preallocated
// .incomplete, each part's progress kept in the sidecar, while a hasher
// follows the contiguous written prefix; sha256 covers the whole file before
// the rename.
func (c *Client) fetchRanges(ctx context.Context, u, repo string, j *job) (t try, err error) {
	e := j.entry
	f, inc, err := openIncomplete(repo, j)
	if err != nil {
		return t, err
	}
	defer f.Close()
	p := readPartial(j.dir, e.Path)
	if st, err := f.Stat(); p == nil || !p.ranges(e) || err != nil || st.Size() != e.Size {
		keep := int64(0) // a one-stream partial of this version is the parts' start
		if p != nil && p.stream(e) && err == nil && st.Size() <= e.Size {
			keep = st.Size()
		}
		p = newPartial(e, c.partSize(e.Size))
		for i := range p.Done {
			lo, hi := p.part(i)
			p.Done[i] = min(max(keep-lo, 0), hi-lo)
		}
		if err := f.Truncate(keep); err != nil {
			return t, err
		}
		if err := preallocate(f, e.Size); err != nil {
			return t, &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot allocate " + inc, Err: err}
		}
	}
	r := &rangeRun{c: c, u: u, repo: repo, j: j, f: f, p: p, wake: make(chan struct{}, 1)}
	if err := r.save(); err != nil {
		return t, &Error{Code: CodeWriteFailed, Repo: repo, File: e.Path, Msg: "cannot write the sidecar of " + inc, Err: err}
	}
	t.start = p.written()
	c.progress.FileStart(e.Path, e.Size, t.start)
	err = r.run(ctx)
	t.moved, t.end = r.moved.Load(), r.written()
	if serr := r.save(); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		if errors.Is(err, errNoRanges) {
			j.noRanges = true // the next try fetches it as one stream
		}
		return t, err
	}
	if err := r.v.check(e); err != nil {
		f.Close()
		os.Remove(inc)
		removePartial(j.dir, e.Path)
		t.end = 0
		c.progress.FileStart(e.Path, e.Size, 0)
		return t, fmt.Errorf("%s: %w", e.Path, err)
	}
	if err := f.Close(); err != nil {
		return t, err
	}
	return t, c.finish(repo, j, r.v)
}

// rangeRun is one attempt of fetchRanges.
type rangeRun struct {
	c        *Client
	u, repo  string
	j        *job
	f        *os.File
	mu       sync.Mutex // guards p
	p        *partial
	moved    atomic.Int64
	wake     chan struct{} // a part advanced: the hasher may go on
	v        *verifier
	lastSave int64 // written bytes at the last sidecar save
}

func (r *rangeRun) written() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p.written()
}

func (r *rangeRun) save() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return writePartial(r.j.dir, r.j.entry.Path, r.p)
}

func (r *rangeRun) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan int, len(r.p.Done))
	for i := range r.p.Done {
		if lo, hi := r.p.part(i); r.p.Done[i] < hi-lo {
			todo <- i
		}
	}
	close(todo)
	hashed := make(chan error, 1)
	r.v = newVerifier(r.j.entry)
	go func() { hashed <- r.hash(ctx) }()
	// A part that breaks ends its worker only: the other connections go on
	// (cancelling them would throw away the bytes they have in flight) and
	// the next try fetches what is missing. Permanent errors stop them all.
	var g errgroup.Group
	var once sync.Once
	var first error
	for range min(r.c.connections, len(todo)) {
		g.Go(func() error {
			buf := make([]byte, readSize)
			for i := range todo {
				if err := r.fetchPart(ctx, i, buf); err != nil {
					once.Do(func() { first = err })
					if permanent(err) || errors.Is(err, errNoRanges) {
						cancel()
					}
					return nil
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	err := first
	if err != nil {
		cancel() // the hasher's work is redone by the next try
	}
	if herr := <-hashed; err == nil {
		err = herr
	}
	return err
}

// hash feeds the verifier with the contiguous written prefix as it grows,
// reading back from the page cache, so hashing overlaps the transfer.
func (r *rangeRun) hash(ctx context.Context) error {
	buf := r.c.getBuf()
	defer r.c.putBuf(buf)
	size := r.j.entry.Size
	var at int64
	for at < size {
		r.mu.Lock()
		end := r.p.prefix()
		r.mu.Unlock()
		if end <= at {
			select {
			case <-r.wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		n := min(end-at, int64(len(*buf)))
		if _, err := r.f.ReadAt((*buf)[:n], at); err != nil {
			return fmt.Errorf("read back %s: %w", r.f.Name(), err)
		}
		r.v.Write((*buf)[:n])
		at += n
	}
	return nil
}

// saveEvery: the sidecar is rewritten after this many bytes (and at the end
// of every try), so a killed process loses little of its parts' progress.
const saveEvery = 32 << 20

// fetchPart GETs the missing bytes of part i and writes them in place.
func (r *rangeRun) fetchPart(ctx context.Context, i int, buf []byte) error {
	e := r.j.entry
	r.mu.Lock()
	lo, hi := r.p.part(i)
	off := lo + r.p.Done[i]
	r.mu.Unlock()
	if off >= hi {
		return nil
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := r.c.stallTimeout
	var stalled atomic.Bool
	dog := time.AfterFunc(d, func() { stalled.Store(true); cancel() })
	defer dog.Stop()
	stallErr := func(err error) error {
		if stalled.Load() {
			return fmt.Errorf("%s: no data for %s: %w", e.Path, d, ErrStalled)
		}
		return redact(err)
	}
	req, err := r.c.newRequest(actx, http.MethodGet, r.u)
	if err != nil {
		return err
	}
	req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(hi-1, 10))
	resp, err := r.c.http.Do(req)
	if err != nil {
		return stallErr(err)
	}
	defer resp.Body.Close()
	if err := checkIdentity(resp, r.repo, e.Path); err != nil {
		return err
	}
	if err := r.c.checkStatus(resp, r.repo, r.j.commit, e.Path); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusPartialContent {
		return fmt.Errorf("%s: HTTP %d to a range request: %w", e.Path, resp.StatusCode, errNoRanges)
	}
	if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != off {
		return fmt.Errorf("%s: server sent range %q for bytes=%d-%d", e.Path, resp.Header.Get("Content-Range"), off, hi-1)
	}
	body := &watchedReader{r: io.LimitReader(resp.Body, hi-off), dog: dog, d: d}
	for off < hi {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := r.f.WriteAt(buf[:n], off); err != nil {
				return &Error{Code: CodeWriteFailed, Repo: r.repo, File: e.Path, Msg: "cannot write " + r.f.Name(), Err: err}
			}
			off += int64(n)
			r.moved.Add(int64(n))
			r.c.progress.Advance(e.Path, int64(n))
			r.mu.Lock()
			r.p.Done[i] = off - lo
			due := r.p.written()-r.lastSave >= saveEvery
			if due {
				r.lastSave = r.p.written()
				_ = writePartial(r.j.dir, e.Path, r.p) // best effort; every try ends with a save
			}
			r.mu.Unlock()
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return stallErr(fmt.Errorf("%s: %w", e.Path, rerr))
		}
	}
	if off != hi {
		return fmt.Errorf("%s: part %d ended at byte %d of %d-%d: %w", e.Path, i, off, lo, hi, ErrSizeMismatch)
	}
	return nil
}
