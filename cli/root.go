// Package cli is the l4case command line. Every command is a thin layer over
// package app; output goes to stdout in table, CSV or JSON-lines form,
// progress and messages to stderr.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks errors in how l4case was called (exit 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// Main runs l4case with args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		fmt.Fprintf(stderr, "l4case: %v\nRun 'l4case --help' for usage.\n", err)
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "l4case: interrupted")
		return exitFailure
	}
	fmt.Fprintf(stderr, "l4case: %v\n", err)
	return exitFailure
}

type env struct {
	stdout, stderr io.Writer
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "l4case",
		Short: "Offline forensic workbench for layer-4 incidents on AWS and OpenShift",
		Long: `l4case imports an incident's evidence (packet captures from the nodes, VPC flow
logs, ELB access logs, OpFlex drop logs, EC2 and oc snapshots) into one DuckDB
file per case, and answers questions about it: SQL, saved views, diagnosis.

With no command it opens the GUI.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.runGUI(cmd.Context(), "")
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		e.newCmd(), e.importCmd(), e.collectCmd(), e.packetsCmd(), e.athenaCmd(), e.evidenceCmd(), e.errorsCmd(), e.queryCmd(),
		e.packCmd(), e.openCmd(), e.verifyCmd(), e.guiCmd(), e.versionCmd(),
		e.genCmd(), e.demoCmd(), e.viewsCmd(), e.viewCmd(), e.exportCmd(), e.diagnoseCmd(), e.traceCmd(), e.findingsCmd(),
	)
	return root
}

// Argument checks that report usage errors (exit 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d: %s", cmd.Name(), n, len(args), cmd.Use)}
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s takes at least %d argument(s): %s", cmd.Name(), n, cmd.Use)}
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageError{fmt.Errorf("%s takes %d to %d argument(s): %s", cmd.Name(), lo, hi, cmd.Use)}
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unknown command %q", args[0])}
	}
	return nil
}
