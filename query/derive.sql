-- Rebuilds flow_log_sources, flow_logs.duplicate and flow_conversations from
-- flow_logs and enis. query.Derive runs it, in one transaction, after an
-- import that added flow logs or ENI snapshots.
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

UPDATE flow_logs SET duplicate = NULL WHERE duplicate;
UPDATE flow_logs SET duplicate = true
FROM (SELECT interface_id, unnest(evidence_ids) AS evidence_id FROM flow_log_sources WHERE NOT chosen) s
WHERE s.evidence_id = flow_logs.evidence_id AND s.interface_id = coalesce(flow_logs.interface_id, '');

-- query/athena.go has the same pairing in SQL Trino runs too (athenaPairing);
-- app TestAthenaPairingIsTheImports holds the two to the same rows.
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
                SELECT interface_id, srcaddr AS ip FROM flows WHERE srcaddr IS NOT NULL
                UNION ALL
                SELECT interface_id, dstaddr FROM flows WHERE dstaddr IS NOT NULL)
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
    SELECT f.evidence_id::BIGINT * 1099511627776 + f.line AS ref, f.interface_id, f.protocol, f.action, f.reject_reason, f.packets, f.bytes,
           f.start_time, coalesce(f.end_time, f.start_time) AS end_time,
           i.ip IS NOT NULL AS inbound,
           coalesce(i.eni_from, o.eni_from) AS eni_from,
           CASE WHEN i.ip IS NOT NULL THEN f.dstaddr ELSE f.srcaddr END AS local_addr,
           CASE WHEN i.ip IS NOT NULL THEN f.dstport ELSE f.srcport END AS local_port,
           CASE WHEN i.ip IS NOT NULL THEN f.srcaddr ELSE f.dstaddr END AS remote_addr,
           CASE WHEN i.ip IS NOT NULL THEN f.srcport ELSE f.dstport END AS remote_port,
           CASE WHEN i.ip IS NOT NULL THEN f.src_ip ELSE f.dst_ip END AS remote_ip,
           -- Behind a NAT gateway the packet's own address differs from the record's.
           CASE WHEN i.ip IS NOT NULL THEN nullif(f.pkt_dstaddr, f.dstaddr) ELSE nullif(f.pkt_srcaddr, f.srcaddr) END AS pkt_local
    FROM flows f
    LEFT JOIN eni_ips i ON i.interface_id = f.interface_id AND i.ip = f.dstaddr
    LEFT JOIN eni_ips o ON o.interface_id = f.interface_id AND o.ip = f.srcaddr
    WHERE f.srcaddr IS NOT NULL AND f.dstaddr IS NOT NULL AND f.interface_id IS NOT NULL
),
gaps AS (
    SELECT *, CASE WHEN start_time > lag(end_time) OVER w + INTERVAL 120 SECOND THEN 1 ELSE 0 END AS gap
    FROM records
    WINDOW w AS (PARTITION BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port ORDER BY start_time, ref)
),
sessions AS (
    SELECT *, sum(gap) OVER (PARTITION BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port
                             ORDER BY start_time, ref ROWS UNBOUNDED PRECEDING) AS session
    FROM gaps
),
conv AS (
    -- The list of records is not ordered here: ORDER BY inside the
    -- aggregate tripled the cost on ten million rows; record_refs sorts.
    SELECT interface_id, protocol, local_addr, local_port, remote_addr, remote_port, any_value(remote_ip) AS remote_ip,
           min(start_time) AS first_time, max(end_time) AS last_time,
           CASE WHEN bool_or(inbound AND action = 'REJECT') THEN 'REJECT' WHEN bool_or(inbound AND action = 'ACCEPT') THEN 'ACCEPT' END AS in_action,
           CASE WHEN bool_or(NOT inbound AND action = 'REJECT') THEN 'REJECT' WHEN bool_or(NOT inbound AND action = 'ACCEPT') THEN 'ACCEPT' END AS out_action,
           sum(packets) FILTER (WHERE inbound) AS in_packets, sum(bytes) FILTER (WHERE inbound) AS in_bytes,
           sum(packets) FILTER (WHERE NOT inbound) AS out_packets, sum(bytes) FILTER (WHERE NOT inbound) AS out_bytes,
           min(start_time) FILTER (WHERE inbound) AS in_first, min(start_time) FILTER (WHERE NOT inbound) AS out_first,
           max(reject_reason) AS reject_reason, max(eni_from) AS eni_from, list(ref) AS records, min(ref) AS conv_id,
           max(pkt_local) AS pkt_local_addr
    FROM sessions
    GROUP BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port, session
),
oriented AS (
    SELECT *,
           -- The direction with the earlier record opened it; in the same
           -- second the side on the lower port is taken for the server.
           CASE WHEN out_first IS NULL THEN 'inbound'
                WHEN in_first IS NULL THEN 'outbound'
                WHEN in_first < out_first THEN 'inbound'
                WHEN in_first > out_first THEN 'outbound'
                WHEN coalesce(local_port, 0) <= coalesce(remote_port, 0) THEN 'inbound'
                ELSE 'outbound' END AS initiated
    FROM conv
)
SELECT conv_id, interface_id, protocol, local_addr, local_port, remote_addr, remote_port, remote_ip,
       CASE initiated WHEN 'inbound' THEN remote_addr ELSE local_addr END,
       CASE initiated WHEN 'inbound' THEN remote_port ELSE local_port END,
       CASE initiated WHEN 'inbound' THEN local_addr ELSE remote_addr END,
       CASE initiated WHEN 'inbound' THEN local_port ELSE remote_port END,
       first_time, last_time, in_action, out_action, in_packets, in_bytes, out_packets, out_bytes, in_first, out_first,
       initiated, reject_reason, eni_from,
       -- AWS's NACL/SG troubleshooting patterns (both directions on one ENI).
       CASE
           WHEN reject_reason = 'BPA' THEN 'bpa'
           WHEN initiated = 'inbound' AND in_action = 'REJECT' THEN 'inbound_blocked'
           WHEN initiated = 'inbound' AND in_action = 'ACCEPT' AND out_action = 'REJECT' THEN 'reply_blocked_out'
           WHEN initiated = 'outbound' AND out_action = 'REJECT' THEN 'outbound_blocked'
           WHEN initiated = 'outbound' AND out_action = 'ACCEPT' AND in_action = 'REJECT' THEN 'reply_blocked_in'
           WHEN protocol = 6 AND initiated = 'inbound' AND in_action = 'ACCEPT' AND out_action IS NULL THEN 'no_reply'
           WHEN protocol = 6 AND initiated = 'outbound' AND out_action = 'ACCEPT' AND in_action IS NULL THEN 'no_reply'
       END AS pattern,
       NULL, NULL, records, pkt_local_addr
FROM oriented
-- The few conversations with a pattern first, in time order: the views that
-- read only them then skip the row groups of the rest (pattern all NULL),
-- and a time range skips row groups too.
ORDER BY pattern NULLS LAST, first_time;

-- What the other end's ENIs saw of each conversation that has a pattern:
-- the same 5-tuple, oriented the same way, overlapping in time.
UPDATE flow_conversations SET peer = p.peer, peer_eni = p.peer_eni
FROM (
    SELECT c.conv_id,
           string_agg(o.interface_id || ' ' || CASE
               WHEN o.in_action = 'REJECT' THEN 'rejected it inbound'
               WHEN o.out_action = 'REJECT' THEN 'rejected it outbound'
               WHEN o.pattern = 'no_reply' THEN 'saw no reply either'
               ELSE 'saw it answered' END, '; ' ORDER BY o.interface_id) AS peer,
           min(o.interface_id) FILTER (WHERE c.pattern = 'no_reply'
               AND CASE c.initiated WHEN 'outbound' THEN o.in_action ELSE o.out_action END = 'REJECT') AS peer_eni
    FROM flow_conversations c
    JOIN flow_conversations o
      ON o.protocol = c.protocol AND o.client_addr = c.client_addr AND o.client_port = c.client_port
     AND o.server_addr = c.server_addr AND o.server_port = c.server_port AND o.interface_id <> c.interface_id
     AND o.first_time <= c.last_time + INTERVAL 120 SECOND AND o.last_time >= c.first_time - INTERVAL 120 SECOND
    WHERE c.pattern IS NOT NULL
    GROUP BY c.conv_id
) p
WHERE flow_conversations.conv_id = p.conv_id;
