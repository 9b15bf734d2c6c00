// Command floor measures what bench/run compares l4case with, on the same
// files: a bare gopacket read-and-decode loop over captures (the limit of
// any capture import), and DuckDB's own read_csv of flow-log files into a
// table (the reference for the flow-log import).
//
//	floor decode FILE...   prints "PACKETS SECONDS"
//	floor readcsv FILE...  prints "ROWS SECONDS"
package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: floor decode|readcsv FILE...")
		os.Exit(2)
	}
	start := time.Now()
	var n int64
	var err error
	switch os.Args[1] {
	case "decode":
		n, err = decode(os.Args[2:])
	case "readcsv":
		n, err = readCSV(os.Args[2:])
	default:
		err = fmt.Errorf("unknown %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Printf("%d %.3f\n", n, time.Since(start).Seconds())
}

// decode reads every frame and decodes link, IP and TCP layers with a
// DecodingLayerParser, storing nothing.
func decode(files []string) (int64, error) {
	var sll layers.LinuxSLL
	var sll2 layers.LinuxSLL2
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var udp layers.UDP
	var pl gopacket.Payload
	var decoded []gopacket.LayerType
	var n int64
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return n, err
		}
		r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			f.Close()
			return n, fmt.Errorf("%s: %w", p, err)
		}
		first := gopacket.LayerType(layers.LayerTypeEthernet)
		switch r.LinkType() {
		case layers.LinkTypeLinuxSLL:
			first = layers.LayerTypeLinuxSLL
		case layers.LinkTypeLinuxSLL2:
			first = layers.LayerTypeLinuxSLL2
		}
		parser := gopacket.NewDecodingLayerParser(first, &sll, &sll2, &eth, &ip4, &ip6, &tcp, &udp, &pl)
		parser.IgnoreUnsupported = true
		for {
			data, _, err := r.ZeroCopyReadPacketData()
			if err != nil {
				break
			}
			parser.DecodeLayers(data, &decoded)
			n++
		}
		f.Close()
	}
	return n, nil
}

// readCSV loads the files into one table with DuckDB's CSV reader, each
// file's header naming its columns.
func readCSV(files []string) (int64, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
	}
	res, err := db.Exec(`CREATE TABLE flows AS SELECT * FROM read_csv([` + strings.Join(quoted, ", ") + `], delim = ' ', header = true, nullstr = '-', union_by_name = true)`)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		err = db.QueryRow(`SELECT count(*) FROM flows`).Scan(&n)
	}
	return n, err
}
