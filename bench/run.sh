#!/usr/bin/env bash
# Runs l4case's benchmarks and prints the figures BENCHMARKS.md records.
# Usage: bench/run.sh [import|pcap|views|export|gen|bigpcap|trace|all]   (default: all but bigpcap and trace)
#   bigpcap generates two 5 GB captures (needs ~25 GB free in $TMPDIR) and
#   imports one under /usr/bin/time for the peak RSS.
#   trace generates and imports a million requests (needs ~25 GB free in
#   $TMPDIR, ~8 minutes), then times l4case trace and request_paths on it.
set -euo pipefail
cd "$(dirname "$0")/.."
TAGS=duckdb_arrow,migrated_fynedo
what=${1:-all}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(go version | cut -d' ' -f3), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() { go test -tags "$TAGS" ./bench/ -run xxx -bench "$1" -benchtime "${2:-1x}" -timeout 60m -v | grep -E '^Benchmark|_test.go'; }
bin() { go build -tags "$TAGS" -o bin/l4case . ; }
case $what in
import|all)
	run 'FlowLog|ELB|OpFlex'
	go test ./ingest/elblog -run xxx -bench Parse -benchtime 1000000x | grep '^Benchmark'
	;;&
pcap|all) run 'Pcap|Tshark|BareDecode|FloorPacket' ;;&
views|all) run 'Views$' 3x ;;&
export|all) run 'Export10M' ;;&
gen|all)
	bin
	out=$(mktemp -d)
	/usr/bin/time -f "gen default: %e s, %M KiB max RSS" bin/l4case gen --out "$out/default" 2>&1 | tail -2
	/usr/bin/time -f "gen --scale 1GB: %e s, %M KiB max RSS" bin/l4case gen --out "$out/scale" --scale 1GB 2>&1 | tr '\r' '\n' | tail -2
	du -sh "$out/default" "$out/scale"
	rm -rf "$out"
	;;&
trace)
	bin
	out=$(mktemp -d)
	/usr/bin/time -f "gen 1M requests: %e s, %M KiB max RSS" bin/l4case gen --out "$out/b" --requests 1000000 --duration 2h 2>&1 | tr '\r' '\n' | tail -2
	bin/l4case new "$out/c" >/dev/null
	/usr/bin/time -f "import: %e s, %M KiB max RSS" bin/l4case import "$out/c" "$out/b" -q -o csv 2>&1 | tail -2
	for n in 1 500000 999999; do
		id=$(sed -n "${n}p" "$out/b/truth-requests.jsonl" | sed 's/.*"request_id":"\([^"]*\)".*/\1/')
		/usr/bin/time -f "trace --request-id (request $n): %e s, %M KiB max RSS" bin/l4case trace "$out/c" --request-id "$id" 2>&1 >/dev/null | tail -1
	done
	client=$(sed -n 500000p "$out/b/truth-requests.jsonl" | sed 's/.*"client":"\([^"]*\)".*/\1/')
	/usr/bin/time -f "trace --client: %e s, %M KiB max RSS" bin/l4case trace "$out/c" --client "$client" 2>&1 >/dev/null | tail -1
	/usr/bin/time -f "view request_paths --param outcome=dropped (the whole case joined): %e s, %M KiB max RSS" bin/l4case view "$out/c" request_paths --param outcome=dropped 2>&1 >/dev/null | tail -1
	/usr/bin/time -f "export --view request_paths (every request): %e s, %M KiB max RSS" bin/l4case export "$out/c" --view request_paths --out "$out/rp.csv" 2>&1 | tail -2
	/usr/bin/time -f "diagnose: %e s, %M KiB max RSS" bin/l4case diagnose "$out/c" 2>&1 >/dev/null | tail -1
	chmod -R u+w "$out"; rm -rf "$out"
	;;
bigpcap)
	bin
	out=$(mktemp -d)
	/usr/bin/time -f "gen --scale 10GB: %e s, %M KiB max RSS" bin/l4case gen --out "$out/b" --scale 10GB --rotate 24h --duration 2h 2>&1 | tr '\r' '\n' | tail -2
	f=$(ls -S "$out"/b/pcap/*/*.pcap | head -1)
	ls -l "$f"
	bin/l4case new "$out/c" >/dev/null
	/usr/bin/time -f "import one capture: %e s, %M KiB max RSS" bin/l4case import "$out/c" "$f" -o csv 2>&1 | tr '\r' '\n' | tail -3
	chmod -R u+w "$out"; rm -rf "$out"
	;;
esac
