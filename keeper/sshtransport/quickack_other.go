//go:build !linux

package sshtransport

import "net"

// quickAck: TCP_QUICKACK is Linux-only; elsewhere the first command of a
// connection may wait for one delayed ACK.
func quickAck(net.Conn) {}
