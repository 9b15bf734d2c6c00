//go:build !linux && !darwin

package app

import "io/fs"

// changeTime is 0 where l4case does not read it: every check hashes.
func changeTime(fs.FileInfo) int64 { return 0 }
