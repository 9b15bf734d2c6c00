//go:build darwin

package app

import (
	"io/fs"
	"syscall"
)

// changeTime is a file's status change time in nanoseconds: any write,
// and any chmod, moves it, and no one can set it back.
func changeTime(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ctimespec.Nano()
	}
	return 0
}
