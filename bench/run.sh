#!/usr/bin/env bash
# Runs l4case's benchmarks and prints the figures BENCHMARKS.md records.
# Usage: bench/run.sh [import|pcap|views|gen|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
TAGS=duckdb_arrow,migrated_fynedo
what=${1:-all}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(go version | cut -d' ' -f3), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() { go test -tags "$TAGS" ./bench/ -run xxx -bench "$1" -benchtime "${2:-1x}" -timeout 60m | grep -E '^Benchmark'; }
case $what in
import|all) run 'FlowLog|ELB|OpFlex' ;;&
pcap|all) [ "$(type -t run_pcap)" ] || true; run 'Pcap|Tshark|BareDecode' ;;&
views|all) run 'Views' ;;&
gen|all)
	go build -tags "$TAGS" -o bin/l4case .
	out=$(mktemp -d)
	/usr/bin/time -f "gen default: %e s, %M KiB max RSS" bin/l4case gen --out "$out/default" 2>&1 | tail -2
	/usr/bin/time -f "gen --scale 1GB: %e s, %M KiB max RSS" bin/l4case gen --out "$out/scale" --scale 1GB 2>&1 | tr '\r' '\n' | tail -2
	du -sh "$out/default" "$out/scale"
	rm -rf "$out"
	;;
esac
