// Command l4case is an offline forensic workbench for layer-4 incidents on
// AWS and OpenShift: a CLI for every job, and a GUI.
package main

import (
	_ "dev.l4case/l4case/internal/earlyenv" // before Fyne initialises: see its doc

	"os"

	"dev.l4case/l4case/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
