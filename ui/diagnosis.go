package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
)

// verdictText says in words what each verdict of the diagnosis means.
var verdictText = map[string]string{
	"sg_inbound":              "a security group refused it inbound",
	"sg_outbound":             "a security group refused it outbound",
	"nacl_inbound":            "a network ACL denied it inbound",
	"nacl_outbound":           "a network ACL denied it outbound",
	"sg_or_nacl_inbound":      "refused inbound; no snapshot to tell which",
	"sg_or_nacl_outbound":     "refused outbound; no snapshot to tell which",
	"blocked_at_peer":         "the other end's interface refused it",
	"not_listening":           "let through, and nothing answered",
	"vpc_block_public_access": "VPC Block Public Access refused it",
	"unexplained":             "refused, but the snapshot's rules allow it",
}

// diagnosisScreen sums up the verdicts of nacl_sg_diagnosis, one per
// connection, and lists the connections of the verdict picked, each with
// its reasoning, the rule it names and its flow-log records.
type diagnosisScreen struct {
	g        *gui
	verdicts []app.VerdictCount
	list     *widget.List
	head     *widget.Label
	results  *results
	content  fyne.CanvasObject
	loaded   func() // tests wait on it
}

func newDiagnosisScreen(g *gui) *diagnosisScreen {
	s := &diagnosisScreen{g: g}
	s.head = widget.NewLabel("Reading the diagnosis…")
	s.head.Wrapping = fyne.TextWrapWord
	s.list = widget.NewList(
		func() int { return len(s.verdicts) },
		func() fyne.CanvasObject {
			return container.NewVBox(widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			v := s.verdicts[i]
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Label).SetText(fmt.Sprintf("%s  ·  %d", v.Verdict, v.Count))
			l := box.Objects[1].(*widget.Label)
			l.Truncation = fyne.TextTruncateEllipsis
			l.SetText(verdictText[v.Verdict] + " — e.g. " + v.Example)
		})
	s.list.OnSelected = func(i widget.ListItemID) { s.pick(s.verdicts[i].Verdict) }
	s.results = newResults(g, "diagnosis")
	split := container.NewHSplit(s.list, s.results.content)
	split.Offset = 0.3
	s.content = container.NewBorder(s.head, nil, nil, nil, split)
	s.load()
	return s
}

// load reads the summary off the UI goroutine.
func (s *diagnosisScreen) load() {
	c := s.g.c
	s.g.background(func() {
		d, err := c.DiagnosisSummary(context.Background(), nil)
		s.g.do(func() {
			switch {
			case err != nil:
				s.head.SetText("The diagnosis could not be read: " + err.Error())
			case len(d.Verdicts) == 0:
				s.head.SetText("No rejected or unanswered connection in the flow logs of this case.")
			default:
				n := int64(0)
				for _, v := range d.Verdicts {
					n += v.Count
				}
				text := fmt.Sprintf("%d rejected or unanswered connections, one verdict each, however many interfaces logged them. Pick a verdict for its connections; Trace this follows one.", n)
				if d.SnapshotAfter {
					text += "\nThe EC2 snapshots were taken after the incident: the rules they name may not be the rules at the time."
				}
				s.head.SetText(text)
				s.verdicts = d.Verdicts
			}
			s.list.Refresh()
			if len(s.verdicts) > 0 {
				s.list.Select(0) // the commonest verdict's connections, to start with
			}
			if s.loaded != nil {
				s.loaded()
			}
		})
	})
}

// pick lists the connections of one verdict.
func (s *diagnosisScreen) pick(verdict string) {
	c := s.g.c
	s.results.source = "diagnosis, verdict " + verdict
	sqlText, err := c.ViewSQL("nacl_sg_diagnosis", map[string]string{"verdict": verdict})
	if err != nil {
		s.head.SetText(err.Error())
		return
	}
	s.results.runSQL(sqlText)
}
