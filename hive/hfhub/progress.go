package hfhub

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/rbee-go/rbee/internal/bytesize"
)

// Plan is what a download is about to do.
type Plan struct {
	Repo    string
	Commit  string
	Files   []PlanFile
	Total   int64 // bytes of all files
	Present int64 // bytes already on disk (verified files and .incomplete parts)
}

// PlanFile is one file of a Plan.
type PlanFile struct {
	Name    string
	Size    int64
	Skipped bool // already verified
}

// Progress receives download events. Calls come from several goroutines.
type Progress interface {
	Begin(p Plan)
	FileStart(name string, size, offset int64) // also when a file restarts from 0
	Advance(name string, n int64)
	Retry(name string, try, tries int, err error, wait time.Duration)
	Wait(name string, wait time.Duration, why string) // a wait that is not a try (rate limit)
	FileDone(name string, r FileResult, err error)
	End(err error)
}

type nopProgress struct{}

func (nopProgress) Begin(Plan)                                   {}
func (nopProgress) FileStart(string, int64, int64)               {}
func (nopProgress) Advance(string, int64)                        {}
func (nopProgress) Retry(string, int, int, error, time.Duration) {}
func (nopProgress) Wait(string, time.Duration, string)           {}
func (nopProgress) FileDone(string, FileResult, error)           {}
func (nopProgress) End(error)                                    {}

// tally keeps the byte counts both reporters show.
type tally struct {
	mu      sync.Mutex
	plan    Plan
	cur     map[string]int64 // bytes on disk per active file
	done    int64            // bytes of finished and skipped files
	started time.Time
	fetched int64 // bytes transferred in this run
}

func (t *tally) begin(p Plan) {
	t.plan, t.cur, t.started = p, map[string]int64{}, time.Now()
	t.done = 0
	for _, f := range p.Files {
		if f.Skipped {
			t.done += f.Size
		}
	}
}

// onDisk is the sum of verified and partial bytes; caller holds mu.
func (t *tally) onDisk() int64 {
	n := t.done
	for _, v := range t.cur {
		n += v
	}
	return n
}

// Lines prints plain progress lines to w (for logs, pipes and the keeper's
// remote output): events as they happen and a summary every interval.
type Lines struct {
	w        io.Writer
	interval time.Duration
	t        tally
	stop     chan struct{}
	wg       sync.WaitGroup
}

// NewLines reports to w, a summary line every interval (0 = events only).
func NewLines(w io.Writer, interval time.Duration) *Lines { return &Lines{w: w, interval: interval} }

func (l *Lines) printf(format string, a ...any) {
	fmt.Fprintf(l.w, format+"\n", a...) // callers hold l.t.mu, so lines never interleave
}

func (l *Lines) Begin(p Plan) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	l.t.begin(p)
	n := 0
	for _, f := range p.Files {
		if !f.Skipped {
			n++
		}
	}
	l.printf("downloading %s@%s: %d of %d files, %s (%s already here)", p.Repo, short(p.Commit), n, len(p.Files), HumanBytes(p.Total), HumanBytes(p.Present))
	if l.interval > 0 {
		l.stop = make(chan struct{})
		l.wg.Add(1)
		go l.tick()
	}
}

func (l *Lines) tick() {
	defer l.wg.Done()
	tk := time.NewTicker(l.interval)
	defer tk.Stop()
	var last int64
	lastAt := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case now := <-tk.C:
			l.t.mu.Lock()
			disk, total := l.t.onDisk(), l.t.plan.Total
			rate := float64(l.t.fetched-last) / now.Sub(lastAt).Seconds()
			last, lastAt = l.t.fetched, now
			var active []string
			for name := range l.t.cur {
				active = append(active, name)
			}
			sort.Strings(active)
			l.printf("progress: %s / %s (%.0f%%), %s/s, %v", HumanBytes(disk), HumanBytes(total), pct(disk, total), HumanBytes(int64(rate)), active)
			l.t.mu.Unlock()
		}
	}
}

func (l *Lines) FileStart(name string, size, offset int64) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	l.t.cur[name] = offset
	if offset > 0 {
		l.printf("resuming %s at %s of %s", name, HumanBytes(offset), HumanBytes(size))
	} else {
		l.printf("fetching %s (%s)", name, HumanBytes(size))
	}
}

func (l *Lines) Advance(name string, n int64) {
	l.t.mu.Lock()
	l.t.cur[name] += n
	l.t.fetched += n
	l.t.mu.Unlock()
}

func (l *Lines) Retry(name string, try, tries int, err error, wait time.Duration) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	what := name
	if what == "" {
		what = "hub request"
	}
	l.printf("retrying %s in %s (try %d of %d): %v", what, wait.Round(time.Millisecond), try, tries, err)
}

func (l *Lines) Wait(name string, wait time.Duration, why string) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	l.printf("%s: waiting %s before %s (not counted as a try)", why, wait.Round(time.Millisecond), waitWhat(name))
}

func waitWhat(name string) string {
	if name == "" {
		return "the next hub request"
	}
	return "fetching " + name + " again"
}

func (l *Lines) FileDone(name string, r FileResult, err error) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	delete(l.t.cur, name)
	if err == nil {
		l.t.done += r.Size
		l.printf("verified %s (%s, sha256 %s)", name, HumanBytes(r.Size), short(r.SHA256))
	}
}

func (l *Lines) End(err error) {
	if l.stop != nil {
		close(l.stop)
		l.wg.Wait()
		l.stop = nil
	}
}

// Bar draws one aggregate progress bar (github.com/schollz/progressbar) on a
// terminal, with event lines above it.
type Bar struct {
	w   io.Writer
	t   tally
	bar *progressbar.ProgressBar
}

// NewBar draws on w, which should be a terminal.
func NewBar(w io.Writer) *Bar { return &Bar{w: w} }

func (b *Bar) Begin(p Plan) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	b.t.begin(p)
	b.bar = progressbar.NewOptions64(p.Total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(p.Repo),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
	)
	b.bar.Set64(p.Present)
}

func (b *Bar) event(format string, a ...any) {
	if b.bar == nil { // an API retry before the bar exists
		fmt.Fprintf(b.w, format+"\n", a...)
		return
	}
	b.bar.Clear()
	fmt.Fprintf(b.w, format+"\n", a...)
	b.bar.RenderBlank()
}

func (b *Bar) FileStart(name string, size, offset int64) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	_, restart := b.t.cur[name]
	b.t.cur[name] = offset
	if restart || offset > 0 {
		b.bar.Set64(b.t.onDisk())
	}
	if offset > 0 {
		b.event("resuming %s at %s of %s", name, HumanBytes(offset), HumanBytes(size))
	}
}

func (b *Bar) Advance(name string, n int64) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock() // every bar call under one lock: the library's Clear is unlocked
	b.t.cur[name] += n
	b.bar.Add64(n)
}

func (b *Bar) Retry(name string, try, tries int, err error, wait time.Duration) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	b.event("retrying %s in %s (try %d of %d): %v", name, wait.Round(time.Millisecond), try, tries, err)
}

func (b *Bar) Wait(name string, wait time.Duration, why string) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	b.event("%s: waiting %s before %s (not counted as a try)", why, wait.Round(time.Millisecond), waitWhat(name))
}

func (b *Bar) FileDone(name string, r FileResult, err error) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	delete(b.t.cur, name)
	if err == nil {
		b.t.done += r.Size
		b.event("verified %s (%s, sha256 %s)", name, HumanBytes(r.Size), short(r.SHA256))
	}
}

func (b *Bar) End(err error) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	if b.bar == nil {
		return
	}
	if err == nil {
		b.bar.Finish()
	} else {
		b.bar.Exit()
		fmt.Fprintln(b.w)
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func pct(n, total int64) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(n) / float64(total)
}

// HumanBytes formats a byte count with binary units (1.5 GiB).
func HumanBytes(n int64) string { return bytesize.Format(n) }
