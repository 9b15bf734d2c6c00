-- name: no_return_traffic
-- title: Accepted with no return traffic
-- description: TCP flows ACCEPTed one way with no flow back on the same interface: the service is not listening or not answering, or the reply is lost; peer says what the other end's interface logged.
-- param: eni VARCHAR -- network interface id
-- param: port INTEGER -- the port that did not answer
SELECT c.interface_id, c.initiated, c.client_addr AS client, c.client_port, c.server_addr AS server, c.server_port,
       coalesce(e.kind || ' ' || e.name, 'external') AS server_is,
       coalesce(c.in_packets, c.out_packets) AS packets, c.first_time, c.last_time, c.peer,
       record_refs(c.records) AS records
FROM flow_conversations c
LEFT JOIN endpoints e ON e.ip = c.server_addr
WHERE c.pattern = 'no_reply'
  AND ($eni IS NULL OR c.interface_id = $eni)
  AND ($port IS NULL OR c.server_port = $port)
ORDER BY c.first_time, c.client_addr, c.client_port
