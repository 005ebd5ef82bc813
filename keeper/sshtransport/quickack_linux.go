package sshtransport

import (
	"net"
	"syscall"
)

// quickAck sends the pending ACK at once instead of after the delayed-ACK
// timeout. sshd keeps Nagle's algorithm on until its first session starts,
// and right after authentication it sends an unsolicited global request:
// until we acknowledge that packet the kernel holds back sshd's channel
// confirmation, so the first command of every connection would wait one
// delayed ACK (40 ms on Linux).
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
