# Scenario "intercept": an HTTPS client through a forward proxy (HTTPS_PROXY): CONNECT, TLS
# terminated with a leaf minted from a CA made at run time, the token injected, the request sent
# on to the https:// backend. Squid 5 with ssl-bump (Debian's squid-openssl) is the reference,
# skipper intercepts with a <loopback> CONNECT route. connload drives both with CONNS tunnels of
# keep-alive requests; then, per round, it visits FIRST_HOSTS names never seen before, each twice
# on new connections, and the table shows how much longer the first visit (leaf minting) took.
#
# The names are under bench.test, in the backend's certificate; skipper's route sends them to
# 127.0.0.1 by address, Squid finds them in a hosts file of its own (hosts_file), so nothing
# needs DNS.

FIRST_HOSTS=${FIRST_HOSTS:-200}
SQUID_WORKERS=${SQUID_WORKERS:-$(nproc)}
GOAL_FIRST_EXTRA_US=2000

# start_squid: Squid in the foreground with SQUID_WORKERS workers; its pid goes to $squid_pid.
start_squid() {
	local d=$tmp/squid round i
	"$SQUID" -v | grep -q -- --with-openssl ||
		die "$SQUID is built without OpenSSL (no ssl-bump): install squid-openssl instead of squid"
	# Squid's workers talk over sockets in /run/squid, which systemd-tmpfiles makes at boot.
	[[ -d /run/squid ]] || install -d -o proxy -g proxy /run/squid
	mkdir -p "$d"
	{
		echo "127.0.0.1 load.$BENCH_DOMAIN check.$BENCH_DOMAIN"
		for ((round = 0; round <= ROUNDS; round++)); do
			for ((i = 0; i < FIRST_HOSTS; i++)); do echo "127.0.0.1 r${round}n$i.$BENCH_DOMAIN"; done
		done
	} >"$d/hosts"
	/usr/lib/squid/security_file_certgen -c -s "$d/ssl_db" -M 16MB >"$tmp/certgen.log" 2>&1 ||
		die "security_file_certgen -c failed: $(tail -n 3 "$tmp/certgen.log")"
	(
		umask 027 # the config holds the token; Squid's workers read it as proxy
		cat >"$d/squid.conf" <<CONF
workers $SQUID_WORKERS
http_port 127.0.0.1:$SQUID_PORT ssl-bump tls-cert=$tmp/pki/mitm-ca.pem tls-key=$tmp/pki/mitm-ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=16MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $d/ssl_db -M 16MB
sslcrtd_children 8 startup=8 idle=1
ssl_bump bump all
tls_outgoing_options cafile=$tmp/pki/backend-ca.pem
request_header_add Authorization "Bearer $token" all
http_access allow all
cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
cache_log $d/cache.log
pid_filename $d/squid.pid
coredump_dir $d
hosts_file $d/hosts
max_filedescriptors 16384
shutdown_lifetime 1 seconds
cache_effective_user proxy
CONF
	)
	chgrp proxy "$d/squid.conf"
	chown -R proxy:proxy "$d/ssl_db"
	chown proxy:proxy "$d"
	start_bg squid "$SQUID" --foreground -f "$d/squid.conf"
	squid_pid=$started
	wait_port squid "$squid_pid" "$SQUID_PORT"
}

# intercept_args TARGET AUTHORITY: connload's arguments for a TLS tunnel through TARGET.
intercept_args() {
	echo "-dial=127.0.0.1:$(port_of "$1") -connect=$2 -tls -ca=$tmp/pki/mitm-ca.pem"
}

scenario_intercept() {
	need_tls_backend
	start_squid
	declare -gA skipper_pids=()
	local names="[a-z0-9-]+[.]${BENCH_DOMAIN//./[.]}" t
	local routes="
		icpt: Method(\"CONNECT\") && Host(/^$names:$TLS_BACKEND_PORT\$/) -> <loopback>;
		api: Host(/^$names(:$TLS_BACKEND_PORT)?\$/) -> bearerinjector(\"$tmp/secrets/token\") -> \"https://127.0.0.1:$TLS_BACKEND_PORT/\";"
	local flags=(-ca-cert="$tmp/pki/mitm-ca.pem" -ca-key="$tmp/pki/mitm-ca.key" -backend-ca-file="$tmp/pki/backend-ca.pem")
	start_skipper skipper "$SKIPPER_PORT" "$routes" "${flags[@]}"
	[[ -z $BASELINE ]] || start_skipper baseline "$BASELINE_PORT" "$routes" "${flags[@]}"

	for t in squid $(skipper_bins); do
		# shellcheck disable=SC2046 # the arguments hold no spaces
		check_token "$t" "$("$tmp/bin/connload" -mode=get -path=/_authorization \
			$(intercept_args "$t" "check.$BENCH_DOMAIN:$TLS_BACKEND_PORT") 2>&1)"
	done
	log "squid $(skipper_bins | tr '\n' ' ')inject the token; Squid runs as $(tree_pids "$squid_pid" | wc -l) processes, all counted"

	targets=(squid $(skipper_bins))
	load() {
		# shellcheck disable=SC2046
		run_connload "$2" $(intercept_args "$1" "load.$BENCH_DOMAIN:$TLS_BACKEND_PORT")
	}
	server_pid() {
		if [[ $1 == squid ]]; then echo "$squid_pid"; else echo "${skipper_pids[$1]}"; fi
	}
	backend_of() { echo "$tls_backend_pid"; }
	UNIT=req LOAD_DESC="connload, $CONNS TLS tunnels of keep-alive requests"
	measure
	report "intercept: HTTPS client via CONNECT, minted leaf, https:// backend (Squid ssl-bump is the reference)" squid
	goal_ratio squid req/s rate ">=" 2
	goal_ratio squid p99 p99 "<=" 0.5
	goal_no_errors
	first_requests
	stop_bg "$squid_pid" "${skipper_pids[@]}"
}

# first_requests: per round and proxy, FIRST_HOSTS new names, each visited twice (a new
# connection, CONNECT, handshake, one GET); the table shows the medians over the rounds.
first_requests() {
	local round t line k errs
	local -A v=() e=()
	log "first requests: $FIRST_HOSTS new hosts per proxy per round"
	for ((round = 1; round <= ROUNDS; round++)); do
		for t in "${targets[@]}"; do
			# shellcheck disable=SC2046
			line=$(timeout 300 "$tmp/bin/connload" -mode=first -hosts="$FIRST_HOSTS" \
				$(intercept_args "$t" "r${round}n%d.$BENCH_DOMAIN:$TLS_BACKEND_PORT") 2>"$tmp/connload.err") ||
				die "connload -mode=first through $t failed: $(tail -n 3 "$tmp/connload.err")"
			log "round $round $t: $line"
			for k in first_p50 first_p99 repeat_p50 repeat_p99 extra_p50 extra_p99; do
				v[$t.$k]+="$(field "$k" "$line") "
			done
			e[$t]=$((${e[$t]:-0} + $(field errors "$line")))
		done
	done
	echo
	echo "== intercept: first request to a new host (connection, CONNECT, handshake, GET; $FIRST_HOSTS hosts" \
		"per round, each visited twice; extra = first visit - repeat visit, per host), median of $ROUNDS rounds"
	printf '%-9s %10s %10s %11s %11s %10s %10s %7s\n' target "first p50" "first p99" "repeat p50" \
		"repeat p99" "extra p50" "extra p99" errors
	for t in "${targets[@]}"; do
		printf '%-9s' "$t"
		for k in first_p50 first_p99 repeat_p50 repeat_p99 extra_p50 extra_p99; do
			printf ' %*sus' $((${#k} > 9 ? 9 : 8)) "$(median "${v[$t.$k]}")"
		done
		printf ' %7d\n' "${e[$t]}"
	done
	local extra
	extra=$(median "${v[skipper.extra_p99]}")
	goal "skipper first request to a new host: extra latency p99 <= ${GOAL_FIRST_EXTRA_US}us (${extra}us)" \
		"$(awk -v x="$extra" -v g="$GOAL_FIRST_EXTRA_US" 'BEGIN { print (x <= g) ? 1 : 0 }')"
	errs=0
	for t in "${targets[@]}"; do errs=$((errs + e[$t])); done
	goal "no errors on first requests ($errs)" "$(((errs == 0) ? 1 : 0))"
}
