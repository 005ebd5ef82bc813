package sshpool

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// netns is a private network namespace joined to the host by a veth pair
// with link-local addresses we assign ourselves: traffic to the pool never
// leaves this machine.
type netns struct {
	name         string
	outer, inner string // 169.254.N.1 (host side), 169.254.N.2 (pool side)
	hostIf, nsIf string
}

// ipPath finds iproute2's ip; /usr/sbin is not on every user's PATH.
func ipPath() (string, error) {
	if p, err := exec.LookPath("ip"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("ip not found: install iproute2 (make deps)")
}

func ipCmd(ctx context.Context, args ...string) error {
	ip, err := ipPath()
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// NetnsAvailable reports whether this machine lets us create a network
// namespace (root and iproute2), with the reason when it does not.
func NetnsAvailable(ctx context.Context) error {
	if _, err := ipPath(); err != nil {
		return err
	}
	n, err := newNetns(ctx)
	if err != nil {
		return err
	}
	n.remove()
	return nil
}

// netnsLock serialises subnet choice and setup across test processes
// running at once (go test runs packages in parallel).
const netnsLock = "/tmp/rbee-sshpool-netns.lock"

func newNetns(ctx context.Context) (*netns, error) {
	lf, err := os.OpenFile(netnsLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	defer func() { _ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) }()
	ip, err := ipPath()
	if err != nil {
		return nil, err
	}
	inUse, err := exec.CommandContext(ctx, ip, "-4", "-o", "addr", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("sshpool: listing addresses: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	r := binary.BigEndian.Uint32(b[:])
	id := fmt.Sprintf("%06x", r&0xffffff)
	// 169.254.100-249.x: away from common link-local use; skip subnets
	// another pool (of this or a parallel test process) already has
	sub := -1
	for i := range 150 {
		c := 100 + (int(r>>24)+i)%150
		if !strings.Contains(string(inUse), fmt.Sprintf(" 169.254.%d.", c)) {
			sub = c
			break
		}
	}
	if sub < 0 {
		return nil, fmt.Errorf("sshpool: no free 169.254.x.0/30 subnet for a network namespace")
	}
	n := &netns{name: "rbee-" + id, hostIf: "rbh" + id, nsIf: "rbn" + id,
		outer: fmt.Sprintf("169.254.%d.1", sub), inner: fmt.Sprintf("169.254.%d.2", sub)}
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf},
		{"link", "set", n.nsIf, "netns", n.name},
		{"addr", "add", n.outer + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.inner + "/30", "dev", n.nsIf},
		{"-n", n.name, "link", "set", n.nsIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(ctx, s...); err != nil {
			n.remove()
			return nil, fmt.Errorf("sshpool: network namespace: %w", err)
		}
	}
	return n, nil
}

// cut makes the pool unreachable without an error: its link goes down and
// a blackhole route silently drops what is sent to it, so connections
// stall as with a pulled cable (and nothing can leak to another network).
func (n *netns) cut(ctx context.Context) error {
	if err := ipCmd(ctx, "route", "add", "blackhole", n.inner+"/32"); err != nil {
		return err
	}
	return ipCmd(ctx, "-n", n.name, "link", "set", n.nsIf, "down")
}

func (n *netns) restore(ctx context.Context) error {
	if err := ipCmd(ctx, "-n", n.name, "link", "set", n.nsIf, "up"); err != nil {
		return err
	}
	return ipCmd(ctx, "route", "del", "blackhole", n.inner+"/32")
}

func (n *netns) remove() {
	if n == nil {
		return
	}
	ctx := context.Background()
	_ = ipCmd(ctx, "route", "del", "blackhole", n.inner+"/32")
	_ = ipCmd(ctx, "link", "del", n.hostIf) // removes the peer too
	_ = ipCmd(ctx, "netns", "del", n.name)
}

// Cut cuts a namespaced pool off the network mid-command.
func (p *Pool) Cut(ctx context.Context) error {
	if p.ns == nil {
		return fmt.Errorf("sshpool: pool %s has no network namespace", p.Name)
	}
	return p.ns.cut(ctx)
}

// Restore reconnects a pool after Cut.
func (p *Pool) Restore(ctx context.Context) error {
	if p.ns == nil {
		return fmt.Errorf("sshpool: pool %s has no network namespace", p.Name)
	}
	return p.ns.restore(ctx)
}
