-- name: nacl_sg_diagnosis
-- title: Why was it rejected? NACL or security group
-- description: Every rejected or unanswered connection with one verdict, however many ENIs logged it: the ENI where it was decided (interface_id), the culprit rule when the EC2 snapshots name it, the reasoning in one sentence, what each ENI saw, and the flow log records behind it.
-- param: eni VARCHAR -- only connections this network interface logged
-- param: verdict VARCHAR -- only this verdict (sg_inbound, nacl_outbound, not_listening, ...)
-- param: addr VARCHAR -- an address or CIDR on either side
WITH patterns AS (
    -- The pattern of the two directions (seed: AWS's NACL/SG troubleshooting
    -- diagram) and the peer ENI are derived at import: flow_conversations.
    SELECT c.conv_id AS id, c.*
    FROM flow_conversations c
    WHERE c.pattern IS NOT NULL
      AND ($addr IS NULL OR in_cidr(c.local_addr, $addr) OR in_cidr(c.remote_addr, $addr))
),
d AS (
    SELECT patterns.*,
        -- The packet the network ACL stopped (or would have): its direction and destination port.
        pattern IN ('reply_blocked_out', 'outbound_blocked') AS blocked_egress,
        CASE WHEN pattern IN ('inbound_blocked', 'reply_blocked_in') THEN local_port ELSE remote_port END AS blocked_port,
        -- The packet that opened the conversation, which the security groups judge.
        CASE initiated WHEN 'inbound' THEN local_port ELSE remote_port END AS service_port
    FROM patterns
),
eni AS (SELECT DISTINCT network_interface_id, subnet_id FROM enis),
eni_groups AS (
    SELECT DISTINCT e.network_interface_id, g.group_id
    FROM enis e CROSS JOIN UNNEST(e.security_group_ids) AS g(group_id)
    WHERE g.group_id IS NOT NULL
),
acl AS (
    SELECT DISTINCT a.network_acl_id, s.subnet_id
    FROM network_acls a CROSS JOIN UNNEST(a.subnet_ids) AS s(subnet_id)
    WHERE s.subnet_id IS NOT NULL
),
entries AS (
    SELECT x.*, cidr_lo(x.cidr) AS lo, cidr_hi(x.cidr) AS hi
    FROM (SELECT DISTINCT network_acl_id, rule_number, egress, protocol, protocol_num, rule_action, cidr, port_from, port_to FROM nacl_entries) AS x
),
nacl AS (
    -- Network ACL entries in rule-number order, first match wins (the * rule denies the rest).
    SELECT id, rule_number, rule_action, acl_id, rule_cidr, rule_protocol, rule_from, rule_to
    FROM (
        SELECT d.id, x.rule_number, x.rule_action, x.network_acl_id AS acl_id, x.cidr AS rule_cidr,
               x.protocol AS rule_protocol, x.port_from AS rule_from, x.port_to AS rule_to,
               row_number() OVER (PARTITION BY d.id ORDER BY x.rule_number, x.network_acl_id) AS pick
        FROM d
        JOIN eni n ON n.network_interface_id = d.interface_id
        JOIN acl a ON a.subnet_id = n.subnet_id
        JOIN entries x ON x.network_acl_id = a.network_acl_id AND x.egress = d.blocked_egress
         AND (x.protocol_num IS NULL OR x.protocol_num = d.protocol)
         AND (x.port_from IS NULL OR d.protocol NOT IN (6, 17) OR d.blocked_port BETWEEN x.port_from AND x.port_to)
         AND d.remote_ip BETWEEN x.lo AND x.hi) AS m
    WHERE pick = 1
),
groups AS (
    -- Every group of the ENI in the snapshot; none (an empty list) for an
    -- ENI the snapshot has without groups, NULL for one it has not.
    SELECT d.id, array_sort(array_distinct(coalesce(array_agg(g.group_id) FILTER (WHERE g.group_id IS NOT NULL), ARRAY[]))) AS groups
    FROM d
    JOIN eni n ON n.network_interface_id = d.interface_id
    LEFT JOIN eni_groups g ON g.network_interface_id = d.interface_id
    GROUP BY d.id
),
remote_groups AS (
    SELECT DISTINCT p.ip, g.group_id
    FROM enis e CROSS JOIN UNNEST(e.private_ips) AS p(ip) CROSS JOIN UNNEST(e.security_group_ids) AS g(group_id)
    WHERE g.group_id IS NOT NULL
),
sg AS (
    -- Security groups: a union of allow rules, stateful (the reply follows the request).
    SELECT d.id, count(*) AS allowing
    FROM d
    JOIN eni_groups g ON g.network_interface_id = d.interface_id
    JOIN (SELECT s.*, cidr_lo(s.cidr) AS lo, cidr_hi(s.cidr) AS hi FROM sg_rules s) r ON r.group_id = g.group_id
     AND r.direction = CASE d.initiated WHEN 'inbound' THEN 'ingress' ELSE 'egress' END
     AND (r.protocol IS NULL OR r.protocol = d.protocol)
     AND (r.from_port IS NULL OR r.from_port = -1 OR d.protocol NOT IN (6, 17) OR d.service_port BETWEEN r.from_port AND r.to_port)
    LEFT JOIN remote_groups rg ON rg.ip = d.remote_addr
    WHERE (r.cidr IS NOT NULL AND d.remote_ip BETWEEN r.lo AND r.hi) OR r.referenced_group_id = rg.group_id
    GROUP BY d.id
),
judged AS (
    SELECT d.*, n.rule_number, n.rule_action, n.acl_id, n.rule_cidr, n.rule_protocol, n.rule_from, n.rule_to,
           g.groups, coalesce(s.allowing, 0) AS sg_allowing,
           lower(ip_proto_name(d.protocol)) AS proto,
           CASE WHEN n.rule_number IS NULL THEN NULL ELSE
               'network ACL ' || n.acl_id || ' rule ' || CASE WHEN n.rule_number = 32767 THEN '*' ELSE CAST(n.rule_number AS varchar) END ||
               ' (' || CASE WHEN d.blocked_egress THEN 'outbound' ELSE 'inbound' END || ', ' || n.rule_action || ' ' ||
               CASE n.rule_protocol WHEN '-1' THEN 'all' WHEN '6' THEN 'tcp' WHEN '17' THEN 'udp' WHEN '1' THEN 'icmp' ELSE 'protocol ' || n.rule_protocol END ||
               CASE WHEN n.rule_from IS NULL THEN '' WHEN n.rule_from = n.rule_to THEN ' ' || CAST(n.rule_from AS varchar)
                    ELSE ' ' || CAST(n.rule_from AS varchar) || '-' || CAST(n.rule_to AS varchar) END ||
               CASE WHEN d.blocked_egress THEN ' to ' ELSE ' from ' END || n.rule_cidr || ')'
           END AS nacl_text
    FROM d
    LEFT JOIN nacl n ON n.id = d.id
    LEFT JOIN groups g ON g.id = d.id
    LEFT JOIN sg s ON s.id = d.id
),
verdicts AS (
    SELECT *,
        CASE pattern
            WHEN 'bpa' THEN 'vpc_block_public_access'
            WHEN 'inbound_blocked' THEN CASE
                WHEN rule_action = 'deny' THEN 'nacl_inbound'
                WHEN groups IS NULL THEN 'sg_or_nacl_inbound'
                WHEN sg_allowing = 0 THEN 'sg_inbound'
                ELSE 'unexplained' END
            WHEN 'outbound_blocked' THEN CASE
                WHEN rule_action = 'deny' THEN 'nacl_outbound'
                WHEN groups IS NULL THEN 'sg_or_nacl_outbound'
                WHEN sg_allowing = 0 THEN 'sg_outbound'
                ELSE 'unexplained' END
            WHEN 'reply_blocked_out' THEN 'nacl_outbound'
            WHEN 'reply_blocked_in' THEN 'nacl_inbound'
            WHEN 'no_reply' THEN CASE WHEN peer_eni IS NOT NULL THEN 'blocked_at_peer' ELSE 'not_listening' END
        END AS verdict
    FROM judged
),
-- One connection is logged on every ENI it crosses, and each ENI alone
-- may read it differently: the node's ENI REJECTs its SYN-ACK outbound
-- (the network ACL) while the client's own ENI sees a SYN with no reply
-- (which alone would read as nothing listening). The records of the same
-- 5-tuple, either way round, on several ENIs within two minutes of each
-- other are one connection, judged once: by the ENI that rejected it, else
-- by the server's ENI.
keyed AS (
    -- Behind a NAT gateway its ENI logs the packet's own address as
    -- pkt-dstaddr (pkt-srcaddr): the key takes that, so the gateway's view
    -- of the connection joins the instance's.
    SELECT *, CAST(protocol AS varchar) || ' ' || least(a, b) || ' ' || greatest(a, b) AS conn_key,
           interface_id || ' (' || coalesce('in ' || in_action, 'nothing in') || ', ' || coalesce('out ' || out_action, 'nothing out') || ')' AS seen
    FROM (SELECT v.*,
                 CASE WHEN initiated = 'outbound' THEN coalesce(pkt_local_addr, client_addr) ELSE client_addr END || ':' || CAST(client_port AS varchar) AS a,
                 CASE WHEN initiated = 'inbound' THEN coalesce(pkt_local_addr, server_addr) ELSE server_addr END || ':' || CAST(server_port AS varchar) AS b
          FROM verdicts v) AS k
),
gapped AS (
    SELECT *, CAST(coalesce(first_time > max(last_time) OVER (PARTITION BY conn_key ORDER BY first_time, interface_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + INTERVAL '2' MINUTE, false) AS integer) AS new_conn
    FROM keyed
),
grouped AS (
    SELECT *, sum(new_conn) OVER (PARTITION BY conn_key ORDER BY first_time, interface_id ROWS UNBOUNDED PRECEDING) AS conn_n
    FROM gapped
),
connections AS (
    SELECT conn_key, conn_n, count(*) AS enis, array_join(array_agg(seen ORDER BY interface_id), '; ') AS seen_on,
           array_agg(interface_id) AS interface_ids, flatten(array_agg(records)) AS all_records,
           min(first_time) AS conn_first, max(last_time) AS conn_last
    FROM grouped GROUP BY conn_key, conn_n
),
chosen AS (
    SELECT * FROM (
        SELECT g.*, c.enis, c.seen_on, c.interface_ids, c.all_records, c.conn_first, c.conn_last,
               row_number() OVER (PARTITION BY g.conn_key, g.conn_n ORDER BY
                   CASE g.verdict WHEN 'not_listening' THEN 3 WHEN 'blocked_at_peer' THEN 2 ELSE 1 END,
                   g.local_addr = g.server_addr AND g.pkt_local_addr IS NULL DESC, g.interface_id) AS pick
        FROM grouped g JOIN connections c ON c.conn_key = g.conn_key AND c.conn_n = g.conn_n) AS x
    WHERE pick = 1
),
snapshot AS (
    SELECT max(source_mtime) AS taken FROM evidence WHERE kind = 'ec2'
)
SELECT v.verdict,
    CASE
        WHEN v.verdict IN ('nacl_inbound', 'nacl_outbound') AND v.rule_action = 'deny' THEN v.nacl_text
        WHEN v.verdict = 'blocked_at_peer' THEN v.peer_eni || ' REJECTed it ' || CASE v.initiated WHEN 'outbound' THEN 'inbound' ELSE 'outbound' END
        WHEN v.verdict IN ('sg_inbound', 'sg_outbound') THEN
            'security group ' || array_join(v.groups, ', ') || ' of ' || v.interface_id || ' has no ' ||
            CASE v.initiated WHEN 'inbound' THEN 'inbound' ELSE 'outbound' END || ' rule for ' || v.proto || '/' || CAST(v.service_port AS varchar) ||
            CASE v.initiated WHEN 'inbound' THEN ' from ' ELSE ' to ' END || v.remote_addr
    END AS culprit,
    CASE v.pattern
        WHEN 'bpa' THEN 'reject-reason BPA: VPC Block Public Access refused it, not a security group or network ACL.'
        WHEN 'inbound_blocked' THEN 'A single inbound REJECT: blocked on the way in, by the security group or the network ACL. ' || CASE v.verdict
            WHEN 'nacl_inbound' THEN 'The network ACL denies it first: ' || v.nacl_text || '.'
            WHEN 'sg_inbound' THEN 'The network ACL allows it' || coalesce(' (rule ' || CAST(v.rule_number AS varchar) || ')', '') || ', and no rule of the security groups does: it is the security group.'
            WHEN 'unexplained' THEN 'The snapshot''s rules allow it: they may have changed since the incident.'
            ELSE 'No EC2 snapshot of this interface to tell which.' END
        WHEN 'outbound_blocked' THEN 'An outbound REJECT of a request: blocked on the way out, by the security group or the network ACL. ' || CASE v.verdict
            WHEN 'nacl_outbound' THEN 'The network ACL denies it first: ' || v.nacl_text || '.'
            WHEN 'sg_outbound' THEN 'The network ACL allows it' || coalesce(' (rule ' || CAST(v.rule_number AS varchar) || ')', '') || ', and no outbound rule of the security groups does: it is the security group.'
            WHEN 'unexplained' THEN 'The snapshot''s rules allow it: they may have changed since the incident.'
            ELSE 'No EC2 snapshot of this interface to tell which.' END
        WHEN 'reply_blocked_out' THEN 'Inbound ACCEPT and the reply REJECTed outbound: security groups are stateful and would have let the reply out, so it is the network ACL' ||
            CASE WHEN v.rule_action = 'deny' THEN ': ' || v.nacl_text || '.' WHEN v.rule_action = 'allow' THEN ' (the snapshot''s ' || v.nacl_text || ' allows it: rules may have changed since).' ELSE '.' END
        WHEN 'reply_blocked_in' THEN 'Outbound ACCEPT and the reply REJECTed inbound: security groups are stateful and would have let the reply in, so it is the network ACL' ||
            CASE WHEN v.rule_action = 'deny' THEN ': ' || v.nacl_text || '.' WHEN v.rule_action = 'allow' THEN ' (the snapshot''s ' || v.nacl_text || ' allows it: rules may have changed since).' ELSE '.' END
        WHEN 'no_reply' THEN CASE WHEN v.peer_eni IS NOT NULL THEN
            'ACCEPTed here with no flow back, and the other end''s interface ' || v.peer_eni || ' REJECTed it: see that interface''s verdict.'
            ELSE 'ACCEPTed with no flow back on the same interface: not a filter; nothing is listening on or answering ' ||
            v.proto || '/' || CAST(v.service_port AS varchar) || ' at ' || CASE v.initiated WHEN 'inbound' THEN coalesce(v.pkt_local_addr, v.local_addr) ELSE v.remote_addr END || '.' END
    END AS reason,
    v.interface_id, v.proto AS protocol,
    v.client_addr AS client, v.client_port, v.server_addr AS server, v.server_port, v.initiated, v.in_action, v.out_action,
    coalesce(v.in_packets, 0) + coalesce(v.out_packets, 0) AS packets, v.conn_first AS first_time, v.conn_last AS last_time,
    (SELECT taken FROM snapshot) > v.conn_last AS snapshot_after_incident,
    v.enis, v.seen_on,
    record_refs(v.all_records) AS records
FROM chosen v
WHERE ($verdict IS NULL OR v.verdict = $verdict)
  AND ($eni IS NULL OR contains(v.interface_ids, $eni))
ORDER BY v.conn_first, v.interface_id, v.client_addr, v.client_port, v.server_port
