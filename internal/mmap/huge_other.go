//go:build !linux

package mmap

import "os"

func preferHuge(*os.File, []byte) {}

// HugeBytes returns how much of b is mapped in 2 MiB pages (unknown: 0).
func HugeBytes([]byte) int64 { return 0 }

// FileTHP reports whether the kernel can map the file at path in 2 MiB
// pages: never known here.
func FileTHP(string) bool { return false }
