package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ManifestFormat marks a manifest as l4case's.
const ManifestFormat = "l4case-case/1"

// Manifest describes a case: who it is, what schema its database has, and
// every evidence file with its hash. It is the chain of custody: packing,
// opening and verifying all check files against it.
type Manifest struct {
	Format        string     `json:"format"`
	Name          string     `json:"name"`
	Created       time.Time  `json:"created"`
	Modified      time.Time  `json:"modified"`
	ToolVersion   string     `json:"tool_version"`
	SchemaVersion int        `json:"schema_version"`
	Database      *FileHash  `json:"database,omitempty"` // set when packed: the database as sent
	Evidence      []Evidence `json:"evidence"`
}

// FileHash is a file's size and SHA-256.
type FileHash struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Evidence is one imported file.
type Evidence struct {
	ID          int       `json:"id"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`   // as given to import
	Stored      string    `json:"stored"` // copy inside the case, slash-separated, relative
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	SourceMtime time.Time `json:"source_mtime"`
	ImportedAt  time.Time `json:"imported_at"`
	Rows        int64     `json:"rows"`
	Rejected    int64     `json:"rejected"`
	Format      string    `json:"format,omitempty"`
	Node        string    `json:"node,omitempty"`
	Notes       []string  `json:"notes,omitempty"`
	// Omitted is set when the case was packed with --no-evidence: the
	// database holds the rows but the file itself was not sent.
	Omitted bool `json:"omitted,omitempty"`
}

const manifestName = "manifest.json"

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not an l4case case: no %s (create one with: l4case new %s)", dir, manifestName, dir)
	}
	if err != nil {
		return nil, err
	}
	return parseManifest(b, filepath.Join(dir, manifestName))
}

func parseManifest(b []byte, name string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: format %q is not %q", name, m.Format, ManifestFormat)
	}
	return &m, nil
}

// writeManifest replaces dir/manifest.json atomically: a crash leaves the
// old one or the new one, never half of either.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	tmp, err := os.CreateTemp(dir, ".manifest-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, manifestName))
}

func (m *Manifest) bySHA(sum string) *Evidence {
	for i := range m.Evidence {
		if m.Evidence[i].SHA256 == sum {
			return &m.Evidence[i]
		}
	}
	return nil
}

func (m *Manifest) nextID() int {
	id := 0
	for _, e := range m.Evidence {
		id = max(id, e.ID)
	}
	return id + 1
}
