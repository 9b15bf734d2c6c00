-- name: scanners
-- title: Scanners
-- description: Sources rejected on many distinct ports or hosts (the internet's background noise), with their port spread.
-- param: min_ports INTEGER -- least distinct ports or hosts to count as a scanner (default 5)
-- param: from TIMESTAMPTZ -- only records ending at or after this time
-- param: to TIMESTAMPTZ -- only records starting before this time
SELECT srcaddr, coalesce(e.kind, 'external') AS src_is,
       count(DISTINCT dstport) AS ports, count(DISTINCT dstaddr) AS hosts,
       list(DISTINCT dstport ORDER BY dstport)[1:20] AS some_ports,
       min(dstport) AS lowest_port, max(dstport) AS highest_port,
       sum(packets) AS packets, min(start_time) AS first_time, max(end_time) AS last_time
FROM flows f
LEFT JOIN endpoints e ON e.ip = f.srcaddr
WHERE action = 'REJECT'
  AND ($from IS NULL OR end_time >= $from) AND ($to IS NULL OR start_time < $to)
GROUP BY ALL
HAVING count(DISTINCT dstport) >= coalesce($min_ports, 5) OR count(DISTINCT dstaddr) >= coalesce($min_ports, 5)
ORDER BY ports DESC, hosts DESC, srcaddr
