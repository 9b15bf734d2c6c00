-- name: drops
-- title: OpFlex drops
-- description: Packets the ACI datapath dropped, per source and destination pod, table, protocol and port.
-- param: pod VARCHAR -- namespace/name, or an address, on either side
SELECT d.table_name, d.reason, d.src, coalesce(ps.namespace || '/' || ps.name, es.name, d.src) AS src_pod,
       d.dst, coalesce(pd.namespace || '/' || pd.name, ed.name, d.dst) AS dst_pod, d.proto, d.dpt,
       count(*) FILTER (WHERE d.kind = 'packet') AS packets, sum(d.event_count) FILTER (WHERE d.kind = 'event') AS events,
       min(d.time) AS first_time, max(d.time) AS last_time, any_value(d.tcp_flags) AS tcp_flags
FROM drops d
LEFT JOIN (SELECT DISTINCT ip, namespace, name FROM pods WHERE ip IS NOT NULL) ps ON ps.ip = d.src
LEFT JOIN (SELECT DISTINCT ip, namespace, name FROM pods WHERE ip IS NOT NULL) pd ON pd.ip = d.dst
LEFT JOIN endpoints es ON es.ip = d.src
LEFT JOIN endpoints ed ON ed.ip = d.dst
WHERE $pod IS NULL OR $pod IN (d.src, d.dst, src_pod, dst_pod)
GROUP BY ALL
ORDER BY packets DESC, first_time
