-- name: request_paths
-- title: Every request the case can trace
-- description: One row per request that a load balancer log line or a captured PROXY-protocol connection shows: client, node, router and backend pod, which legs the evidence holds (ELB log, flow logs on the load balancer's and the node's ENI, the node's capture, the DNAT'd copy to the router, the router's request to the backend), what is missing, and the outcome. `l4case trace --client CLIENT` (or --elb-line, --conversation) follows one.
-- param: outcome VARCHAR -- only this outcome: ok, http_error, dropped, rejected, reset, no_response, unknown
-- param: complete BOOLEAN -- only complete (true) or incomplete (false) paths
-- param: node VARCHAR -- only requests through this node (name or address)
-- param: client VARCHAR -- only this client address or CIDR
SELECT * EXCLUDE (client_ip, node_ip)
FROM request_path_rows
WHERE ($outcome IS NULL OR outcome = $outcome)
  AND ($complete IS NULL OR complete = $complete)
  AND ($node IS NULL OR node = $node OR node_ip = $node)
  AND ($client IS NULL OR in_cidr(client_ip, $client))
ORDER BY time, client
