# Scenario "plain" (issue 5, goals of issue 12): client -> proxy -> http:// backend. wrk against
# the backend itself ("direct"), nginx with an upstream keepalive pool, and skipper with the
# README's demo route (and the BASELINE build), all injecting the token.

# write_nginx_conf FILE PROXY_PASS UPSTREAM [LOCATION]: an nginx config listening on NGINX_PORT
# that proxies to PROXY_PASS (the upstream "backend", defined by UPSTREAM) and sets the token;
# LOCATION adds directives to the location.
write_nginx_conf() {
	mkdir -p "$tmp/nginx"
	(
		umask 077 # the config holds the token
		cat >"$1" <<CONF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
$3
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass $2;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer $token";
${4:-}
        }
    }
}
CONF
	)
}

# start_nginx CONF: nginx in the foreground; its pid goes to $nginx_pid.
start_nginx() {
	start_bg nginx "$NGINX" -p "$tmp/nginx/" -e "$tmp/nginx.log" -c "$1" -g 'daemon off;'
	nginx_pid=$started
	wait_port nginx "$nginx_pid" "$NGINX_PORT"
}

# wrk_scenario TITLE SCHEME DIRECT_PORT: the part plain and https share once the proxies run.
wrk_scenario() {
	local title=$1 scheme=$2 direct_port=$3 t
	for t in nginx $(skipper_bins); do
		check_token "$t" "$(curl -fsS --max-time 2 -H "Host: $HOST_HEADER" \
			"http://127.0.0.1:$(port_of "$t")/_authorization")" || die "$t: the token check failed"
	done
	log "nginx $(skipper_bins | tr '\n' ' ')inject the token"
	log "nginx runs as $(tree_pids "$nginx_pid" | wc -l) processes (master and workers), all counted for its CPU"

	targets=(direct nginx $(skipper_bins))
	load() {
		local url
		if [[ $1 == direct ]]; then
			url="$scheme://127.0.0.1:$direct_port/"
		else
			url="http://127.0.0.1:$(port_of "$1")/"
		fi
		run_wrk "$2" "$url" -H "Host: $HOST_HEADER"
	}
	server_pid() {
		case $1 in
		direct) echo "$direct_pid" ;;
		nginx) echo "$nginx_pid" ;;
		*) echo "${skipper_pids[$1]}" ;;
		esac
	}
	backend_of() { echo "$direct_pid"; }
	UNIT=req LOAD_DESC="wrk -t$THREADS -c$CONNS"
	measure
	report "$title" nginx
	echo "skipper RSS after the run: $(awk '/^VmRSS:/ { printf "%.1f MB", $2 / 1024 }' "/proc/${skipper_pids[skipper]}/status")"
	goal_ratio nginx req/s rate ">=" 0.9
	goal_ratio nginx cpu/req cpu "<=" 1.3
	goal_ratio nginx p99 p99 "<=" 1.2
	goal_rss "${skipper_pids[skipper]}"
	goal_no_errors
}

scenario_plain() {
	need_backend
	write_nginx_conf "$tmp/nginx/plain.conf" http://backend "
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
        keepalive_requests 1000000; # as skipper, which reuses a connection for as long as it lives
    }"
	start_nginx "$tmp/nginx/plain.conf"
	declare -gA skipper_pids=()
	local route="Host(\"$HOST_HEADER\") -> bearerinjector(\"$tmp/secrets/token\") -> \"http://127.0.0.1:$BACKEND_PORT/\""
	start_skipper skipper "$SKIPPER_PORT" "$route"
	[[ -z $BASELINE ]] || start_skipper baseline "$BASELINE_PORT" "$route"

	direct_pid=$backend_pid
	wrk_scenario "plain: client -> proxy -> http:// backend (nginx is the reference)" http "$BACKEND_PORT"
	stop_bg "$nginx_pid" "${skipper_pids[@]}"
}
