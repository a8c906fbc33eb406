# Scenario "https": client (plain HTTP) -> proxy -> https:// backend, the real egress case. The
# backend speaks HTTP/1.1 and HTTP/2 over TLS with a certificate from a CA made at run time; nginx
# verifies it and keeps a keepalive pool with session reuse, skipper trusts the CA through
# -backend-ca-file. "direct" is wrk over TLS to the backend itself.

scenario_https() {
	need_tls_backend
	write_nginx_conf "$tmp/nginx/https.conf" https://backend "
    upstream backend {
        server 127.0.0.1:$TLS_BACKEND_PORT;
        keepalive 64;
        keepalive_requests 1000000; # as skipper, which reuses a connection for as long as it lives
    }" "
            proxy_ssl_session_reuse on;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $tmp/pki/backend-ca.pem;
            proxy_ssl_server_name on;
            proxy_ssl_name backend.$BENCH_DOMAIN;"
	start_nginx "$tmp/nginx/https.conf"
	declare -gA skipper_pids=()
	# By address: a name would have to resolve; 127.0.0.1 is in the certificate.
	local route="Host(\"$HOST_HEADER\") -> bearerinjector(\"$tmp/secrets/token\") -> \"https://127.0.0.1:$TLS_BACKEND_PORT/\""
	start_skipper skipper "$SKIPPER_PORT" "$route" -backend-ca-file="$tmp/pki/backend-ca.pem"
	[[ -z $BASELINE ]] || start_skipper baseline "$BASELINE_PORT" "$route" -backend-ca-file="$tmp/pki/backend-ca.pem"

	direct_pid=$tls_backend_pid
	wrk_scenario "https: client -> proxy -> https:// backend (nginx is the reference)" https "$TLS_BACKEND_PORT"
	stop_bg "$nginx_pid" "${skipper_pids[@]}"
}
