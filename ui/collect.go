package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
)

// collectForm is the "Collect from AWS" dialog's fields: the CLI's
// options (l4case collect), as a form.
type collectForm struct {
	since, until, flows, elbs, vpc, account, region, profile, endpoint *widget.Entry
	ec2                                                                *widget.Check
}

func newCollectForm() *collectForm {
	entry := func(place string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(place)
		return e
	}
	return &collectForm{
		since:    entry("2021-04-05 06:30 (UTC, or RFC 3339)"),
		until:    entry("2021-04-05 07:00"),
		flows:    entry("s3://BUCKET/PREFIX or cwl://LOG-GROUP (several: space-separated)"),
		elbs:     entry("s3://BUCKET/PREFIX"),
		vpc:      entry("vpc-… (all when empty)"),
		account:  entry("when a prefix holds several accounts"),
		region:   entry("default: AWS_REGION or the profile's"),
		profile:  entry("default: AWS_PROFILE"),
		endpoint: entry("an S3-compatible server (MinIO): path-style"),
		ec2:      widget.NewCheck("security groups, network ACLs, ENIs, subnets, flow logs", nil),
	}
}

func (f *collectForm) items() []*widget.FormItem {
	item := func(label string, w fyne.CanvasObject, hint string) *widget.FormItem {
		it := widget.NewFormItem(label, w)
		it.HintText = hint
		return it
	}
	return []*widget.FormItem{
		item("Since", f.since, "the incident's window"),
		item("Until", f.until, "objects up to 30 minutes after it are fetched too (delivery delay)"),
		item("Flow logs", f.flows, ""),
		item("ELB logs", f.elbs, ""),
		item("EC2 snapshot", f.ec2, ""),
		item("VPC", f.vpc, ""),
		item("Account", f.account, ""),
		item("Region", f.region, ""),
		item("Profile", f.profile, "credentials come from the standard AWS chain and are never stored in the case"),
		item("Endpoint URL", f.endpoint, ""),
	}
}

// options reads the form as the CLI reads its flags.
func (f *collectForm) options() (app.CollectOptions, error) {
	var o app.CollectOptions
	var err error
	if o.Since, err = app.ParseTime(f.since.Text); err != nil {
		return o, fmt.Errorf("Since: %w", err)
	}
	if o.Until, err = app.ParseTime(f.until.Text); err != nil {
		return o, fmt.Errorf("Until: %w", err)
	}
	o.FlowLogs, o.ELBLogs = strings.Fields(f.flows.Text), strings.Fields(f.elbs.Text)
	o.EC2Snapshot, o.VPC = f.ec2.Checked, strings.TrimSpace(f.vpc.Text)
	o.Accounts = strings.Fields(f.account.Text)
	o.Region, o.Profile, o.EndpointURL = strings.TrimSpace(f.region.Text), strings.TrimSpace(f.profile.Text), strings.TrimSpace(f.endpoint.Text)
	if len(o.FlowLogs)+len(o.ELBLogs) == 0 && !o.EC2Snapshot {
		return o, errors.New("nothing to collect: give flow logs, ELB logs or the EC2 snapshot")
	}
	return o, nil
}

// showCollect opens the dialog; Collect starts the collection.
func (s *evidenceScreen) showCollect() {
	f := s.collectForm
	d := dialog.NewForm("Collect from AWS", "Collect", "Close", f.items(), func(ok bool) {
		if !ok {
			return
		}
		o, err := f.options()
		if err != nil {
			dialog.ShowError(err, s.g.w)
			return
		}
		s.collect(o)
	}, s.g.w)
	d.Resize(fyne.NewSize(720, 560))
	d.Show()
}

// collect fetches and imports off the UI goroutine, with the screen's
// progress bar and Cancel.
func (s *evidenceScreen) collect(o app.CollectOptions) {
	ctx, rep := s.begin()
	s.status.SetText("Collecting from AWS…")
	s.g.background(func() {
		report, err := s.g.c.Collect(ctx, o, rep)
		s.g.do(func() {
			s.end()
			var msg string
			if report != nil && report.Collected != nil {
				r := report.Collected
				msg = fmt.Sprintf("Collected: %d fetched (%s bytes), %d already in the case", r.Downloaded, app.CountText(r.Bytes), r.AlreadyInCase)
			}
			if report != nil && report.Import != nil {
				imported, skipped, failed := report.Import.Counts()
				msg += fmt.Sprintf("; %d imported, %d skipped, %d failed", imported, skipped, failed)
			}
			switch {
			case errors.Is(err, context.Canceled):
				s.status.SetText(strings.TrimPrefix(msg+" (cancelled: what was fetched whole is kept; Collect again goes on)", "; "))
			case err != nil:
				s.status.SetText(msg)
				dialog.ShowError(err, s.g.w)
			default:
				s.status.SetText(msg)
			}
		})
	})
}
