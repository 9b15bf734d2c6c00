-- name: elb_clients
-- title: Load balancer clients
-- description: Who uses the service: client addresses by number of requests in the ELB access logs, with bytes and errors.
-- param: exclude VARCHAR -- an address or CIDR to leave out (your own)
-- param: limit INTEGER -- rows (default 50)
SELECT client_ip, count(*) AS requests, sum(received_bytes) AS received_bytes, sum(sent_bytes) AS sent_bytes,
       count(*) FILTER (WHERE elb_status_code >= 500 OR backend_status_code >= 500 OR processing_time_missing) AS errors,
       count(DISTINCT elb) AS load_balancers, min(time) AS first_time, max(time) AS last_time
FROM elb_logs
WHERE ($exclude IS NULL OR NOT in_cidr(client_ip, $exclude))
GROUP BY ALL
ORDER BY requests DESC, client_ip
LIMIT coalesce($limit, 50)
