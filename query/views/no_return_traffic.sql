-- name: no_return_traffic
-- title: Accepted with no return traffic
-- description: TCP flows ACCEPTed one way with no flow back on the same interface: the service is not listening or not answering, or the reply is lost; peer says when the other end's interface rejected it.
-- param: eni VARCHAR -- network interface id
-- param: port INTEGER -- the port that did not answer
WITH c AS (
    SELECT c.*,
           CASE c.initiated WHEN 'inbound' THEN c.remote_addr ELSE c.local_addr END AS client,
           CASE c.initiated WHEN 'inbound' THEN c.remote_port ELSE c.local_port END AS client_port,
           CASE c.initiated WHEN 'inbound' THEN c.local_addr ELSE c.remote_addr END AS server,
           CASE c.initiated WHEN 'inbound' THEN c.local_port ELSE c.remote_port END AS server_port
    FROM flow_conversations c
    WHERE c.protocol = 6
      AND ((c.in_action = 'ACCEPT' AND c.out_action IS NULL) OR (c.out_action = 'ACCEPT' AND c.in_action IS NULL))
      AND ($eni IS NULL OR c.interface_id = $eni)
      AND ($port IS NULL OR (CASE c.initiated WHEN 'inbound' THEN c.local_port ELSE c.remote_port END) = $port)
)
SELECT c.interface_id, c.initiated, c.client, c.client_port, c.server, c.server_port,
       coalesce(e.kind || ' ' || e.name, 'external') AS server_is,
       coalesce(c.in_packets, c.out_packets) AS packets, c.first_time, c.last_time,
       (SELECT string_agg(p.interface_id || ' ' || CASE WHEN p.in_action = 'REJECT' THEN 'rejected it inbound'
                                                       WHEN p.out_action = 'REJECT' THEN 'rejected it outbound'
                                                       ELSE 'saw no reply either' END, '; ' ORDER BY p.interface_id)
        FROM flow_conversations p
        WHERE p.protocol = 6 AND p.interface_id <> c.interface_id
          AND least(p.local_addr, p.remote_addr) = least(c.client, c.server)
          AND greatest(p.local_addr, p.remote_addr) = greatest(c.client, c.server)
          AND ((p.local_addr = c.client AND p.local_port = c.client_port AND p.remote_port = c.server_port)
            OR (p.remote_addr = c.client AND p.remote_port = c.client_port AND p.local_port = c.server_port))
          AND p.first_time <= c.last_time + INTERVAL 120 SECOND AND p.last_time >= c.first_time - INTERVAL 120 SECOND
       ) AS peer,
       array_to_string(c.records, ' ') AS records
FROM c
LEFT JOIN endpoints e ON e.ip = c.server
ORDER BY c.first_time, c.client, c.client_port
