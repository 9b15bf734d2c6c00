package pcap

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
	"dev.l4case/l4case/query"
)

// Frames read back from a capture are the rows import wrote, column for
// column, for every capture of testdata; and each conversation read from
// its first frame's offset has exactly the frames import gave it.
func TestReadAgreesWithImport(t *testing.T) {
	var files []string
	filepath.WalkDir(td, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 20 {
		t.Fatalf("%d captures", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, td), func(t *testing.T) {
			r := ingesttest.Import(t, Importer{}, file, ingest.Options{})
			want := ingesttest.Rows(t, r.DB, `SELECT `+strings.Join(PacketColumns, ", ")+` FROM packets ORDER BY frame`)
			var got [][]string
			err := Read(context.Background(), file, Position{}, func(x *Packet) bool {
				var conv *int64
				if x.TCP() {
					conv = new(int64) // compared below, per conversation
				}
				got = append(got, texts(x.Values(1, conv)))
				return true
			})
			if err != nil && len(want) > 0 && !strings.Contains(file, "malformed") {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d frames, import wrote %d", len(got), len(want))
			}
			conv := len(PacketColumns) - 3
			for i := range want {
				w, g := append([]string(nil), want[i]...), got[i]
				if w[conv] != "NULL" {
					w[conv] = "0"
				}
				if strings.Join(w, "|") != strings.Join(g, "|") {
					t.Fatalf("frame %d:\nimport %v\nread   %v", i+1, w, g)
				}
			}
			// Each conversation from its offset.
			for _, c := range ingesttest.Rows(t, r.DB, `SELECT conv_id, first_offset, first_frame, last_frame, a_addr, a_port, b_addr, b_port,
				(SELECT string_agg(frame::VARCHAR, ' ' ORDER BY frame) FROM packets p WHERE p.conv_id = c.conv_id), length(history) > 0
				FROM tcp_conversations c ORDER BY conv_id`) {
				off, _ := strconv.ParseInt(c[1], 10, 64)
				first, _ := strconv.ParseInt(c[2], 10, 64)
				last, _ := strconv.ParseInt(c[3], 10, 64)
				a, b := c[4]+":"+c[5], c[6]+":"+c[7]
				var frames []string
				err := Read(context.Background(), file, Position{Offset: off, Frame: first}, func(x *Packet) bool {
					if x.Frame() > last {
						return false
					}
					s, d := hostPortOf(x.Src()), hostPortOf(x.Dst())
					if x.TCP() && (s == a && d == b || s == b && d == a) {
						frames = append(frames, strconv.FormatInt(x.Frame(), 10))
					}
					return true
				})
				if err != nil && !strings.Contains(file, "malformed") {
					t.Fatal(err)
				}
				if strings.Join(frames, " ") != c[8] || c[9] != "true" {
					t.Errorf("conversation %s from offset %d: frames %v, import %s; history %s", c[0], off, frames, c[8], c[9])
				}
			}
		})
	}
}

func hostPortOf(ap interface{ String() string }) string {
	s := ap.String()
	if strings.HasPrefix(s, "[") { // [v6]:port, as the rows spell v6 bare
		i := strings.LastIndex(s, "]:")
		return s[1:i] + ":" + s[i+2:]
	}
	return s
}

func texts(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		if v == nil {
			out[i] = "NULL"
		} else {
			out[i] = query.Text(v)
		}
	}
	return out
}

var _ = fmt.Sprint
