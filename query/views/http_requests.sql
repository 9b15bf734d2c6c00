-- name: http_requests
-- title: HTTP requests (captures)
-- description: HTTP requests reassembled from the captures with their response: request-id, status, latency, and the conversation that carried them.
-- param: request_id VARCHAR -- the request-id (or x-request-id) header
-- param: status INTEGER -- response status
-- param: min_latency_ms DOUBLE -- slower than this
-- param: node VARCHAR -- only captures from this node
SELECT q.evidence_id, q.conv_id AS stream, c.node, q.first_time, q.src_addr, q.src_port, q.dst_addr, q.dst_port,
       q.method, q.host, q.uri, q.request_id, q.x_forwarded_for, r.status, round(r.latency_ms, 3) AS latency_ms,
       q.first_frame AS request_frame, r.first_frame AS response_frame, coalesce(q.incomplete, r.incomplete) AS incomplete
FROM http_messages q
LEFT JOIN http_messages r ON r.evidence_id = q.evidence_id AND r.conv_id = q.conv_id AND r.msg_index = q.msg_index AND NOT r.is_request
LEFT JOIN tcp_conversations c ON c.evidence_id = q.evidence_id AND c.conv_id = q.conv_id
WHERE q.is_request
  AND ($request_id IS NULL OR q.request_id = $request_id)
  AND ($status IS NULL OR r.status = $status)
  AND ($min_latency_ms IS NULL OR r.latency_ms > $min_latency_ms)
  AND ($node IS NULL OR c.node = $node)
ORDER BY q.first_time, q.evidence_id, q.conv_id
