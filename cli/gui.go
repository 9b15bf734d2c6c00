package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/ui"
	"github.com/spf13/cobra"
)

func (e *env) guiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "gui [CASE_DIR|FILE.l4case]",
		Short: "Open the GUI, on a case folder or a .l4case file",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			return e.runGUI(cmd.Context(), target)
		},
	}
}

func (e *env) runGUI(ctx context.Context, target string) error {
	if why := displayProblem(); why != "" {
		return fmt.Errorf("cannot open the GUI: %s. Use the command line instead: 'l4case --help' (e.g. 'l4case demo --headless', 'l4case evidence CASE_DIR', 'l4case query CASE_DIR \"SQL\"')", why)
	}
	var c *app.Case
	var err error
	switch {
	case target == "":
	case app.IsCaseDir(target):
		c, err = app.Open(ctx, target)
	case app.IsPackFile(target):
		fmt.Fprintf(e.stderr, "verifying %s...\n", target)
		c, err = app.OpenPackCached(ctx, target)
	default:
		err = fmt.Errorf("%s is neither a case folder nor a .l4case file", target)
	}
	if err != nil {
		return err
	}
	a := ui.NewApp()
	w := a.NewWindow("l4case")
	ui.Create(a, w, c)
	w.ShowAndRun()
	if c != nil {
		c.Close()
	}
	return nil
}

// displayProblem says why a window cannot open here, or "" when it can.
// Fyne on Linux draws through X11 (GLFW); without a reachable X server it
// would die in C with a stack trace, so check first.
func displayProblem() string {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return ""
	}
	d := os.Getenv("DISPLAY")
	if d == "" {
		return "no display (DISPLAY is not set)"
	}
	host, rest, ok := strings.Cut(d, ":")
	if !ok {
		return fmt.Sprintf("DISPLAY=%q is not host:display", d)
	}
	numStr, _, _ := strings.Cut(rest, ".")
	num, err := strconv.Atoi(numStr)
	if err != nil {
		return fmt.Sprintf("DISPLAY=%q is not host:display", d)
	}
	var conn net.Conn
	if host == "" || host == "unix" {
		conn, err = net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", num), time.Second)
	} else {
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(6000+num)), time.Second)
	}
	if err != nil {
		return fmt.Sprintf("the X server of DISPLAY=%s cannot be reached", d)
	}
	conn.Close()
	return ""
}
