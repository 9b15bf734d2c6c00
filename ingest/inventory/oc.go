package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"dev.l4case/l4case/ingest"
)

// OC reads `oc get pods [-A] -o wide`, `oc get nodes -o wide` (kubectl's
// column layout) and `oc get pods -o json`.
type OC struct{}

// Kind is "oc".
func (OC) Kind() string { return "oc" }

var (
	podCols  = []string{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"}
	nodeCols = []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"}
	multiSp  = regexp.MustCompile(`\s{2,}`)
)

// Detect accepts a pods or nodes listing or a pods JSON list.
func (OC) Detect(name string, head []byte) error {
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("{")) {
		if bytes.Contains(head, []byte(`"kind": "List"`)) || bytes.Contains(head, []byte(`"kind":"List"`)) || bytes.Contains(head, []byte(`"kind": "PodList"`)) {
			if bytes.Contains(head, []byte(`"kind": "Pod"`)) || bytes.Contains(head, []byte(`"kind":"Pod"`)) {
				return nil
			}
		}
		return errors.New("JSON, but not an oc/kubectl list of pods")
	}
	line, _, _ := bytes.Cut(trimmed, []byte("\n"))
	if _, _, err := header(string(line)); err != nil {
		return err
	}
	return nil
}

// header recognises a listing's header and returns its table and the start
// offset of each column.
func header(line string) (string, []int, error) {
	line = strings.TrimRight(line, "\r")
	var want []string
	switch {
	case strings.HasPrefix(line, "NAMESPACE") || (strings.HasPrefix(line, "NAME ") && strings.Contains(line, "READY") && strings.Contains(line, "RESTARTS")):
		want = podCols
	case strings.HasPrefix(line, "NAME ") && strings.Contains(line, "ROLES") && strings.Contains(line, "INTERNAL-IP"):
		want = nodeCols
	default:
		return "", nil, fmt.Errorf("line 1 is not the header of oc get pods or oc get nodes")
	}
	var offs []int
	found := 0
	for _, c := range want {
		i := colIndex(line, c)
		if i < 0 {
			if c == "NAMESPACE" {
				offs = append(offs, -1) // oc get pods without -A
				continue
			}
			if c == "NOMINATED NODE" || c == "READINESS GATES" || c == "IP" || c == "NODE" || c == "EXTERNAL-IP" || c == "OS-IMAGE" || c == "KERNEL-VERSION" || c == "CONTAINER-RUNTIME" || c == "INTERNAL-IP" {
				offs = append(offs, -1) // without -o wide
				continue
			}
			return "", nil, fmt.Errorf("header has no %s column", c)
		}
		offs = append(offs, i)
		found++
	}
	table := "pods"
	if want[0] == "NAME" {
		table = "nodes"
	}
	return table, offs, nil
}

// colIndex finds a column title as a whole word ("NAME" is not in "NAMESPACE").
func colIndex(line, title string) int {
	for from := 0; from < len(line); {
		i := strings.Index(line[from:], title)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(title)
		if (i == 0 || line[i-1] == ' ') && (end == len(line) || line[end] == ' ') {
			return i
		}
		from = i + 1
	}
	return -1
}

// Import reads one listing.
func (OC) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	lr := ingest.NewLineReader(rc)
	var table string
	var offs []int
	var t *ingest.Table
	var n int
	for {
		b, ln, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		line := strings.TrimRight(string(b), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if t == nil {
			if strings.HasPrefix(strings.TrimSpace(line), "{") {
				return importPodsJSON(ctx, src, w)
			}
			table, offs, err = header(line)
			if err != nil {
				return "", fmt.Errorf("%s: %w", src.Name, err)
			}
			if table == "pods" {
				t, err = w.Records("pods", "evidence_id", "namespace", "name", "ready", "status", "restarts", "age", "ip", "node", "nominated_node", "readiness_gates")
			} else {
				t, err = w.Records("nodes", "evidence_id", "name", "status", "roles", "age", "version", "internal_ip", "external_ip", "os_image", "kernel_version", "container_runtime")
			}
			if err != nil {
				return "", err
			}
			continue
		}
		vals, err := cut(line, offs)
		if err != nil {
			w.Reject(ln, "line", line, err.Error())
			continue
		}
		t.Int(0, int64(src.ID))
		for i, v := range vals {
			if v != "" && v != "<none>" {
				t.Str(i+1, v)
			}
		}
		t.Row()
		n++
	}
	if t == nil {
		return "", fmt.Errorf("%s: empty listing", src.Name)
	}
	return fmt.Sprintf("oc get %s listing: %d %s", table, n, table), nil
}

// cut splits a row at the header's column offsets; kubectl left-aligns
// every value under its header, and values may hold single spaces
// ("1 (20h ago)"). A row that does not line up is split at runs of spaces.
func cut(line string, offs []int) ([]string, error) {
	var present []int
	for _, o := range offs {
		if o >= 0 {
			present = append(present, o)
		}
	}
	vals := make([]string, len(offs))
	aligned := true
	for k, o := range present[1:] {
		// Offsets out of order come from a malformed header
		// (found by fuzzing): do not trust them.
		if o <= present[k] || o > len(line) || (o > 0 && line[o-1] != ' ') || (o < len(line) && line[o] == ' ') {
			aligned = false
			break
		}
	}
	if aligned {
		j := 0
		for i, o := range offs {
			if o < 0 {
				continue
			}
			end := len(line)
			if j+1 < len(present) {
				end = present[j+1]
			}
			if o < len(line) {
				vals[i] = strings.TrimSpace(line[o:min(end, len(line))])
			}
			j++
		}
		return vals, nil
	}
	parts := multiSp.Split(strings.TrimSpace(line), -1)
	if len(parts) != len(present) {
		return nil, fmt.Errorf("%d columns, the header has %d", len(parts), len(present))
	}
	j := 0
	for i, o := range offs {
		if o >= 0 {
			vals[i] = parts[j]
			j++
		}
	}
	return vals, nil
}

// podJSON is the part of a Pod l4case keeps.
type podJSON struct {
	Metadata struct {
		Namespace string            `json:"namespace"`
		Name      string            `json:"name"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase             string `json:"phase"`
		PodIP             string `json:"podIP"`
		ContainerStatuses []struct {
			Ready        bool `json:"ready"`
			RestartCount int  `json:"restartCount"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

func importPodsJSON(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	t, err := w.Records("pods", "evidence_id", "namespace", "name", "ready", "status", "restarts", "ip", "node", "labels")
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(rc)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", fmt.Errorf("%s: not a JSON object", src.Name)
	}
	n := 0
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			w.Reject(dec.InputOffset(), "byte", "", "JSON: "+err.Error())
			break
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				w.Reject(dec.InputOffset(), "byte", "", "JSON: "+err.Error())
				break
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return "", fmt.Errorf("%s: items is not an array", src.Name)
		}
		for dec.More() {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			var p podJSON
			start := dec.InputOffset()
			if err := dec.Decode(&p); err != nil {
				w.Reject(start, "byte", "", "JSON: "+err.Error())
				return fmt.Sprintf("oc get pods -o json: %d pods", n), nil
			}
			ready, restarts := 0, 0
			for _, c := range p.Status.ContainerStatuses {
				if c.Ready {
					ready++
				}
				restarts += c.RestartCount
			}
			t.Int(0, int64(src.ID))
			t.Str(1, p.Metadata.Namespace)
			t.Str(2, p.Metadata.Name)
			t.Str(3, fmt.Sprintf("%d/%d", ready, len(p.Status.ContainerStatuses)))
			t.Str(4, p.Status.Phase)
			t.Str(5, fmt.Sprint(restarts))
			if p.Status.PodIP != "" {
				t.Str(6, p.Status.PodIP)
			}
			if p.Spec.NodeName != "" {
				t.Str(7, p.Spec.NodeName)
			}
			var ks, vs []string
			for k, v := range p.Metadata.Labels {
				ks, vs = append(ks, k), append(vs, v)
			}
			if ks == nil {
				ks, vs = []string{}, []string{}
			}
			t.Map(8, ks, vs)
			t.Row()
			n++
		}
		dec.Token()
	}
	return fmt.Sprintf("oc get pods -o json: %d pods", n), nil
}
