-- name: conversations
-- title: TCP conversations (captures)
-- description: Every TCP conversation of the captures, numbered like tshark's tcp.stream per file, with handshake RTT, retransmissions, resets and how it ended.
-- param: node VARCHAR -- only captures from this node
-- param: addr VARCHAR -- an address or CIDR on either side
-- param: port INTEGER -- a port on either side
-- param: problems BOOLEAN -- only conversations with retransmissions, zero windows, resets or no end
SELECT c.evidence_id, c.conv_id AS stream, c.node, c.a_addr, c.a_port, c.b_addr, c.b_port,
       coalesce(e.kind || ' ' || e.name, 'external') AS b_is,
       c.first_time, c.last_time, round(c.handshake_rtt_ms, 3) AS rtt_ms,
       c.packets_ab + c.packets_ba AS frames, c.bytes_ab + c.bytes_ba AS bytes,
       c.retransmissions, c.zero_windows, c.resets, c.end_reason, c.saw_start
FROM tcp_conversations c
LEFT JOIN endpoints e ON e.ip = c.b_addr
WHERE ($node IS NULL OR c.node = $node)
  AND ($addr IS NULL OR in_cidr(c.a_addr, $addr) OR in_cidr(c.b_addr, $addr))
  AND ($port IS NULL OR $port IN (c.a_port, c.b_port))
  AND (NOT coalesce($problems, false) OR c.retransmissions > 0 OR c.zero_windows > 0 OR c.resets > 0 OR c.end_reason = 'none')
ORDER BY c.evidence_id, c.conv_id
