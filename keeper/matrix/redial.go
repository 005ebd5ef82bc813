package matrix

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rbee-go/rbee/hive/workers"
)

// DefaultRedialLimit is how long a pool whose SSH connection dropped is
// redialled before its remaining cells fail (Config.RedialLimit 0).
const DefaultRedialLimit = 3 * time.Minute

// runCell is RunCell that survives the pool's connection dropping: when it
// dropped during the cell, the pool is awaited (redialled with backoff up to
// the redial limit), the worker the cell had started is stopped, and the
// cell runs once more. A pool that stays away fails the cell (and, at once,
// every later one) with "pool unreachable since T".
func (p *Pool) runCell(ctx context.Context, backend string, m Model, timeout time.Duration) Cell {
	if p.dialer == nil || p.dialer.RedialLimit <= 0 {
		return p.RunCell(ctx, backend, m, timeout)
	}
	before := p.dialer.Outage(p.host).Redials
	c := p.RunCell(ctx, backend, m, timeout)
	o := p.dialer.Outage(p.host)
	c.Redials = o.Redials - before
	if c.Status != Fail || (!o.Down && c.Redials == 0) || ctx.Err() != nil {
		return c
	}
	first := c.Reason
	if err := p.await(ctx); err != nil {
		c.Reason = fmt.Sprintf("%s (the cell had failed at %s)", firstLine(err.Error()), first)
		return c
	}
	returned := p.dialer.Outage(p.host).ReturnedAt
	if err := p.stopWorker(ctx, c.leftWorker); err != nil {
		c.Reason = fmt.Sprintf("%s; after the redial its worker could not be stopped: %v", first, err)
		return c
	}
	start := time.Now()
	again := p.RunCell(ctx, backend, m, timeout)
	again.Retried = true
	again.Redials = p.dialer.Outage(p.host).Redials - before
	again.ReturnToCellMs, again.RetriedAt = start.Sub(returned).Milliseconds(), start.UTC()
	if again.Status == Fail {
		again.Reason = fmt.Sprintf("%s (retried after an SSH redial; the first try failed at %s)", again.Reason, first)
	}
	return again
}

// await waits for the pool's connection: any command redials it, for up
// to the redial limit since it dropped.
func (p *Pool) await(ctx context.Context) error {
	k, host := p.Keeper()
	_, err := k.Status(ctx, host)
	return err
}

// stopWorker stops the worker a cell left behind when its connection
// dropped; one that is gone already is fine.
func (p *Pool) stopWorker(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	k, host := p.Keeper()
	var res workers.StopResult
	err := k.RunJSON(ctx, host, []string{"worker", "stop", id}, &res)
	if err != nil && strings.Contains(err.Error(), "no worker") {
		return nil
	}
	return err
}
