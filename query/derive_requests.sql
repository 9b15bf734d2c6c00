-- Rebuilds request_path_rows: every request the case can trace, joined
-- across the captures, the ELB logs, the paired flow logs (after derive.sql)
-- and the OpFlex drops. query.DeriveRequests runs it, in one transaction,
-- after every import: the join takes seconds on a million requests, which
-- the view, run again at every page and filter, should not pay.
DELETE FROM request_path_rows;
INSERT INTO request_path_rows
WITH legs AS (
    -- Connections that carried an HTTP request or opened with a PROXY
    -- header, numbered within their node, initiator and ISN: the load
    -- balancer's connection to the NodePort comes first, kube-proxy's DNAT'd
    -- copy to the router pod (same initiator, same ISN) right after it.
    SELECT c.evidence_id, c.conv_id, c.node, c.a_addr, c.a_port, c.b_addr, c.b_port, c.isn_a, c.first_time, c.last_time, c.end_reason,
           row_number() OVER (PARTITION BY c.node, c.a_addr, c.a_port, c.isn_a ORDER BY c.first_time, c.evidence_id, c.conv_id) AS copy
    FROM tcp_conversations c
    WHERE (c.evidence_id, c.conv_id) IN (SELECT evidence_id, conv_id FROM http_messages WHERE is_request)
       OR (c.evidence_id, c.conv_id) IN (SELECT evidence_id, conv_id FROM proxy_headers)
),
routers AS (SELECT DISTINCT b_addr AS ip FROM legs WHERE copy = 2),
lb_ips AS (SELECT ip FROM endpoints WHERE kind = 'elb'),
fronts AS (
    -- The router's own connections to backends are not fronts.
    SELECT f.*, d.evidence_id AS dnat_evidence, d.conv_id AS dnat_conv, d.b_addr AS router_ip, d.b_port AS router_port,
           p.src_addr AS proxy_ip, p.src_port AS proxy_port
    FROM legs f
    LEFT JOIN legs d ON d.copy = 2 AND d.node = f.node AND d.a_addr = f.a_addr AND d.a_port = f.a_port AND d.isn_a = f.isn_a
    LEFT JOIN proxy_headers p ON p.evidence_id = f.evidence_id AND p.conv_id = f.conv_id
    WHERE f.copy = 1 AND f.a_addr NOT IN (SELECT ip FROM routers)
),
msgs AS (
    SELECT q.evidence_id, q.conv_id, q.request_id, q.x_amzn_trace_id, q.method, q.uri, q.first_time AS req_time, q.src_addr, q.dst_addr, q.dst_port,
           r.status, r.evidence_id IS NOT NULL AS answered
    FROM http_messages q
    LEFT JOIN http_messages r ON r.evidence_id = q.evidence_id AND r.conv_id = q.conv_id AND r.msg_index = q.msg_index AND NOT r.is_request
    WHERE q.is_request AND q.msg_index = 0
),
continued AS (
    -- A connection still open when its capture file ended goes on in the
    -- next file of the node (tcpdump -G), without its SYN: its response may be there.
    SELECT f.evidence_id, f.conv_id, min(r.status) AS status
    FROM fronts f
    JOIN tcp_conversations n ON f.end_reason = 'none' AND n.node = f.node AND n.evidence_id <> f.evidence_id AND NOT coalesce(n.saw_start, false)
     AND n.first_time BETWEEN f.last_time AND f.last_time + INTERVAL 1 MINUTE
     AND ((n.a_addr = f.a_addr AND n.a_port = f.a_port AND n.b_addr = f.b_addr AND n.b_port = f.b_port)
       OR (n.a_addr = f.b_addr AND n.a_port = f.b_port AND n.b_addr = f.a_addr AND n.b_port = f.a_port))
    JOIN http_messages r ON r.evidence_id = n.evidence_id AND r.conv_id = n.conv_id AND NOT r.is_request
    GROUP BY ALL
),
captured AS (
    SELECT f.*, q.request_id, q.x_amzn_trace_id AS trace_id, q.method, q.uri, q.req_time,
           coalesce(q.status, cn.status) AS status, q.answered OR cn.status IS NOT NULL AS answered,
           b.evidence_id AS back_evidence, b.conv_id AS back_conv, b.dst_addr AS backend_ip, b.dst_port AS backend_port, b.status AS backend_status,
           -- How its ELB line is found: an ALB's X-Amzn-Trace-Id, else the
           -- PROXY header's client to this node port; a load balancer that
           -- passes the client's own connection through (NLB) logs none.
           CASE WHEN q.x_amzn_trace_id IS NOT NULL THEN 't ' || q.x_amzn_trace_id
                WHEN f.proxy_ip IS NOT NULL THEN 'c ' || f.proxy_ip || ':' || f.proxy_port || ' ' || f.b_addr || ':' || f.b_port END AS elb_key,
           q.x_amzn_trace_id IS NULL AND f.proxy_ip IS NULL AND f.a_addr NOT IN (SELECT ip FROM lb_ips) AS pass_through
    FROM fronts f
    LEFT JOIN msgs q ON q.evidence_id = f.evidence_id AND q.conv_id = f.conv_id
    LEFT JOIN continued cn ON cn.evidence_id = f.evidence_id AND cn.conv_id = f.conv_id
    -- The router's request to a backend pod with the same request-id.
    LEFT JOIN msgs b ON b.request_id = q.request_id AND b.src_addr = f.router_ip
     AND b.req_time BETWEEN f.first_time - INTERVAL 1 SECOND AND f.last_time + INTERVAL 10 SECOND
    QUALIFY row_number() OVER (PARTITION BY f.evidence_id, f.conv_id ORDER BY b.req_time NULLS LAST) = 1
),
unanswered AS (
    -- Without a backend request: the router's connection opened within a
    -- second of the request and never answered (a NetworkPolicy drop, a dead pod).
    SELECT c.evidence_id, c.conv_id, u.evidence_id AS back_evidence, u.conv_id AS back_conv, u.a_addr, u.a_port, u.b_addr, u.b_port, u.first_time, u.last_time
    FROM captured c
    JOIN tcp_conversations u ON c.back_conv IS NULL AND u.a_addr = c.router_ip AND u.synack_time IS NULL
     AND u.first_time BETWEEN c.req_time AND c.req_time + INTERVAL 1 SECOND
    QUALIFY row_number() OVER (PARTITION BY c.evidence_id, c.conv_id ORDER BY u.first_time) = 1
),
dropped AS (
    SELECT u.evidence_id, u.conv_id, count(*) AS drops
    FROM unanswered u JOIN drops d ON d.kind = 'packet' AND d.src = u.a_addr AND d.spt = u.a_port AND d.dst = u.b_addr AND d.dpt = u.b_port
     AND d.time BETWEEN u.first_time - INTERVAL 10 SECOND AND u.last_time + INTERVAL 10 SECOND
    GROUP BY ALL
),
withback AS (
    SELECT c.* EXCLUDE (back_evidence, back_conv, backend_ip, backend_port),
           coalesce(c.back_evidence, u.back_evidence) AS back_evidence, coalesce(c.back_conv, u.back_conv) AS back_conv,
           coalesce(c.backend_ip, u.b_addr) AS backend_ip, coalesce(c.backend_port, u.b_port) AS backend_port,
           coalesce(d.drops, 0) AS drops
    FROM captured c
    LEFT JOIN unanswered u USING (evidence_id, conv_id)
    LEFT JOIN dropped d USING (evidence_id, conv_id)
),
lines AS (
    SELECT evidence_id AS elb_evidence, line AS elb_line, time AS elb_time, elb, client_ip AS elb_client_ip, client_port AS elb_client_port,
           backend_ip AS elb_backend_ip, backend_port AS elb_backend_port, elb_status_code, backend_processing_time, sent_bytes, processing_time_missing,
           CASE WHEN trace_id IS NOT NULL THEN 't ' || trace_id
                ELSE 'c ' || client_ip || ':' || client_port || ' ' || backend_ip || ':' || backend_port END AS line_key
    FROM elb_logs
),
paired AS (
    -- The ELB line of a captured connection, nearest in time.
    SELECT w.*, l.*
    FROM withback w
    LEFT JOIN lines l ON l.line_key = w.elb_key
     AND l.elb_time BETWEEN w.first_time - INTERVAL 5 MINUTE AND w.last_time + INTERVAL 5 MINUTE
    QUALIFY row_number() OVER (PARTITION BY w.evidence_id, w.conv_id ORDER BY abs(epoch(l.elb_time) - epoch(w.first_time)) NULLS LAST) = 1
),
everything AS MATERIALIZED (
    SELECT * FROM paired
    UNION ALL BY NAME
    -- ELB lines no captured connection claims: the node was not captured then.
    SELECT l.* FROM lines l
    WHERE NOT EXISTS (SELECT 1 FROM paired p WHERE p.elb_evidence = l.elb_evidence AND p.elb_line = l.elb_line)
),
flowed AS (
    -- The flow-log conversations of the load balancer → node connection on
    -- every ENI; records of one second do not say who opened it, so either
    -- way; a reused port makes one flow conversation of several connections,
    -- so any that overlaps the connection's time.
    SELECT evidence_id, conv_id, count(DISTINCT interface_id) AS enis, bool_or(rejected) AS rejected
    FROM (
        SELECT e.evidence_id, e.conv_id, fc.interface_id, fc.in_action = 'REJECT' OR fc.out_action = 'REJECT' AS rejected
        FROM everything e
        JOIN flow_conversations fc ON fc.protocol = 6
         AND fc.client_addr = e.a_addr AND fc.client_port = e.a_port AND fc.server_addr = e.b_addr AND fc.server_port = e.b_port
         AND fc.first_time <= e.last_time + INTERVAL 12 MINUTE AND fc.last_time >= e.first_time - INTERVAL 2 MINUTE
        UNION ALL
        SELECT e.evidence_id, e.conv_id, fc.interface_id, fc.in_action = 'REJECT' OR fc.out_action = 'REJECT'
        FROM everything e
        JOIN flow_conversations fc ON fc.protocol = 6
         AND fc.client_addr = e.b_addr AND fc.client_port = e.b_port AND fc.server_addr = e.a_addr AND fc.server_port = e.a_port
         AND fc.first_time <= e.last_time + INTERVAL 12 MINUTE AND fc.last_time >= e.first_time - INTERVAL 2 MINUTE)
    GROUP BY ALL
),
judged AS (
    SELECT e.*, coalesce(f.enis, 0) AS flow_enis, coalesce(f.rejected, false) AS rejected,
           coalesce(e.status, e.elb_status_code, e.backend_status) AS final_status,
           list_filter([
               CASE WHEN e.elb_line IS NULL AND NOT coalesce(e.pass_through, false) THEN 'elb_log' END,
               CASE WHEN coalesce(f.enis, 0) < 2 THEN 'flow_log' END,
               CASE WHEN e.conv_id IS NULL THEN 'capture' END,
               CASE WHEN e.dnat_conv IS NULL THEN 'dnat' END,
               CASE WHEN e.back_conv IS NULL THEN 'backend' END], lambda x: x IS NOT NULL) AS missing
    FROM everything e
    LEFT JOIN flowed f ON f.evidence_id = e.evidence_id AND f.conv_id = e.conv_id
),
out AS (
    SELECT coalesce(least(j.first_time, j.elb_time), j.first_time, j.elb_time) AS time,
           j.request_id, CASE WHEN j.proxy_ip IS NOT NULL THEN j.proxy_ip || ':' || j.proxy_port
                              WHEN j.elb_client_ip IS NOT NULL THEN j.elb_client_ip || ':' || j.elb_client_port
                              WHEN j.pass_through THEN j.a_addr || ':' || j.a_port END AS client,
           coalesce(n.name, j.node, j.elb_backend_ip) AS node,
           CASE WHEN j.a_addr IS NOT NULL THEN j.a_addr || ':' || j.a_port END AS lb,
           CASE WHEN j.router_ip IS NOT NULL THEN j.router_ip || ':' || j.router_port END AS router,
           CASE WHEN j.backend_ip IS NOT NULL THEN j.backend_ip || ':' || j.backend_port END AS backend,
           bp.name AS backend_pod, j.method, j.uri, j.final_status AS status,
           CASE
               WHEN j.drops > 0 THEN 'dropped'
               WHEN j.rejected THEN 'rejected'
               WHEN j.end_reason = 'RST' THEN 'reset'
               WHEN j.final_status >= 400 THEN 'http_error'
               WHEN j.req_time IS NOT NULL AND NOT j.answered THEN 'no_response'
               WHEN j.processing_time_missing THEN 'no_response'
               WHEN j.final_status IS NOT NULL OR j.sent_bytes > 0 THEN 'ok'
               ELSE 'unknown'
           END AS outcome,
           len(j.missing) = 0 AS complete, array_to_string(j.missing, ' ') AS missing, j.flow_enis,
           CASE WHEN j.elb_line IS NOT NULL THEN j.elb_evidence || ':' || j.elb_line END AS elb_line,
           CASE WHEN j.conv_id IS NOT NULL THEN j.evidence_id || ':' || j.conv_id END AS conversation,
           coalesce(j.proxy_ip, j.elb_client_ip, CASE WHEN j.pass_through THEN j.a_addr END) AS client_ip, j.b_addr AS node_ip
    FROM judged j
    LEFT JOIN endpoints n ON n.ip = coalesce(j.b_addr, j.elb_backend_ip) AND n.kind = 'node'
    LEFT JOIN endpoints bp ON bp.ip = j.backend_ip
)
SELECT * FROM out
ORDER BY time, client;
