package app

import (
	"context"
	"runtime"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/registry"
	"dev.l4case/l4case/query"
)

// Kinds lists the kinds of evidence import knows, for --kind.
func Kinds() []string { return registry.Kinds() }

// Views lists the saved views.
func Views() []query.View { return query.Views() }

// LookupView finds a saved view by name.
func LookupView(name string) (query.View, error) { return query.LookupView(name) }

// IngestErrorsSQL lists the first limit records import rejected, in file order.
func IngestErrorsSQL(limit int) string { return query.IngestErrorsSQL(limit) }

// RejectedSQL lists the records import rejected from one evidence file.
func RejectedSQL(evidenceID int) string { return query.RejectedSQL(evidenceID) }

// Versions are the versions of what l4case is made of.
type Versions struct {
	L4case     string
	Schema     int
	DuckDB     string
	Go         string
	InsertPath string // how importers hand rows to DuckDB: arrow or appender
}

// VersionInfo reports the versions; DuckDB's is "?" when it cannot be asked.
func VersionInfo(ctx context.Context) Versions {
	v := Versions{L4case: Version, Schema: query.CurrentVersion, DuckDB: "?", Go: runtime.Version(), InsertPath: ingest.InsertPath}
	if d, err := query.DuckDBVersion(ctx); err == nil {
		v.DuckDB = d
	}
	return v
}
