package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/ui"
	"github.com/spf13/cobra"
)

func (e *env) guiCmd() *cobra.Command {
	var requestID, client, screen, shot, size string
	c := &cobra.Command{
		Use:   "gui [CASE_DIR|FILE.l4case] [--trace REQUEST-ID | --client IP:PORT] [--screen NAME] [--screenshot FILE]",
		Short: "Open the GUI, on a case folder or a .l4case file",
		Long: `gui opens the workbench. With a case it can open straight on a screen
(--screen evidence|timeline|views|sql) or on the timeline of one request
(--trace REQUEST-ID or --client IP:PORT). With --screenshot FILE it writes a
PNG of the window once that screen has its content, and exits: what the
README's screenshots and the real-window test use.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			var start ui.Start
			if screen != "" && !slices.Contains(ui.Screens, screen) {
				return usageError{fmt.Errorf("--screen %q: want one of %s", screen, strings.Join(ui.Screens, ", "))}
			}
			start.Screen = screen
			if err := ui.CheckSize(size); err != nil {
				return usageError{fmt.Errorf("--size: %w", err)}
			}
			start.Size = size
			switch {
			case requestID != "" && client != "":
				return usageError{fmt.Errorf("give --trace or --client, not both")}
			case requestID != "":
				start.Trace = &app.TraceKey{RequestID: requestID}
			case client != "":
				start.Trace = &app.TraceKey{Client: client}
			}
			if (start.Trace != nil || screen != "" || shot != "") && target == "" {
				return usageError{fmt.Errorf("--trace, --client, --screen and --screenshot need a case")}
			}
			return e.runGUIAt(cmd.Context(), target, start, shot)
		},
	}
	f := c.Flags()
	f.StringVar(&requestID, "trace", "", "open on the timeline of the request with this request-id")
	f.StringVar(&client, "client", "", "open on the timeline of the request of this client IP:PORT")
	f.StringVar(&screen, "screen", "", "open on this screen: "+strings.Join(ui.Screens, ", "))
	f.StringVar(&shot, "screenshot", "", "write a PNG of the window once the screen is drawn, then exit")
	f.StringVar(&size, "size", "", "the window's size: WIDTHxHEIGHT, or screen for most of the screen (default: as last closed; a screenshot 1280x800)")
	return c
}

func (e *env) runGUI(ctx context.Context, target string) error {
	return e.runGUIAt(ctx, target, ui.Start{}, "")
}

func (e *env) runGUIAt(ctx context.Context, target string, start ui.Start, shot string) error {
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
	var shotErr error
	if shot != "" {
		start.Screenshot = shot
		start.OnScreenshot = func(err error) { shotErr = err }
	}
	ui.CreateAt(a, w, c, start)
	w.ShowAndRun()
	if c != nil {
		c.Close()
	}
	if shot != "" && shotErr == nil {
		fmt.Fprintf(e.stderr, "wrote %s\n", shot)
	}
	return shotErr
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
