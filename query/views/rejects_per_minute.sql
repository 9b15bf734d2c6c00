-- name: rejects_per_minute
-- title: Rejects over time
-- description: Rejected records, packets and distinct sources per minute, from the start of each record.
-- param: from TIMESTAMPTZ -- only records ending at or after this time
-- param: to TIMESTAMPTZ -- only records starting before this time
-- param: eni VARCHAR -- network interface id
SELECT time_bucket(INTERVAL 1 MINUTE, start_time) AS minute, count(*) AS records, sum(packets) AS packets,
       count(DISTINCT srcaddr) AS sources, count(DISTINCT dstport) AS ports
FROM flows
WHERE action = 'REJECT'
  AND ($from IS NULL OR end_time >= $from) AND ($to IS NULL OR start_time < $to)
  AND ($eni IS NULL OR interface_id = $eni)
GROUP BY ALL
ORDER BY minute
