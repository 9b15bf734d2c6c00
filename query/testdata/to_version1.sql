-- Turns a case of the current schema back into what l4case with schema version 1 wrote, rows
-- kept (HTTP headers excepted): one elb_logs table for every load balancer type, headers as a
-- MAP, no header macros, no findings (version 3), no flow_conversations.pkt_local_addr
-- (version 4), no tcp_conversations offsets and history (version 5), no request_path_rows (version 6), no array_join macro (version 7). The migration tests (query, app) build their version 1 cases with it.
DROP TABLE findings;
DROP TABLE request_path_rows;
DROP MACRO array_join;
ALTER TABLE flow_conversations DROP COLUMN pkt_local_addr;
ALTER TABLE tcp_conversations DROP COLUMN first_offset;
ALTER TABLE tcp_conversations DROP COLUMN last_offset;
ALTER TABLE tcp_conversations DROP COLUMN history;
CREATE TEMP TABLE elb_logs_v2 AS SELECT * FROM elb_logs;
DROP VIEW elb_logs;
DROP TABLE elb_classic_logs;
DROP TABLE alb_logs;
DROP TABLE nlb_logs;
-- table: Elastic Load Balancing access log entries: Classic, ALB and NLB, one row per line.
CREATE TABLE elb_logs (
    evidence_id                 INTEGER NOT NULL, -- evidence file (evidence.evidence_id)
    line                        BIGINT,      -- 1-based line number in the file
    lb_type                     VARCHAR,     -- classic, alb or nlb
    type                        VARCHAR,     -- ALB request type (http, https, h2, grpcs, ws, wss) or NLB listener type (tls)
    version                     VARCHAR,     -- NLB log entry version
    time                        TIMESTAMPTZ, -- when the load balancer sent the response (Classic/ALB) or closed the connection (NLB)
    elb                         VARCHAR,     -- load balancer name or resource id
    listener                    VARCHAR,     -- NLB listener id
    client_ip                   VARCHAR,     -- client address as the load balancer saw it
    client_port                 INTEGER,     -- client port
    backend_ip                  VARCHAR,     -- registered instance / target / destination address; NULL when none
    backend_port                INTEGER,     -- backend port (the NodePort for an OpenShift router)
    request_processing_time     DOUBLE,      -- seconds from receipt to dispatch to the backend; NULL when logged as -1
    backend_processing_time     DOUBLE,      -- seconds the backend took (ALB target_processing_time); NULL when -1
    response_processing_time    DOUBLE,      -- seconds to send the response; NULL when -1
    processing_time_missing     BOOLEAN,     -- a processing time was -1: the backend was never reached or closed early
    elb_status_code             INTEGER,     -- status code the load balancer returned
    backend_status_code         INTEGER,     -- status code the backend returned (ALB target_status_code)
    received_bytes              BIGINT,      -- bytes received from the client
    sent_bytes                  BIGINT,      -- bytes sent to the client
    request                     VARCHAR,     -- request line as logged; "- - - " for TCP/SSL listeners
    method                      VARCHAR,     -- HTTP method from the request line
    url                         VARCHAR,     -- URL from the request line
    protocol                    VARCHAR,     -- HTTP version from the request line
    user_agent                  VARCHAR,     -- User-Agent
    ssl_cipher                  VARCHAR,     -- TLS cipher (NLB tls_cipher)
    ssl_protocol                VARCHAR,     -- TLS protocol (NLB tls_protocol_version)
    target_group_arn            VARCHAR,     -- ALB target group
    trace_id                    VARCHAR,     -- ALB X-Amzn-Trace-Id
    domain_name                 VARCHAR,     -- SNI domain
    chosen_cert_arn             VARCHAR,     -- certificate presented to the client
    matched_rule_priority       INTEGER,     -- ALB rule that matched
    request_creation_time       TIMESTAMPTZ, -- ALB: when the request was received
    actions_executed            VARCHAR,     -- ALB actions, comma-separated
    redirect_url                VARCHAR,     -- ALB redirect target
    error_reason                VARCHAR,     -- ALB error reason code
    target_port_list            VARCHAR,     -- ALB targets tried (ip:port, space-separated)
    target_status_code_list     VARCHAR,     -- ALB status codes of the targets tried
    classification              VARCHAR,     -- ALB desync classification
    classification_reason       VARCHAR,     -- ALB desync classification reason
    conn_trace_id               VARCHAR,     -- ALB connection traceability id (joins to connection logs)
    transformed_host            VARCHAR,     -- ALB host header after transforms
    transformed_uri             VARCHAR,     -- ALB URI after transforms
    request_transform_status    VARCHAR,     -- ALB transform status
    connection_time             DOUBLE,      -- NLB: milliseconds the connection lasted
    tls_handshake_time          DOUBLE,      -- NLB: milliseconds of the TLS handshake
    incoming_tls_alert          VARCHAR,     -- NLB: TLS alert from the client
    chosen_cert_serial          VARCHAR,     -- NLB: serial of the certificate
    tls_named_group             VARCHAR,     -- NLB: key exchange group
    alpn_fe_protocol            VARCHAR,     -- NLB: ALPN protocol with the client
    alpn_be_protocol            VARCHAR,     -- NLB: ALPN protocol with the target
    alpn_client_preference_list VARCHAR,     -- NLB: ALPN list the client offered
    tls_connection_creation_time TIMESTAMPTZ, -- NLB: when the TLS connection started
    extra                       VARCHAR[]    -- trailing fields beyond those AWS documents today, in order
);
INSERT INTO elb_logs SELECT * FROM elb_logs_v2;
DROP TABLE elb_logs_v2;
DROP MACRO http_headers;
DROP MACRO http_header_lines;
DROP MACRO http_header;
ALTER TABLE http_messages ALTER headers TYPE MAP(VARCHAR, VARCHAR) USING NULL;
UPDATE case_meta SET value = '1' WHERE key = 'schema_version';
