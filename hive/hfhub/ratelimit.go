package hfhub

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// rateLimited is a 429: the hub says how long to wait (RateLimit `t=` or
// Retry-After); waiting is not a failed try.
type rateLimited struct {
	Wait   time.Duration // 0: the answer named no wait
	Source string        // the header the wait came from
	Msg    string
}

func (e *rateLimited) Error() string {
	s := "HTTP 429 (rate limited)"
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// DefaultRateLimitBudget is how long a download waits for the hub's rate
// limit in total before it gives up (the Hub's windows are 5 minutes).
const DefaultRateLimitBudget = 10 * time.Minute

var rateLimitT = regexp.MustCompile(`(?:^|[;,\s])t=(\d+)`)

// rateLimitedFrom reads the wait of a 429: the IETF RateLimit header the Hub
// sends (`"api";r=0;t=55`), else Retry-After (seconds or an HTTP date), else
// the older RateLimit-Reset.
func rateLimitedFrom(h http.Header, msg string) *rateLimited {
	e := &rateLimited{Msg: msg}
	if m := rateLimitT.FindStringSubmatch(h.Get("RateLimit")); m != nil {
		if s, err := strconv.Atoi(m[1]); err == nil {
			e.Wait, e.Source = time.Duration(s)*time.Second, "RateLimit t="+m[1]
			return e
		}
	}
	if ra := strings.TrimSpace(h.Get("Retry-After")); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.Wait, e.Source = time.Duration(s)*time.Second, "Retry-After "+ra
			return e
		}
		if t, err := http.ParseTime(ra); err == nil {
			e.Wait, e.Source = max(0, time.Until(t)).Round(time.Second), "Retry-After "+ra
			return e
		}
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("RateLimit-Reset"))); err == nil && s >= 0 {
		e.Wait, e.Source = time.Duration(s)*time.Second, "RateLimit-Reset "+strconv.Itoa(s)
	}
	return e
}

// rateLimitGiveUp is the error after the wait budget is spent.
func (c *Client) rateLimitGiveUp(repo, file string, waited time.Duration, last *rateLimited) *Error {
	what := repo
	if file != "" {
		what = file + " of " + repo
	}
	hint := "anonymous downloads have the smallest quota: set HF_TOKEN to a token of your account, or wait a few minutes and run the command again"
	if c.cfg.Token != "" {
		hint = fmt.Sprintf("the quota of the account of the token from %s is spent: wait a few minutes and run the command again (it continues from the bytes on disk), or set HF_TOKEN to a token of an account with a higher quota", c.cfg.TokenFrom)
	}
	return &Error{Code: CodeRateLimited, Repo: repo, File: file, Err: last,
		Msg:  fmt.Sprintf("the hub (%s) rate-limited the download of %s: gave up after waiting %s in total", c.cfg.Endpoint, what, waited.Round(time.Second)),
		Hint: hint}
}
