-- Rebuilds flow_log_sources and flow_conversations from flow_logs and enis. Run by l4case after an
-- import that added flow logs or ENI snapshots, in the import's transaction.
--
-- Records are paired per ENI and 5-tuple; a new conversation starts when a
-- record begins more than 120 s after the previous one of the same 5-tuple
-- ended, so a reply that fell into the next aggregation window still pairs.
DELETE FROM flow_log_sources;
INSERT INTO flow_log_sources
WITH per AS (
    SELECT coalesce(f.interface_id, '') AS interface_id,
           coalesce(regexp_extract(e.name, 'fl-[0-9a-f]{8,17}'), '') AS fl, f.evidence_id,
           max(f.version) AS version, count(*) AS records, min(f.start_time) AS first_time, max(f.end_time) AS last_time
    FROM flow_logs f JOIN evidence e USING (evidence_id)
    GROUP BY ALL
), logs AS (
    SELECT interface_id, CASE WHEN fl = '' THEN 'evidence:' || evidence_id ELSE fl END AS flow_log_id,
           max(version) AS version, sum(records)::BIGINT AS records, min(first_time) AS first_time, max(last_time) AS last_time,
           list(evidence_id ORDER BY evidence_id) AS evidence_ids
    FROM per GROUP BY ALL
)
SELECT interface_id, flow_log_id, version, records, first_time, last_time,
       row_number() OVER (PARTITION BY interface_id ORDER BY version DESC NULLS LAST, records DESC, flow_log_id) = 1,
       evidence_ids
FROM logs;

DELETE FROM flow_conversations;
INSERT INTO flow_conversations
WITH snapshot_ips AS (
    SELECT DISTINCT network_interface_id AS interface_id, unnest(private_ips) AS ip FROM enis
),
guessed_ips AS (
    -- An ENI the snapshot does not describe: its address is on most of its records.
    SELECT interface_id, ip FROM (
        SELECT interface_id, ip, row_number() OVER (PARTITION BY interface_id ORDER BY n DESC, ip) AS rn
        FROM (SELECT interface_id, ip, count(*) AS n FROM (
                SELECT interface_id, srcaddr AS ip FROM flow_logs WHERE srcaddr IS NOT NULL
                UNION ALL
                SELECT interface_id, dstaddr FROM flow_logs WHERE dstaddr IS NOT NULL)
              WHERE interface_id NOT IN (SELECT interface_id FROM snapshot_ips)
              GROUP BY ALL))
    WHERE rn = 1
),
eni_ips AS (
    SELECT interface_id, ip, 'snapshot' AS eni_from FROM snapshot_ips
    UNION ALL
    SELECT interface_id, ip, 'records' FROM guessed_ips
),
records AS (
    SELECT f.evidence_id, f.line, f.interface_id, f.protocol, f.action, f.reject_reason, f.packets, f.bytes,
           f.start_time, coalesce(f.end_time, f.start_time) AS end_time,
           i.ip IS NOT NULL AS inbound,
           coalesce(i.eni_from, o.eni_from) AS eni_from,
           CASE WHEN i.ip IS NOT NULL THEN f.dstaddr ELSE f.srcaddr END AS local_addr,
           CASE WHEN i.ip IS NOT NULL THEN f.dstport ELSE f.srcport END AS local_port,
           CASE WHEN i.ip IS NOT NULL THEN f.srcaddr ELSE f.dstaddr END AS remote_addr,
           CASE WHEN i.ip IS NOT NULL THEN f.srcport ELSE f.dstport END AS remote_port
    FROM flows f
    LEFT JOIN eni_ips i ON i.interface_id = f.interface_id AND i.ip = f.dstaddr
    LEFT JOIN eni_ips o ON o.interface_id = f.interface_id AND o.ip = f.srcaddr
    WHERE f.srcaddr IS NOT NULL AND f.dstaddr IS NOT NULL AND f.interface_id IS NOT NULL
),
gaps AS (
    SELECT *, CASE WHEN start_time > lag(end_time) OVER w + INTERVAL 120 SECOND THEN 1 ELSE 0 END AS gap
    FROM records
    WINDOW w AS (PARTITION BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port ORDER BY start_time, line)
),
sessions AS (
    SELECT *, sum(gap) OVER (PARTITION BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port
                             ORDER BY start_time, line ROWS UNBOUNDED PRECEDING) AS session
    FROM gaps
)
SELECT interface_id, protocol, local_addr, local_port, remote_addr, remote_port,
       min(start_time), max(end_time),
       CASE WHEN bool_or(inbound AND action = 'REJECT') THEN 'REJECT' WHEN bool_or(inbound AND action = 'ACCEPT') THEN 'ACCEPT' END,
       CASE WHEN bool_or(NOT inbound AND action = 'REJECT') THEN 'REJECT' WHEN bool_or(NOT inbound AND action = 'ACCEPT') THEN 'ACCEPT' END,
       sum(packets) FILTER (WHERE inbound), sum(bytes) FILTER (WHERE inbound),
       sum(packets) FILTER (WHERE NOT inbound), sum(bytes) FILTER (WHERE NOT inbound),
       min(start_time) FILTER (WHERE inbound), min(start_time) FILTER (WHERE NOT inbound),
       -- The direction with the earlier record opened it; in the same second
       -- the side on the lower port is taken for the server.
       CASE WHEN min(start_time) FILTER (WHERE NOT inbound) IS NULL THEN 'inbound'
            WHEN min(start_time) FILTER (WHERE inbound) IS NULL THEN 'outbound'
            WHEN min(start_time) FILTER (WHERE inbound) < min(start_time) FILTER (WHERE NOT inbound) THEN 'inbound'
            WHEN min(start_time) FILTER (WHERE inbound) > min(start_time) FILTER (WHERE NOT inbound) THEN 'outbound'
            WHEN coalesce(local_port, 0) <= coalesce(remote_port, 0) THEN 'inbound'
            ELSE 'outbound' END,
       max(reject_reason),
       max(eni_from),
       list(evidence_id::VARCHAR || ':' || line::VARCHAR ORDER BY start_time, line)
FROM sessions
GROUP BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port, session;
