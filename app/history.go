package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"dev.l4case/l4case/query"
)

// historyName is the SQL console's history in the case folder: the
// engineer's own, so it is not packed into a .l4case.
const (
	historyName = "console_history.json"
	maxHistory  = 100
)

// History is the SQL run in the console, newest first.
func (c *Case) History() []string {
	b, err := os.ReadFile(filepath.Join(c.Dir, historyName))
	if err != nil {
		return nil
	}
	var h []string
	if json.Unmarshal(b, &h) != nil {
		return nil
	}
	return h
}

// AddHistory puts sqlText first in the history (once), keeping the last
// hundred.
func (c *Case) AddHistory(sqlText string) error {
	sqlText = strings.TrimSpace(sqlText)
	if sqlText == "" {
		return nil
	}
	c.mmu.Lock()
	defer c.mmu.Unlock()
	h := []string{sqlText}
	for _, s := range c.History() {
		if s != sqlText && len(h) < maxHistory {
			h = append(h, s)
		}
	}
	b, err := json.MarshalIndent(h, "", " ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.Dir, historyName+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, historyName))
}

// Columns lists the columns of the case's tables and views with their
// descriptions, for the console's tree.
func (c *Case) Columns(ctx context.Context) ([]query.ColumnInfo, error) {
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return query.Columns(ctx, db)
}
