-- name: elb_errors
-- title: ELB errors
-- description: Access log entries that went wrong: load balancer or backend 5xx, or a processing time of -1 (the backend was never reached or closed early).
-- param: from TIMESTAMPTZ -- only entries at or after this time
-- param: to TIMESTAMPTZ -- only entries before this time
SELECT time, lb_type, elb, client_ip, client_port, backend_ip, backend_port, elb_status_code, backend_status_code,
       processing_time_missing, request_processing_time, backend_processing_time, error_reason, request
FROM elb_logs
WHERE (elb_status_code >= 500 OR backend_status_code >= 500 OR processing_time_missing)
  AND ($from IS NULL OR time >= $from) AND ($to IS NULL OR time < $to)
ORDER BY time
