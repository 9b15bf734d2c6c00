-- name: elb_backends
-- title: ELB backends: latency and errors
-- description: Per backend (registered instance or target): requests, error rate, and backend processing time p50/p95/p99 in milliseconds.
-- param: from TIMESTAMPTZ -- only entries at or after this time
-- param: to TIMESTAMPTZ -- only entries before this time
SELECT coalesce(backend_ip || ':' || backend_port, '(none reached)') AS backend,
       coalesce(e.kind || ' ' || e.name, 'external') AS backend_is,
       count(*) AS requests,
       count(*) FILTER (WHERE elb_status_code >= 500 OR backend_status_code >= 500 OR processing_time_missing) AS errors,
       round(100.0 * count(*) FILTER (WHERE elb_status_code >= 500 OR backend_status_code >= 500 OR processing_time_missing) / count(*), 2) AS error_pct,
       round(1000 * quantile_cont(backend_processing_time, 0.5), 3) AS p50_ms,
       round(1000 * quantile_cont(backend_processing_time, 0.95), 3) AS p95_ms,
       round(1000 * quantile_cont(backend_processing_time, 0.99), 3) AS p99_ms
FROM elb_logs l
LEFT JOIN endpoints e ON e.ip = l.backend_ip
WHERE ($from IS NULL OR time >= $from) AND ($to IS NULL OR time < $to)
GROUP BY ALL
ORDER BY requests DESC
