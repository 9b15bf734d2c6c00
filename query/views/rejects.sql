-- name: rejects
-- title: Rejected flows
-- description: Flow log records with action REJECT, grouped by source, destination, port, protocol and interface, with first and last time, packets and bytes.
-- param: from TIMESTAMPTZ -- only records ending at or after this time
-- param: to TIMESTAMPTZ -- only records starting before this time
-- param: addr VARCHAR -- an address or CIDR that either side must be in
-- param: eni VARCHAR -- network interface id
-- param: port INTEGER -- destination port
SELECT f.srcaddr, f.dstaddr, f.dstport, ip_proto_name(f.protocol) AS protocol, f.interface_id,
       coalesce(es.kind, 'external') || coalesce(' ' || es.name, '') AS src_is,
       coalesce(ed.kind, 'external') || coalesce(' ' || ed.name, '') AS dst_is,
       count(*) AS records, sum(f.packets) AS packets, sum(f.bytes) AS bytes,
       min(f.start_time) AS first_time, max(f.end_time) AS last_time,
       any_value(f.reject_reason) AS reject_reason
FROM flows f
LEFT JOIN endpoints es ON es.ip = f.srcaddr
LEFT JOIN endpoints ed ON ed.ip = f.dstaddr
WHERE f.action = 'REJECT'
  AND ($from IS NULL OR f.end_time >= $from) AND ($to IS NULL OR f.start_time < $to)
  AND ($eni IS NULL OR f.interface_id = $eni) AND ($port IS NULL OR f.dstport = $port)
  AND ($addr IS NULL OR in_cidr(f.srcaddr, $addr) OR in_cidr(f.dstaddr, $addr))
GROUP BY ALL
ORDER BY packets DESC, first_time
