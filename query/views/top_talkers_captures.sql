-- name: top_talkers_captures
-- title: Top talkers (captures)
-- description: Frame bytes, frames and TCP conversations from the packet captures, per initiator, responder, pair or port.
-- param: by VARCHAR -- source (default: the initiator), destination (the responder), pair or port
-- param: node VARCHAR -- only captures from this node
-- param: limit INTEGER -- rows (default 50)
SELECT CASE coalesce($by, 'source')
         WHEN 'source' THEN a_addr WHEN 'destination' THEN b_addr
         WHEN 'pair' THEN a_addr || ' > ' || b_addr WHEN 'port' THEN 'TCP/' || b_port
       END AS talker,
       sum(bytes_ab + bytes_ba) AS bytes, sum(packets_ab + packets_ba) AS frames, count(*) AS conversations,
       count(DISTINCT node) AS nodes, min(first_time) AS first_time, max(last_time) AS last_time
FROM tcp_conversations
WHERE ($node IS NULL OR node = $node)
GROUP BY ALL
ORDER BY bytes DESC, talker
LIMIT coalesce($limit, 50)
