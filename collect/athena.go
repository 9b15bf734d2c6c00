package collect

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"dev.l4case/l4case/ingest/athenares"
)

// AthenaQuery is a query to run on Athena.
type AthenaQuery struct {
	SQL       string
	Database  string
	Workgroup string
	Output    string        // s3:// where Athena writes results; empty: the workgroup's
	Poll      time.Duration // between GetQueryExecution calls (default 1 s)
}

// AthenaStatus is a running query's state, for progress.
type AthenaStatus struct {
	QueryID      string
	State        string
	ScannedBytes int64
	Elapsed      time.Duration
}

// RunAthena runs the query (ExecAthena) and writes its result, page by
// page, into dir as a file l4case imports as evidence of kind
// athena_result (the query's id and SQL in its first line).
func RunAthena(ctx context.Context, c *athena.Client, q AthenaQuery, dir string, status func(AthenaStatus)) (string, athenares.Meta, error) {
	meta, err := ExecAthena(ctx, c, q, status)
	if err != nil {
		return "", meta, err
	}
	path, err := writeResult(ctx, c, meta.QueryID, meta, dir)
	return path, meta, err
}

// ExecAthena starts the query and polls it until it ends. A cancel stops
// the query on Athena too; a failed query is an error with Athena's reason.
func ExecAthena(ctx context.Context, c *athena.Client, q AthenaQuery, status func(AthenaStatus)) (meta athenares.Meta, err error) {
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(q.SQL)}
	if q.Database != "" {
		in.QueryExecutionContext = &types.QueryExecutionContext{Database: aws.String(q.Database)}
	}
	if q.Workgroup != "" {
		in.WorkGroup = aws.String(q.Workgroup)
	}
	if q.Output != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(q.Output)}
	}
	start := time.Now()
	out, err := c.StartQueryExecution(ctx, in)
	if err != nil {
		return meta, explain(err, "athena:StartQueryExecution", "workgroup "+aws.ToString(in.WorkGroup))
	}
	id := aws.ToString(out.QueryExecutionId)
	meta = athenares.Meta{QueryID: id, SQL: q.SQL, Database: q.Database, Workgroup: q.Workgroup}
	poll := q.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		ex, err := c.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			if ctx.Err() != nil {
				stopAthena(c, id)
				return meta, ctx.Err()
			}
			return meta, explain(err, "athena:GetQueryExecution", id)
		}
		qe := ex.QueryExecution
		st := qe.Status
		meta.State = string(st.State)
		if qe.Statistics != nil {
			meta.ScannedBytes = aws.ToInt64(qe.Statistics.DataScannedInBytes)
		}
		if status != nil {
			status(AthenaStatus{QueryID: id, State: meta.State, ScannedBytes: meta.ScannedBytes, Elapsed: time.Since(start)})
		}
		switch st.State {
		case types.QueryExecutionStateSucceeded:
			meta.Submitted, meta.Completed = timeText(st.SubmissionDateTime), timeText(st.CompletionDateTime)
			return meta, nil
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return meta, fmt.Errorf("Athena query %s %s: %s", id, st.State, aws.ToString(st.StateChangeReason))
		}
		select {
		case <-ctx.Done():
			stopAthena(c, id)
			return meta, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// stopAthena stops a query the user cancelled, best effort: its own
// context is gone.
func stopAthena(c *athena.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.StopQueryExecution(ctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)})
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// writeResult pages through the result: the description line, the header
// (Athena's first row of a SELECT repeats the column names: it is the
// header once), the rows.
func writeResult(ctx context.Context, c *athena.Client, id string, meta athenares.Meta, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "athena-"+id+".csv")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	desc, _ := json.Marshal(meta)
	bw.WriteString(athenares.Marker + string(desc) + "\n")
	cw := csv.NewWriter(bw)
	p := athena.NewGetQueryResultsPaginator(c, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id)})
	var header []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", explain(err, "athena:GetQueryResults", id)
		}
		rows := page.ResultSet.Rows
		if header == nil {
			if page.ResultSet.ResultSetMetadata == nil {
				return "", errors.New("athena: a result without column names")
			}
			for _, ci := range page.ResultSet.ResultSetMetadata.ColumnInfo {
				header = append(header, aws.ToString(ci.Name))
			}
			cw.Write(header)
			if len(rows) > 0 && sameRow(rows[0], header) {
				rows = rows[1:]
			}
		}
		for _, r := range rows {
			rec := make([]string, len(r.Data))
			for i, d := range r.Data {
				rec[i] = aws.ToString(d.VarCharValue)
			}
			cw.Write(rec)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return "", err
	}
	if err := bw.Flush(); err != nil {
		return "", err
	}
	return path, f.Close()
}

func sameRow(r types.Row, names []string) bool {
	if len(r.Data) != len(names) {
		return false
	}
	for i, d := range r.Data {
		if aws.ToString(d.VarCharValue) != names[i] {
			return false
		}
	}
	return true
}
