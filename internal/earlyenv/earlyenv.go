// Package earlyenv fixes the process environment before any other package
// initialises.
//
// Fyne looks up the user's language while its lang package initialises and,
// under LANG=C.UTF-8 (the default of Debian and Ubuntu containers), logs
// three lines of "Error parsing user locale C" to stderr on every run of
// every command, because github.com/jeandeaual/go-locale treats only a bare
// "C" as the C locale. C.UTF-8 means no translation, so we say so the way
// go-locale understands: LANGUAGE=en for this process.
//
// Go initialises, among the packages whose imports are ready, the one with
// the smallest import path first (Go spec, "Package initialization"). This
// package imports only os and the module path starts with "dev.", which
// sorts before "fyne.io": so it runs before Fyne's. main imports it first.
package earlyenv

import "os"

func init() {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		l := os.Getenv(v)
		if l == "" {
			continue
		}
		if (len(l) > 2 && l[:2] == "C.") || (len(l) > 6 && l[:6] == "POSIX.") {
			if os.Getenv("LANGUAGE") == "" {
				os.Setenv("LANGUAGE", "en")
			}
		}
		return
	}
}
