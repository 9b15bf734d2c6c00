-- name: scanners
-- title: Scanners
-- description: Sources rejected on many distinct ports or hosts (the internet's background noise), with their port spread.
-- param: min_ports INTEGER -- least distinct ports or hosts to count as a scanner (default 5)
-- param: from TIMESTAMPTZ -- only records ending at or after this time
-- param: to TIMESTAMPTZ -- only records starting before this time
WITH rejected AS (
    -- Written in SQL that Trino runs too (athena view scanners): no list
    -- slicing, so the first 20 ports are numbered before they are gathered.
    SELECT srcaddr, dstaddr, dstport, packets, start_time, end_time
    FROM flows
    WHERE action = 'REJECT'
      AND ($from IS NULL OR end_time >= $from) AND ($to IS NULL OR start_time < $to)
),
numbered AS (
    SELECT srcaddr, dstport, row_number() OVER (PARTITION BY srcaddr ORDER BY dstport) AS n
    FROM (SELECT DISTINCT srcaddr, dstport FROM rejected) AS d
),
first_ports AS (
    SELECT srcaddr, array_agg(dstport ORDER BY dstport) AS some_ports FROM numbered WHERE n <= 20 GROUP BY srcaddr
)
SELECT r.srcaddr, coalesce(e.kind, 'external') AS src_is,
       count(DISTINCT r.dstport) AS ports, count(DISTINCT r.dstaddr) AS hosts,
       any_value(p.some_ports) AS some_ports,
       min(r.dstport) AS lowest_port, max(r.dstport) AS highest_port,
       sum(r.packets) AS packets, min(r.start_time) AS first_time, max(r.end_time) AS last_time
FROM rejected r
JOIN first_ports p ON p.srcaddr = r.srcaddr
LEFT JOIN endpoints e ON e.ip = r.srcaddr
GROUP BY r.srcaddr, coalesce(e.kind, 'external')
HAVING count(DISTINCT r.dstport) >= coalesce($min_ports, 5) OR count(DISTINCT r.dstaddr) >= coalesce($min_ports, 5)
ORDER BY ports DESC, hosts DESC, r.srcaddr
