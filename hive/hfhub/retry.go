package hfhub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// retry runs op until it succeeds, fails permanently or tries run out, with
// exponential backoff. op returns how much further than ever before in this
// run the file got: only a try that advances the file by progressReset gives
// the tries back, so a server that always breaks at the same byte ends. A rate
// limit (429) is waited for as announced and is not a try, up to the wait
// budget; an expired presigned CDN URL is fetched again through the hub.
func (c *Client) retry(ctx context.Context, repo, file string, op func(context.Context) (int64, error)) error {
	var last error
	var waited time.Duration
	expired := 0
	for attempt, spent := 1, 0; ; attempt++ {
		gain, err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if permanent(err) {
			return err
		}
		var rl *rateLimited
		if errors.As(err, &rl) {
			wait := rl.Wait
			why := "rate limited by the hub (HTTP 429, " + rl.Source + ")"
			if wait <= 0 {
				wait, why = c.backoff(max(1, spent)), "rate limited by the hub (HTTP 429, no wait announced)"
			}
			if waited+wait > c.rateBudget {
				return c.rateLimitGiveUp(repo, file, waited, rl)
			}
			waited += wait
			c.log.Debug("hub rate limit", "repo", repo, "file", file, "wait", wait)
			c.progress.Wait(file, wait, why)
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		var ce *cdnExpired
		if errors.As(err, &ce) {
			if expired++; expired > maxExpiredURLs {
				return c.cdnError(repo, file, &ce.statusError)
			}
		}
		last = err
		spent++
		if gain >= progressReset && !errors.Is(err, ErrChecksumMismatch) {
			spent = 1
		}
		if spent >= c.tries {
			what := repo
			if file != "" {
				what = file + " of " + repo
			}
			return &Error{Code: CodeUnavailable, Repo: repo, File: file, Err: last,
				Msg:  fmt.Sprintf("downloading %s from %s failed after %d tries", what, c.cfg.Endpoint, spent),
				Hint: "run the same command again: it continues from the bytes already on disk"}
		}
		delay := c.backoff(spent)
		if ce != nil {
			delay = 0 // the hub signs a fresh URL at once: waiting would not help
		}
		c.log.Debug("hub retry", "repo", repo, "file", file, "attempt", attempt, "in", delay, "err", err)
		c.progress.Retry(file, spent+1, c.tries, err, delay)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// maxExpiredURLs: presigned CDN URLs fetched fresh after a 403 before the
// CDN's refusal is reported.
const maxExpiredURLs = 3

// backoff is the delay before try spent+1: doubling, capped, with jitter so
// pools retrying together spread out.
func (c *Client) backoff(spent int) time.Duration {
	delay := c.baseDelay << (spent - 1)
	if delay > c.maxDelay || delay <= 0 {
		delay = c.maxDelay
	}
	return delay + time.Duration(rand.Int64N(int64(delay)/4+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
