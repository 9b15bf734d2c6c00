-- l4case case schema, version 1.
--
-- Every CREATE TABLE line that declares a column ends with "-- description";
-- query.Migrate turns those into COMMENT ON COLUMN so that the catalog
-- (duckdb_columns().comment) documents itself. A line "-- table: ..." right
-- before a CREATE TABLE becomes its COMMENT ON TABLE.
--
-- Conventions: addresses are VARCHAR in their canonical text form; times are
-- TIMESTAMPTZ (UTC) except packet timestamps, which keep nanoseconds; AWS field
-- names are kept with hyphens turned into underscores; "-" in a log is NULL.

-- Address helpers. An address's numeric form is a UHUGEINT in the IPv6 space
-- with IPv4 mapped into ::ffff:0:0/96, so one range test covers both families:
--   WHERE in_cidr(srcaddr, '10.0.0.0/16')  or  src_ip BETWEEN cidr_lo(c) AND cidr_hi(c)
-- They are SQL macros (not Go functions) so that a case opened in the duckdb
-- CLI, or in the sandboxed console, behaves the same.
CREATE MACRO ip4_num(a) AS
    CASE WHEN regexp_full_match(a, '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])')
    THEN 281470681743360::UHUGEINT
        + split_part(a, '.', 1)::UHUGEINT * 16777216 + split_part(a, '.', 2)::UHUGEINT * 65536
        + split_part(a, '.', 3)::UHUGEINT * 256 + split_part(a, '.', 4)::UHUGEINT
    END;
-- ip6_expand: "fe80::1" -> "fe80:0:0:0:0:0:0:1" (the :: filled to eight groups).
CREATE MACRO ip6_expand(b) AS
    trim(replace(b, '::', ':' || repeat('0:', 8 - (length(b) - length(replace(b, ':', '')))
                                              + starts_with(b, '::')::INTEGER + ends_with(b, '::')::INTEGER)), ':');
-- ip6_hex32: eight groups -> 32 hex digits (each group zero-padded to four).
CREATE MACRO ip6_hex32(e) AS
    CASE WHEN regexp_full_match(e, '([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}')
    THEN regexp_replace('000' || replace(e, ':', ':000') || ':', '[0-9a-f]*([0-9a-f]{4}):', '\1', 'g')
    END;
CREATE MACRO ip6_hexnum(h) AS
    TRY_CAST(('0x' || left(h, 16)) AS UBIGINT)::UHUGEINT * 18446744073709551616::UHUGEINT
    + TRY_CAST(('0x' || right(h, 16)) AS UBIGINT)::UHUGEINT;
CREATE MACRO ip6_num(a) AS ip6_hexnum(ip6_hex32(ip6_expand(split_part(lower(a), '%', 1))));
-- ip_num: text address to its numeric form; NULL when the text is not an address.
CREATE MACRO ip_num(a) AS CASE WHEN contains(a, ':') THEN ip6_num(a) ELSE ip4_num(a) END;
CREATE MACRO cidr_width(c) AS CASE WHEN contains(c, ':') THEN 128 ELSE 32 END;
CREATE MACRO cidr_host_bits(c) AS
    cidr_width(c) - least(coalesce(TRY_CAST(nullif(split_part(c, '/', 2), '') AS INTEGER), cidr_width(c)), cidr_width(c));
CREATE MACRO ip_block(n, h) AS CASE WHEN h >= 128 THEN 0::UHUGEINT ELSE n // (1::UHUGEINT << h::UHUGEINT) END;
-- cidr_lo, cidr_hi: first and last numeric address of CIDR block c.
CREATE MACRO cidr_lo(c) AS
    ip_block(ip_num(split_part(c, '/', 1)), cidr_host_bits(c)) * CASE WHEN cidr_host_bits(c) >= 128 THEN 0::UHUGEINT ELSE 1::UHUGEINT << cidr_host_bits(c)::UHUGEINT END;
CREATE MACRO cidr_hi(c) AS
    CASE WHEN cidr_host_bits(c) >= 128 THEN 340282366920938463463374607431768211455::UHUGEINT
    ELSE cidr_lo(c) + ((1::UHUGEINT << cidr_host_bits(c)::UHUGEINT) - 1) END;
-- in_cidr: whether address a (text) lies in CIDR block c (text), for IPv4 and IPv6.
CREATE MACRO ip_in_block(n, base, h) AS n IS NOT NULL AND base IS NOT NULL AND ip_block(n, h) = ip_block(base, h);
CREATE MACRO in_cidr(a, c) AS ip_in_block(ip_num(a), ip_num(split_part(c, '/', 1)), cidr_host_bits(c));
-- array_join: Trino's (Athena's) name for array_to_string, so that SQL written for Athena runs in the case too.
CREATE MACRO array_join(a, sep) AS array_to_string(a, sep);
-- record_refs: flow_conversations.records as text, "evidence:line" in order, space separated.
CREATE MACRO record_refs(l) AS
    array_to_string(list_transform(list_sort(l), lambda x: (x // 1099511627776)::VARCHAR || ':' || (x % 1099511627776)::VARCHAR), ' ');
-- http_header(headers, name): the value of header name (any case) in http_messages.headers; repeats joined with ", " as RFC 9110 allows.
CREATE MACRO http_header(h, name) AS
    nullif(array_to_string(regexp_extract_all(h, '(?im)^' || regexp_escape(name) || '[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$', 1), ', '), '');
-- http_headers(headers): every header of http_messages.headers as a MAP, names lower-cased, in order of first appearance, repeats joined with ", ".
CREATE MACRO http_header_lines(h) AS
    list_filter(string_split(replace(h, chr(13), ''), chr(10)), lambda l: strpos(l, ':') > 1 AND l[1] NOT IN (' ', chr(9)));
CREATE MACRO http_headers(h) AS
    map_from_entries(list_transform(
        list_filter(list_transform(http_header_lines(h), lambda l: lower(trim(split_part(l, ':', 1)))),
                    lambda k, i: list_position(list_transform(http_header_lines(h), lambda l: lower(trim(split_part(l, ':', 1)))), k) = i),
        lambda k: {'key': k, 'value': array_to_string(list_transform(
            list_filter(http_header_lines(h), lambda l: lower(trim(split_part(l, ':', 1))) = k),
            lambda l: trim(substr(l, strpos(l, ':') + 1))), ', ')}));
-- ip_proto_name: IANA protocol number to the name tshark and the AWS console show.
CREATE MACRO ip_proto_name(p) AS
    CASE p WHEN 1 THEN 'ICMP' WHEN 6 THEN 'TCP' WHEN 17 THEN 'UDP' WHEN 58 THEN 'ICMPv6'
           WHEN 47 THEN 'GRE' WHEN 50 THEN 'ESP' WHEN 132 THEN 'SCTP' ELSE CAST(p AS VARCHAR) END;

-- table: key/value facts about the case itself (schema_version, name, created).
CREATE TABLE case_meta (
    key   VARCHAR PRIMARY KEY, -- fact name: schema_version, name, created, tool_version
    value VARCHAR              -- fact value as text
);

-- table: one row per evidence file imported into the case (chain of custody).
CREATE TABLE evidence (
    evidence_id  INTEGER PRIMARY KEY, -- evidence number, 1-based, in import order
    kind         VARCHAR NOT NULL,    -- importer that read it: flowlog, elblog, opflex, pcap, ec2, oc, ...
    name         VARCHAR NOT NULL,    -- path of the file as given to import (relative to the folder imported)
    stored       VARCHAR,             -- path of the read-only copy inside the case folder
    size         BIGINT,              -- size in bytes of the file as imported (compressed if it was)
    sha256       VARCHAR NOT NULL,    -- SHA-256 of the file's bytes, lower-case hex
    source_mtime TIMESTAMPTZ,         -- modification time of the original file (when a snapshot was taken)
    imported_at  TIMESTAMPTZ,         -- when l4case imported it
    rows         BIGINT,              -- records imported from it
    rejected     BIGINT,              -- records rejected (see ingest_errors)
    format       VARCHAR,             -- what the detector recognised: e.g. flow log v5 (header), pcap linux-sll2
    node         VARCHAR,             -- cluster node a capture was taken on (pcap/NODE/... or --node)
    first_time   TIMESTAMPTZ,         -- earliest record time in the file
    last_time    TIMESTAMPTZ          -- latest record time in the file
);

-- table: records that could not be parsed; nothing is dropped silently.
CREATE TABLE ingest_errors (
    evidence_id    INTEGER,  -- evidence file (evidence.evidence_id)
    file           VARCHAR,  -- evidence file name as given to import
    line_or_offset BIGINT,   -- 1-based line number, or byte offset / packet number (see unit)
    unit           VARCHAR,  -- what line_or_offset counts: line, byte, packet
    raw            VARCHAR,  -- the offending record as read (truncated to 4 KiB)
    reason         VARCHAR   -- why it was rejected
);

-- table: non-fatal findings while importing, counted once per file and message.
CREATE TABLE ingest_notes (
    evidence_id INTEGER, -- evidence file (evidence.evidence_id)
    file        VARCHAR, -- evidence file name as given to import
    message     VARCHAR, -- what was noticed, e.g. an unknown flow-log field kept in extra
    count       BIGINT   -- how many records it applied to
);

-- table: VPC flow log records, any version 2-11 and any custom field order.
CREATE TABLE flow_logs (
    evidence_id                INTEGER NOT NULL, -- evidence file (evidence.evidence_id)
    line                       BIGINT,      -- 1-based line (or JSON event) number in the file
    version                    INTEGER,     -- flow log version of the record format
    account_id                 VARCHAR,     -- AWS account that owns the interface
    interface_id               VARCHAR,     -- network interface (ENI) the traffic was recorded on
    srcaddr                    VARCHAR,     -- source address (IPv4 or IPv6) of incoming traffic, or of the interface for outgoing
    dstaddr                    VARCHAR,     -- destination address
    srcport                    INTEGER,     -- source port
    dstport                    INTEGER,     -- destination port
    protocol                   INTEGER,     -- IANA protocol number (6 TCP, 17 UDP, 1 ICMP)
    packets                    BIGINT,      -- packets in the flow during the window
    bytes                      BIGINT,      -- bytes in the flow during the window
    start_time                 TIMESTAMPTZ, -- first packet of the window (field start)
    end_time                   TIMESTAMPTZ, -- last packet of the window (field end)
    action                     VARCHAR,     -- ACCEPT or REJECT (by security group or network ACL)
    log_status                 VARCHAR,     -- OK, NODATA or SKIPDATA
    vpc_id                     VARCHAR,     -- VPC of the interface (v3)
    subnet_id                  VARCHAR,     -- subnet of the interface (v3)
    instance_id                VARCHAR,     -- instance the interface is attached to (v3)
    tcp_flags                  INTEGER,     -- OR of TCP flags seen in the window: FIN 1, SYN 2, RST 4, ACK 16, SYN-ACK 18 (v3)
    type                       VARCHAR,     -- IPv4, IPv6 or EFA (v3)
    pkt_srcaddr                VARCHAR,     -- packet-level source address, differs from srcaddr behind NAT (v3)
    pkt_dstaddr                VARCHAR,     -- packet-level destination address (v3)
    region                     VARCHAR,     -- region of the interface (v4)
    az_id                      VARCHAR,     -- availability zone id (v4)
    sublocation_type           VARCHAR,     -- wavelength, outpost or localzone (v4)
    sublocation_id             VARCHAR,     -- id of the sublocation (v4)
    pkt_src_aws_service        VARCHAR,     -- AWS service owning pkt_srcaddr (v5)
    pkt_dst_aws_service        VARCHAR,     -- AWS service owning pkt_dstaddr (v5)
    flow_direction             VARCHAR,     -- ingress or egress relative to the interface (v5)
    traffic_path               INTEGER,     -- egress path: 1 same VPC ... 8 transit gateway (v5)
    ecs_cluster_arn            VARCHAR,     -- ECS cluster ARN (v7)
    ecs_cluster_name           VARCHAR,     -- ECS cluster name (v7)
    ecs_container_instance_arn VARCHAR,     -- ECS container instance ARN (v7)
    ecs_container_instance_id  VARCHAR,     -- ECS container instance id (v7)
    ecs_container_id           VARCHAR,     -- Docker id of the first container of the task (v7)
    ecs_second_container_id    VARCHAR,     -- Docker id of the second container (v7)
    ecs_service_name           VARCHAR,     -- ECS service name (v7)
    ecs_task_definition_arn    VARCHAR,     -- ECS task definition ARN (v7)
    ecs_task_arn               VARCHAR,     -- ECS task ARN (v7)
    ecs_task_id                VARCHAR,     -- ECS task id (v7)
    reject_reason              VARCHAR,     -- why the traffic was rejected when not by SG/NACL, e.g. BPA (v8)
    resource_id                VARCHAR,     -- resource the record is about, e.g. a NAT gateway (v10)
    encryption_status          INTEGER,     -- 0 not encrypted, 1 Nitro-encrypted, 2 in-app, 3 both (v10)
    extra                      MAP(VARCHAR, VARCHAR), -- fields this l4case does not know yet, by AWS name; never dropped
    src_ip                     UHUGEINT,    -- srcaddr as a number (IPv4 mapped into ::ffff:0:0/96): src_ip BETWEEN cidr_lo(c) AND cidr_hi(c)
    dst_ip                     UHUGEINT,    -- dstaddr as a number, likewise
    duplicate                  BOOLEAN      -- true when another flow log watching the same ENI is the one analysed (flow_log_sources); set after each import
);

-- table: flow-log subscriptions from describe-flow-logs: how header-less files are formatted.
CREATE TABLE flow_log_configs (
    evidence_id    INTEGER,     -- evidence file (evidence.evidence_id)
    flow_log_id    VARCHAR,     -- fl-... id; appears in S3 object names
    resource_id    VARCHAR,     -- VPC, subnet or ENI the flow log watches
    traffic_type   VARCHAR,     -- ACCEPT, REJECT or ALL
    log_format     VARCHAR,     -- the ${field} format string
    destination    VARCHAR,     -- S3 bucket ARN or CloudWatch log group
    creation_time  TIMESTAMPTZ  -- when the flow log was created
);

-- Access logs are stored one table per load balancer type, each with only the fields that type
-- logs: DuckDB stores a column that is NULL on every row at nearly the cost of a full one, and a
-- single 54-column table cost three times as much to fill (BENCHMARKS.md). Query elb_logs, the
-- view that unions them.
-- table: Classic Load Balancer access log entries (HTTP/HTTPS and TCP/SSL listeners), one row per line; read through the elb_logs view.
CREATE TABLE elb_classic_logs (
    evidence_id                 INTEGER NOT NULL, -- evidence file (evidence.evidence_id)
    line                        BIGINT,       -- 1-based line number in the file
    time                        TIMESTAMPTZ,  -- when the load balancer sent the response (Classic/ALB) or closed the connection (NLB)
    elb                         VARCHAR,      -- load balancer name or resource id
    client_ip                   VARCHAR,      -- client address as the load balancer saw it
    client_port                 INTEGER,      -- client port
    backend_ip                  VARCHAR,      -- registered instance / target / destination address; NULL when none
    backend_port                INTEGER,      -- backend port (the NodePort for an OpenShift router)
    request_processing_time     DOUBLE,       -- seconds from receipt to dispatch to the backend; NULL when logged as -1
    backend_processing_time     DOUBLE,       -- seconds the backend took (ALB target_processing_time); NULL when -1
    response_processing_time    DOUBLE,       -- seconds to send the response; NULL when -1
    processing_time_missing     BOOLEAN,      -- a processing time was -1: the backend was never reached or closed early
    elb_status_code             INTEGER,      -- status code the load balancer returned
    backend_status_code         INTEGER,      -- status code the backend returned (ALB target_status_code)
    received_bytes              BIGINT,       -- bytes received from the client
    sent_bytes                  BIGINT,       -- bytes sent to the client
    request                     VARCHAR,      -- request line as logged; "- - - " for TCP/SSL listeners
    method                      VARCHAR,      -- HTTP method from the request line
    url                         VARCHAR,      -- URL from the request line
    protocol                    VARCHAR,      -- HTTP version from the request line
    user_agent                  VARCHAR,      -- User-Agent
    ssl_cipher                  VARCHAR,      -- TLS cipher (NLB tls_cipher)
    ssl_protocol                VARCHAR,      -- TLS protocol (NLB tls_protocol_version)
    extra                       VARCHAR[]     -- trailing fields beyond those AWS documents today, in order
);

-- table: Application Load Balancer access log entries, one row per line; read through the elb_logs view.
CREATE TABLE alb_logs (
    evidence_id                 INTEGER NOT NULL, -- evidence file (evidence.evidence_id)
    line                        BIGINT,       -- 1-based line number in the file
    type                        VARCHAR,      -- ALB request type (http, https, h2, grpcs, ws, wss) or NLB listener type (tls)
    time                        TIMESTAMPTZ,  -- when the load balancer sent the response (Classic/ALB) or closed the connection (NLB)
    elb                         VARCHAR,      -- load balancer name or resource id
    client_ip                   VARCHAR,      -- client address as the load balancer saw it
    client_port                 INTEGER,      -- client port
    backend_ip                  VARCHAR,      -- registered instance / target / destination address; NULL when none
    backend_port                INTEGER,      -- backend port (the NodePort for an OpenShift router)
    request_processing_time     DOUBLE,       -- seconds from receipt to dispatch to the backend; NULL when logged as -1
    backend_processing_time     DOUBLE,       -- seconds the backend took (ALB target_processing_time); NULL when -1
    response_processing_time    DOUBLE,       -- seconds to send the response; NULL when -1
    processing_time_missing     BOOLEAN,      -- a processing time was -1: the backend was never reached or closed early
    elb_status_code             INTEGER,      -- status code the load balancer returned
    backend_status_code         INTEGER,      -- status code the backend returned (ALB target_status_code)
    received_bytes              BIGINT,       -- bytes received from the client
    sent_bytes                  BIGINT,       -- bytes sent to the client
    request                     VARCHAR,      -- request line as logged; "- - - " for TCP/SSL listeners
    method                      VARCHAR,      -- HTTP method from the request line
    url                         VARCHAR,      -- URL from the request line
    protocol                    VARCHAR,      -- HTTP version from the request line
    user_agent                  VARCHAR,      -- User-Agent
    ssl_cipher                  VARCHAR,      -- TLS cipher (NLB tls_cipher)
    ssl_protocol                VARCHAR,      -- TLS protocol (NLB tls_protocol_version)
    target_group_arn            VARCHAR,      -- ALB target group
    trace_id                    VARCHAR,      -- ALB X-Amzn-Trace-Id
    domain_name                 VARCHAR,      -- SNI domain
    chosen_cert_arn             VARCHAR,      -- certificate presented to the client
    matched_rule_priority       INTEGER,      -- ALB rule that matched
    request_creation_time       TIMESTAMPTZ,  -- ALB: when the request was received
    actions_executed            VARCHAR,      -- ALB actions, comma-separated
    redirect_url                VARCHAR,      -- ALB redirect target
    error_reason                VARCHAR,      -- ALB error reason code
    target_port_list            VARCHAR,      -- ALB targets tried (ip:port, space-separated)
    target_status_code_list     VARCHAR,      -- ALB status codes of the targets tried
    classification              VARCHAR,      -- ALB desync classification
    classification_reason       VARCHAR,      -- ALB desync classification reason
    conn_trace_id               VARCHAR,      -- ALB connection traceability id (joins to connection logs)
    transformed_host            VARCHAR,      -- ALB host header after transforms
    transformed_uri             VARCHAR,      -- ALB URI after transforms
    request_transform_status    VARCHAR,      -- ALB transform status
    extra                       VARCHAR[]     -- trailing fields beyond those AWS documents today, in order
);

-- table: Network Load Balancer (TLS listener) access log entries, one row per line; read through the elb_logs view.
CREATE TABLE nlb_logs (
    evidence_id                 INTEGER NOT NULL, -- evidence file (evidence.evidence_id)
    line                        BIGINT,       -- 1-based line number in the file
    type                        VARCHAR,      -- ALB request type (http, https, h2, grpcs, ws, wss) or NLB listener type (tls)
    version                     VARCHAR,      -- NLB log entry version
    time                        TIMESTAMPTZ,  -- when the load balancer sent the response (Classic/ALB) or closed the connection (NLB)
    elb                         VARCHAR,      -- load balancer name or resource id
    listener                    VARCHAR,      -- NLB listener id
    client_ip                   VARCHAR,      -- client address as the load balancer saw it
    client_port                 INTEGER,      -- client port
    backend_ip                  VARCHAR,      -- registered instance / target / destination address; NULL when none
    backend_port                INTEGER,      -- backend port (the NodePort for an OpenShift router)
    connection_time             DOUBLE,       -- NLB: milliseconds the connection lasted
    tls_handshake_time          DOUBLE,       -- NLB: milliseconds of the TLS handshake
    received_bytes              BIGINT,       -- bytes received from the client
    sent_bytes                  BIGINT,       -- bytes sent to the client
    incoming_tls_alert          VARCHAR,      -- NLB: TLS alert from the client
    chosen_cert_arn             VARCHAR,      -- certificate presented to the client
    chosen_cert_serial          VARCHAR,      -- NLB: serial of the certificate
    ssl_cipher                  VARCHAR,      -- TLS cipher (NLB tls_cipher)
    ssl_protocol                VARCHAR,      -- TLS protocol (NLB tls_protocol_version)
    tls_named_group             VARCHAR,      -- NLB: key exchange group
    domain_name                 VARCHAR,      -- SNI domain
    alpn_fe_protocol            VARCHAR,      -- NLB: ALPN protocol with the client
    alpn_be_protocol            VARCHAR,      -- NLB: ALPN protocol with the target
    alpn_client_preference_list VARCHAR,      -- NLB: ALPN list the client offered
    tls_connection_creation_time TIMESTAMPTZ, -- NLB: when the TLS connection started
    extra                       VARCHAR[]     -- trailing fields beyond those AWS documents today, in order
);

-- table: packets dropped by Cisco ACI OpFlex (opflex-agent drop log) and the pod events it raises.
CREATE TABLE drops (
    evidence_id  INTEGER NOT NULL, -- evidence file (evidence.evidence_id)
    line         BIGINT,      -- 1-based line number in the file
    kind         VARCHAR,     -- packet (opflex-agent log line) or event (pod event line)
    time         TIMESTAMPTZ, -- when the agent logged the drop; NULL for events, whose age is relative
    level        VARCHAR,     -- log level (info, ...)
    source       VARCHAR,     -- code location that logged it, e.g. ovs/PacketLogHandler.cpp:262:parseLog
    table_name   VARCHAR,     -- OpenFlow table that dropped it, e.g. Acc-SEC_GROUP_IN_TABLE, Int-PORT_SECURITY_TABLE
    reason       VARCHAR,     -- MISS, or the event reason (Security Drop)
    smac         VARCHAR,     -- source MAC
    dmac         VARCHAR,     -- destination MAC
    ethertype    VARCHAR,     -- IPv4, IPv6, ...
    src          VARCHAR,     -- source address
    dst          VARCHAR,     -- destination address (or NAMESPACE/POD in events)
    ip_len       INTEGER,     -- IP total length
    dscp         INTEGER,     -- DSCP
    ttl          INTEGER,     -- TTL / hop limit
    ip_id        BIGINT,      -- IP identification
    ip_flags     INTEGER,     -- IP flags
    frag         INTEGER,     -- fragment offset
    proto        VARCHAR,     -- TCP, UDP, ICMP, ...
    spt          INTEGER,     -- source port
    dpt          INTEGER,     -- destination port
    seq          BIGINT,      -- TCP sequence number
    ack          BIGINT,      -- TCP acknowledgment number
    tcp_window   INTEGER,     -- TCP window
    tcp_flags    VARCHAR,     -- TCP flags as logged (SYN, ACK, ...)
    icmp_type    INTEGER,     -- ICMP type
    icmp_code    INTEGER,     -- ICMP code
    pod_namespace VARCHAR,    -- events: namespace of the pod the event was posted to
    pod_name     VARCHAR,     -- events: pod the event was posted to
    event_count  INTEGER,     -- events: how many times it repeated (x3)
    fields       MAP(VARCHAR, VARCHAR) -- KEY=VALUE pairs without a column of their own (URGP, LEN_2 = TCP header, ICMP ID_2/SEQ, unknown keys)
);

-- table: elastic network interfaces (describe-network-interfaces).
CREATE TABLE enis (
    evidence_id          INTEGER,   -- evidence file (evidence.evidence_id)
    network_interface_id VARCHAR,   -- eni-...
    description          VARCHAR,   -- description; "ELB name" for Classic ELB interfaces
    interface_type       VARCHAR,   -- interface, network_load_balancer, nat_gateway, ...
    status               VARCHAR,   -- in-use, available
    vpc_id               VARCHAR,   -- VPC
    subnet_id            VARCHAR,   -- subnet (and so the network ACL that applies)
    availability_zone    VARCHAR,   -- availability zone
    private_ip           VARCHAR,   -- primary private IPv4 address
    private_ips          VARCHAR[], -- every private address (IPv4 and IPv6)
    public_ip            VARCHAR,   -- associated public IPv4 address
    mac_address          VARCHAR,   -- MAC address
    owner_id             VARCHAR,   -- owning account
    requester_id         VARCHAR,   -- service that created it (amazon-elb, ...)
    requester_managed    BOOLEAN,   -- created by an AWS service
    instance_id          VARCHAR,   -- attached instance
    security_group_ids   VARCHAR[], -- security groups applied to the interface
    elb_name             VARCHAR    -- load balancer it belongs to, from the description "ELB name" or "ELB app/name/id"
);

-- table: security groups (describe-security-groups).
CREATE TABLE security_groups (
    evidence_id INTEGER, -- evidence file (evidence.evidence_id)
    group_id    VARCHAR, -- sg-...
    group_name  VARCHAR, -- name
    description VARCHAR, -- description
    vpc_id      VARCHAR, -- VPC
    owner_id    VARCHAR  -- owning account
);

-- table: security group rules, one row per permission and source (describe-security-groups or -rules).
CREATE TABLE sg_rules (
    evidence_id         INTEGER, -- evidence file (evidence.evidence_id)
    group_id            VARCHAR, -- sg-... the rule belongs to
    rule_id             VARCHAR, -- sgr-... when known
    direction           VARCHAR, -- ingress or egress
    ip_protocol         VARCHAR, -- as AWS gives it: tcp, udp, icmp, -1 (all), or a number
    protocol            INTEGER, -- IANA number; NULL means all protocols
    from_port           INTEGER, -- first port (ICMP type); NULL or -1 means all
    to_port             INTEGER, -- last port (ICMP code); NULL or -1 means all
    cidr                VARCHAR, -- IPv4 or IPv6 CIDR the rule allows
    prefix_list_id      VARCHAR, -- managed prefix list the rule allows
    referenced_group_id VARCHAR, -- security group the rule allows
    description         VARCHAR  -- rule description
);

-- table: network ACLs (describe-network-acls).
CREATE TABLE network_acls (
    evidence_id    INTEGER,   -- evidence file (evidence.evidence_id)
    network_acl_id VARCHAR,   -- acl-...
    vpc_id         VARCHAR,   -- VPC
    is_default     BOOLEAN,   -- the VPC's default ACL
    owner_id       VARCHAR,   -- owning account
    subnet_ids     VARCHAR[]  -- subnets associated with it
);

-- table: network ACL entries, evaluated in rule_number order, first match wins, then the * deny.
CREATE TABLE nacl_entries (
    evidence_id    INTEGER, -- evidence file (evidence.evidence_id)
    network_acl_id VARCHAR, -- acl-...
    rule_number    INTEGER, -- evaluation order; 32767 is the implicit * rule
    egress         BOOLEAN, -- true for outbound rules
    protocol       VARCHAR, -- as AWS gives it: -1 (all) or a number
    protocol_num   INTEGER, -- IANA number; NULL means all
    rule_action    VARCHAR, -- allow or deny
    cidr           VARCHAR, -- IPv4 or IPv6 CIDR matched
    port_from      INTEGER, -- first port; NULL means all
    port_to        INTEGER, -- last port; NULL means all
    icmp_type      INTEGER, -- ICMP type; -1 all
    icmp_code      INTEGER  -- ICMP code; -1 all
);

-- table: subnets (describe-subnets).
CREATE TABLE subnets (
    evidence_id       INTEGER, -- evidence file (evidence.evidence_id)
    subnet_id         VARCHAR, -- subnet-...
    vpc_id            VARCHAR, -- VPC
    cidr              VARCHAR, -- IPv4 CIDR
    ipv6_cidrs        VARCHAR[], -- IPv6 CIDRs
    availability_zone VARCHAR, -- availability zone
    name              VARCHAR  -- Name tag
);

-- table: pods (oc get pods -A -o wide, or -o json).
CREATE TABLE pods (
    evidence_id     INTEGER, -- evidence file (evidence.evidence_id)
    namespace       VARCHAR, -- namespace
    name            VARCHAR, -- pod name
    ready           VARCHAR, -- ready containers, e.g. 1/1
    status          VARCHAR, -- phase or reason: Running, CrashLoopBackOff, ...
    restarts        VARCHAR, -- restarts as printed, e.g. "1 (20h ago)"
    age             VARCHAR, -- age as printed
    ip              VARCHAR, -- pod IP
    node            VARCHAR, -- node it runs on
    nominated_node  VARCHAR, -- nominated node
    readiness_gates VARCHAR, -- readiness gates
    labels          MAP(VARCHAR, VARCHAR) -- labels (from -o json)
);

-- table: nodes (oc get nodes -o wide).
CREATE TABLE nodes (
    evidence_id       INTEGER, -- evidence file (evidence.evidence_id)
    name              VARCHAR, -- node name
    status            VARCHAR, -- Ready, NotReady, ...
    roles             VARCHAR, -- roles, e.g. worker
    age               VARCHAR, -- age as printed
    version           VARCHAR, -- kubelet version
    internal_ip       VARCHAR, -- node address in the VPC
    external_ip       VARCHAR, -- external address
    os_image          VARCHAR, -- OS image
    kernel_version    VARCHAR, -- kernel
    container_runtime VARCHAR  -- container runtime
);

-- table: capture interfaces: pcapng interface blocks, SLL2 interface indexes, link types.
CREATE TABLE capture_interfaces (
    evidence_id INTEGER, -- evidence file (evidence.evidence_id)
    ifindex     INTEGER, -- interface index as packets.ifindex gives it
    name        VARCHAR, -- interface name when the capture names it
    link_type   VARCHAR, -- link-layer type: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL
    snaplen     INTEGER, -- snapshot length
    description VARCHAR  -- interface description or comment
);

-- table: dictionary of the addresses of each capture; packet_data refers to it by id.
CREATE TABLE addresses (
    evidence_id USMALLINT, -- capture (evidence.evidence_id)
    addr_id     UINTEGER,  -- id used by packet_data.src_id/dst_id of that capture
    addr        VARCHAR    -- the address as text
);

-- table: comments a pcapng capture carries (packet comments, section and interface comments).
CREATE TABLE capture_comments (
    evidence_id INTEGER, -- capture (evidence.evidence_id)
    frame       UINTEGER, -- frame the comment is on; NULL for section and interface comments
    comment     VARCHAR  -- the comment text
);

-- table: one row per captured frame, for captures imported with --packets all; compact, so read it through the packets view. Any capture's packets: capture_packets(evidence_id, stream).
CREATE TABLE packet_data (
    evidence_id  USMALLINT,   -- evidence file (evidence.evidence_id)
    frame        UINTEGER,    -- frame number, 1-based, as tshark counts
    ts           TIMESTAMP_NS, -- capture time, UTC, nanoseconds
    ifindex      INTEGER,     -- interface index (SLL2, pcapng), NULL when the link type has none
    pkttype      UTINYINT,    -- Linux cooked packet type: 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing
    vlan         USMALLINT,   -- 802.1Q VLAN id (the inner tag of QinQ)
    ip_version   UTINYINT,    -- 4 or 6; NULL when not IP
    src_id       UINTEGER,    -- source address (addresses.addr_id)
    dst_id       UINTEGER,    -- destination address (addresses.addr_id)
    proto        UTINYINT,    -- IP protocol number
    sport        USMALLINT,   -- TCP/UDP source port
    dport        USMALLINT,   -- TCP/UDP destination port
    ip_id        UINTEGER,    -- IPv4 identification (IPv6: flow label)
    ttl          UTINYINT,    -- TTL / hop limit
    frag         UTINYINT,    -- 0 not a fragment, 1 first fragment, 2 later fragment
    tcp_flags    USMALLINT,   -- TCP flags: FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128, NS 256
    seq          UINTEGER,    -- TCP sequence number (absolute)
    ack          UINTEGER,    -- TCP acknowledgment number (absolute)
    win          USMALLINT,   -- TCP window as sent (unscaled)
    payload_len  UINTEGER,    -- transport payload bytes on the wire (by IP length, even if snaplen cut it)
    frame_len    UINTEGER,    -- frame length on the wire
    cap_len      UINTEGER,    -- bytes captured
    icmp_type    UTINYINT,    -- ICMP/ICMPv6 type
    icmp_code    UTINYINT,    -- ICMP/ICMPv6 code
    conv_id      UINTEGER,    -- TCP conversation (tcp_conversations.conv_id), as tshark's tcp.stream
    truncated    BOOLEAN,     -- snaplen cut the packet: payload bytes beyond cap_len were not seen
    decode_error VARCHAR      -- why decoding stopped early; what was decoded is still kept
);

-- table: one row per TCP connection per capture, numbered like tshark's tcp.stream.
CREATE TABLE tcp_conversations (
    evidence_id     INTEGER,     -- evidence file (evidence.evidence_id)
    conv_id         UINTEGER,    -- stream index in the capture, 0-based, in order of first packet (tcp.stream)
    node            VARCHAR,     -- node the capture was taken on
    a_addr          VARCHAR,     -- initiator address (the SYN sender; else the first packet's source)
    a_port          INTEGER,     -- initiator port
    b_addr          VARCHAR,     -- responder address
    b_port          INTEGER,     -- responder port
    first_time      TIMESTAMPTZ, -- first packet
    last_time       TIMESTAMPTZ, -- last packet
    first_frame     UINTEGER,    -- frame number of the first packet
    last_frame      UINTEGER,    -- frame number of the last packet
    syn_time        TIMESTAMPTZ, -- SYN
    synack_time     TIMESTAMPTZ, -- SYN-ACK
    ack_time        TIMESTAMPTZ, -- ACK completing the handshake
    handshake_rtt_ms DOUBLE,     -- SYN to ACK, milliseconds
    isn_a           UINTEGER,    -- initiator's initial sequence number (same across NAT: joins captures)
    isn_b           UINTEGER,    -- responder's initial sequence number
    packets_ab      BIGINT,      -- frames a -> b
    bytes_ab        BIGINT,      -- frame bytes a -> b (as tshark's conv table)
    payload_ab      BIGINT,      -- TCP payload bytes a -> b
    packets_ba      BIGINT,      -- frames b -> a
    bytes_ba        BIGINT,      -- frame bytes b -> a
    payload_ba      BIGINT,      -- TCP payload bytes b -> a
    retransmissions BIGINT,      -- segments whose data had been sent before
    zero_windows    BIGINT,      -- segments advertising a zero window
    resets          BIGINT,      -- RST segments
    end_reason      VARCHAR,     -- FIN (both sides closed), RST, half-closed, or none (still open when the capture ended)
    saw_start       BOOLEAN,     -- the capture saw the SYN
    first_offset    UBIGINT,     -- byte offset of the first packet's record in the capture file: where its packets are read from
    last_offset     UBIGINT,     -- byte offset of the last packet's record
    history         VARCHAR      -- Zeek conn.log-style history: S SYN, H SYN-ACK, A pure ACK, D data, F FIN, R RST, T retransmission, W zero window; upper case from a, lower case from b, each letter once
);

-- table: HTTP/1.x requests and responses reassembled from TCP conversations.
CREATE TABLE http_messages (
    evidence_id      INTEGER,     -- evidence file (evidence.evidence_id)
    conv_id          UINTEGER,    -- TCP conversation (tcp_conversations.conv_id)
    msg_index        INTEGER,     -- 0-based index of the request/response pair in the conversation
    is_request       BOOLEAN,     -- request (true) or response (false)
    first_time       TIMESTAMPTZ, -- first byte of the message
    last_time        TIMESTAMPTZ, -- last byte of the message
    first_frame      UINTEGER,    -- frame holding the first byte
    last_frame       UINTEGER,    -- frame holding the last byte
    src_addr         VARCHAR,     -- sender address
    src_port         INTEGER,     -- sender port
    dst_addr         VARCHAR,     -- receiver address
    dst_port         INTEGER,     -- receiver port
    method           VARCHAR,     -- request method
    uri              VARCHAR,     -- request target
    version          VARCHAR,     -- HTTP/1.0 or HTTP/1.1
    host             VARCHAR,     -- Host header
    status           INTEGER,     -- response status code
    reason           VARCHAR,     -- response reason phrase
    content_length   BIGINT,      -- Content-Length header
    body_bytes       BIGINT,      -- body bytes seen
    headers          VARCHAR,     -- the header lines as captured (order, spelling and repeats kept); http_headers(headers) is them as a map, http_header(headers, name) one of them
    request_id       VARCHAR,     -- request-id or x-request-id header
    x_forwarded_for  VARCHAR,     -- X-Forwarded-For header
    x_amzn_trace_id  VARCHAR,     -- X-Amzn-Trace-Id header
    user_agent       VARCHAR,     -- User-Agent header
    latency_ms       DOUBLE,      -- responses: milliseconds from the request's last byte to the response's first byte
    incomplete       VARCHAR      -- why the message is incomplete: gap (bytes missing), truncated, eof; NULL when whole
);

-- table: PROXY protocol headers (v1 text, v2 binary) opening a TCP conversation.
CREATE TABLE proxy_headers (
    evidence_id INTEGER,     -- evidence file (evidence.evidence_id)
    conv_id     UINTEGER,    -- TCP conversation (tcp_conversations.conv_id)
    frame       UINTEGER,    -- frame holding the header
    time        TIMESTAMPTZ, -- when it was sent
    version     INTEGER,     -- 1 or 2
    command     VARCHAR,     -- PROXY or LOCAL
    family      VARCHAR,     -- TCP4, TCP6, UDP4, UDP6, UNIX, UNKNOWN
    src_addr    VARCHAR,     -- original client address (what the ELB logs as client)
    src_port    INTEGER,     -- original client port
    dst_addr    VARCHAR,     -- address the client connected to
    dst_port    INTEGER,     -- port the client connected to
    vpce_id     VARCHAR      -- AWS TLV 0xEA: VPC endpoint id, when present
);

-- table: which flow log l4case analyses for each network interface, derived after each import. Several flow logs may watch one ENI (the default format and a custom one); their records describe the same packets, so the views read one of them per ENI: the richest format, then the most records.
CREATE TABLE flow_log_sources (
    interface_id   VARCHAR,     -- ENI the records are from ('' for records without interface-id)
    flow_log_id    VARCHAR,     -- fl-... id from the file name, or evidence:N when the name has none
    version        INTEGER,     -- highest record version of that flow log on that ENI
    records        BIGINT,      -- its records on that ENI
    first_time     TIMESTAMPTZ, -- earliest record start
    last_time      TIMESTAMPTZ, -- latest record end
    chosen         BOOLEAN,     -- whether the views read this flow log for this ENI
    evidence_ids   INTEGER[]    -- the evidence files holding those records
);

-- table: findings: rows, connections and traces an engineer bookmarked with a note; they travel inside a .l4case.
CREATE TABLE findings (
    finding_id INTEGER PRIMARY KEY, -- finding number, 1-based, in the order they were made
    created    TIMESTAMPTZ,         -- when it was made
    author     VARCHAR,             -- who made it (the user name of the machine it was made on)
    kind       VARCHAR,             -- what it points at: trace, row, note
    ref        VARCHAR,             -- how to find it again, e.g. "request-id abc" (l4case trace) or "view rejects"
    title      VARCHAR,             -- one line
    note       VARCHAR,             -- the engineer's words
    data       VARCHAR              -- what was seen: the row as JSON (column: value), or the trace's outcome
);

-- table: every request the case can trace, joined across captures, ELB logs, flow logs and drops after each import; the request_paths view reads it.
CREATE TABLE request_path_rows (
    time          TIMESTAMPTZ, -- the request's first sign: its connection's first packet or its ELB line, whichever is earlier
    request_id    VARCHAR,     -- the request-id header of the request, when it had one
    client        VARCHAR,     -- the client as ip:port: from the PROXY header, else the ELB line, else the connection (a pass-through load balancer)
    node          VARCHAR,     -- the node's name (inventory) or address
    lb            VARCHAR,     -- the load balancer's end of the connection to the node, ip:port
    router        VARCHAR,     -- the router pod's address after kube-proxy's DNAT, ip:port
    backend       VARCHAR,     -- the backend pod the router sent the request to, ip:port
    backend_pod   VARCHAR,     -- its name in the inventory
    method        VARCHAR,     -- the HTTP method
    uri           VARCHAR,     -- the request target
    status        INTEGER,     -- the HTTP status: captured, else the ELB's, else the backend's
    outcome       VARCHAR,     -- ok, http_error, dropped, rejected, reset, no_response, unknown
    complete      BOOLEAN,     -- every leg the evidence could hold is there
    missing       VARCHAR,     -- the legs missing, space separated: elb_log flow_log capture dnat backend
    flow_enis     BIGINT,      -- how many ENIs' flow logs saw the load balancer's connection to the node
    elb_line      VARCHAR,     -- the ELB access log line as evidence:line
    conversation  VARCHAR,     -- the captured connection to the node as evidence:stream
    client_ip     VARCHAR,     -- the client's address alone, for the client filter
    node_ip       VARCHAR      -- the node's address alone, for the node filter
);

-- table: flow log records paired into conversations: both directions of a 5-tuple on one ENI, derived after each import.
CREATE TABLE flow_conversations (
    conv_id        BIGINT,      -- the smallest of its record references (see records): unique, and stable when the table is derived again
    interface_id   VARCHAR,     -- ENI the records are from
    protocol       INTEGER,     -- IANA protocol number
    local_addr     VARCHAR,     -- the ENI's address in the conversation
    local_port     INTEGER,     -- the ENI's port
    remote_addr    VARCHAR,     -- the other end
    remote_port    INTEGER,     -- the other end's port
    remote_ip      UHUGEINT,    -- remote_addr as a number (see ip_num), for CIDR tests against rules
    client_addr    VARCHAR,     -- the end that opened it (remote when initiated inbound, local when outbound)
    client_port    INTEGER,     -- its port
    server_addr    VARCHAR,     -- the end it was opened to
    server_port    INTEGER,     -- the service port
    first_time     TIMESTAMPTZ, -- earliest record start
    last_time      TIMESTAMPTZ, -- latest record end
    in_action      VARCHAR,     -- remote -> local: ACCEPT, REJECT (if any record was), or NULL when no record that way
    out_action     VARCHAR,     -- local -> remote, likewise
    in_packets     BIGINT,      -- packets remote -> local
    in_bytes       BIGINT,      -- bytes remote -> local
    out_packets    BIGINT,      -- packets local -> remote
    out_bytes      BIGINT,      -- bytes local -> remote
    in_first       TIMESTAMPTZ, -- first record remote -> local
    out_first      TIMESTAMPTZ, -- first record local -> remote
    initiated      VARCHAR,     -- inbound or outbound: which direction has the earlier record
    reject_reason  VARCHAR,     -- reject-reason of the records (v8+), e.g. BPA
    eni_from       VARCHAR,     -- how the ENI's address was known: snapshot (enis) or records (the address on most of them)
    pattern        VARCHAR,     -- AWS's troubleshooting pattern: inbound_blocked, reply_blocked_out, outbound_blocked, reply_blocked_in, no_reply (TCP), bpa; NULL when answered
    peer           VARCHAR,     -- for a pattern: what the other end's ENIs logged for the same 5-tuple, e.g. "eni-... rejected it inbound"
    peer_eni       VARCHAR,     -- for no_reply: the other end's ENI that REJECTed the packet this one let through
    records        BIGINT[],    -- the flow log records as evidence_id * 2^40 + line; record_refs(records) spells them "evidence:line"
    pkt_local_addr VARCHAR      -- the packet-level address on the ENI's side when it differs from local_addr (pkt-dstaddr in, pkt-srcaddr out: a NAT gateway's ENI); NULL otherwise
);

-- elb_logs: every access log entry, whichever load balancer type logged it, with the columns of all three.
CREATE VIEW elb_logs AS
SELECT evidence_id, line, lb_type, type, version, time, elb, listener,
       client_ip, client_port, backend_ip, backend_port, request_processing_time, backend_processing_time, response_processing_time, processing_time_missing,
       elb_status_code, backend_status_code, received_bytes, sent_bytes, request, method, url, protocol,
       user_agent, ssl_cipher, ssl_protocol, target_group_arn, trace_id, domain_name, chosen_cert_arn, matched_rule_priority,
       request_creation_time, actions_executed, redirect_url, error_reason, target_port_list, target_status_code_list, classification, classification_reason,
       conn_trace_id, transformed_host, transformed_uri, request_transform_status, connection_time, tls_handshake_time, incoming_tls_alert, chosen_cert_serial,
       tls_named_group, alpn_fe_protocol, alpn_be_protocol, alpn_client_preference_list, tls_connection_creation_time, extra
FROM (SELECT 'classic' AS lb_type, * FROM elb_classic_logs
      UNION ALL BY NAME SELECT 'alb' AS lb_type, * FROM alb_logs
      UNION ALL BY NAME SELECT 'nlb' AS lb_type, * FROM nlb_logs);

-- flows: the flow log records the views analyse, one flow log per ENI (see flow_log_sources).
-- A flag rather than a join: the join cost a third of a view's time on 16 M rows.
CREATE VIEW flows AS
SELECT * EXCLUDE (duplicate) FROM flow_logs WHERE duplicate IS NULL;

-- packets: packet_data with addresses spelled out.
CREATE VIEW packets AS
SELECT p.evidence_id, p.frame, p.ts, p.ifindex, p.pkttype,
       CASE p.pkttype WHEN 4 THEN 'out' WHEN 0 THEN 'in' WHEN 1 THEN 'broadcast' WHEN 2 THEN 'multicast' WHEN 3 THEN 'otherhost' END AS direction,
       p.vlan, p.ip_version, s.addr AS src, d.addr AS dst, p.proto, p.sport, p.dport, p.ip_id, p.ttl, p.frag,
       p.tcp_flags, p.seq, p.ack, p.win, p.payload_len, p.frame_len, p.cap_len, p.icmp_type, p.icmp_code,
       p.conv_id, p.truncated, p.decode_error
FROM packet_data p
LEFT JOIN addresses s ON s.evidence_id = p.evidence_id AND s.addr_id = p.src_id
LEFT JOIN addresses d ON d.evidence_id = p.evidence_id AND d.addr_id = p.dst_id;

-- endpoints: what every known address is, from the inventory (ENIs, nodes, pods).
CREATE VIEW endpoints AS
WITH eni_ips AS (
    SELECT unnest(private_ips) AS ip, network_interface_id, description, elb_name, instance_id, interface_type
    FROM enis
), labelled AS (
    SELECT ip, CASE WHEN elb_name IS NOT NULL THEN 'elb' ELSE 'eni' END AS kind,
           coalesce(elb_name, network_interface_id) AS name,
           network_interface_id || coalesce(' ' || instance_id, '') || coalesce(' (' || description || ')', '') AS detail,
           network_interface_id AS eni, 2 AS rank
    FROM eni_ips
    UNION ALL
    SELECT public_ip, 'eni-public', network_interface_id, coalesce(description, ''), network_interface_id, 3
    FROM enis WHERE public_ip IS NOT NULL
    UNION ALL
    SELECT internal_ip, 'node', name, coalesce(roles, ''), NULL, 1 FROM nodes WHERE internal_ip IS NOT NULL
    UNION ALL
    SELECT ip, CASE WHEN name LIKE 'router-%' AND namespace = 'openshift-ingress' THEN 'router' ELSE 'pod' END,
           namespace || '/' || name, coalesce('on ' || node, ''), NULL, 0
    FROM pods WHERE ip IS NOT NULL AND ip <> '' AND ip <> '<none>'
      AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.internal_ip = pods.ip)
)
SELECT ip, kind, name, detail, eni
FROM labelled
QUALIFY row_number() OVER (PARTITION BY ip ORDER BY rank) = 1;
