#!/usr/bin/env bash
# Load test of issue #5: a tiny Go backend, nginx as the equivalent reverse proxy and skipper with
# the README's demo route, all on 127.0.0.1, driven by wrk in interleaved rounds with the same load.
# Prints requests/s, p50 and p99 latency and CPU time per request (of the server under test only:
# the backend for "direct", master and workers for nginx, skipper itself), the median over the
# rounds, ratios against direct and nginx, and skipper's resident memory after the run.
#
# Run it with `make loadtest` (or `make bench`, after the Go benchmarks). It installs wrk and
# nginx with apt-get when they are missing, so it wants root on Debian. Tuning, from the
# environment:
#
#   ROUNDS=3 DURATION=10 (seconds per target per round) WARMUP=2 (seconds per target, not counted)
#   THREADS=2 CONNS=50 (wrk -t/-c)  BACKEND_PORT=18081 NGINX_PORT=18082 SKIPPER_PORT=18083
#   STRICT=1 exits 1 when a goal of issue #5 is missed (by default they are only reported)
#   BASELINE=REV also measures skipper as built from the git revision REV (target "baseline",
#     on BASELINE_PORT=18084), so a change is judged against the code before it in the same run
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
BACKEND_PORT=${BACKEND_PORT:-18081}
NGINX_PORT=${NGINX_PORT:-18082}
SKIPPER_PORT=${SKIPPER_PORT:-18083}
STRICT=${STRICT:-0}
BASELINE=${BASELINE:-}
BASELINE_PORT=${BASELINE_PORT:-18084}
HOST_HEADER=host1 # the demo route's Host, sent to every target alike

# Goals of issue #5.
GOAL_P99_VS_NGINX=1.2
GOAL_RSS_KB=$((25 * 1024))

log() { echo "loadtest: $*" >&2; }
die() {
	log "$*"
	exit 1
}

tmp=$(mktemp -d /tmp/skipper-loadtest.XXXXXX)
chmod 0755 "$tmp" # nginx's workers run as nobody and must reach their temp paths
pids=()
policy_rc_added=

cleanup() {
	local pid deadline
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	deadline=$((SECONDS + 10))
	for pid in "${pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $policy_rc_added ]]; then
		rm -f /usr/sbin/policy-rc.d
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------------------

install_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
	command -v curl >/dev/null || missing+=(curl)
	((${#missing[@]} == 0)) && return
	log "installing ${missing[*]} with apt-get"
	# Keep the package's own nginx service from starting on :80 (Debian's policy-rc.d hook).
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		policy_rc_added=1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [[ -n $policy_rc_added ]]; then
		rm -f /usr/sbin/policy-rc.d
		policy_rc_added=
	fi
}

install_tools
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

for port in "$BACKEND_PORT" "$NGINX_PORT" "$SKIPPER_PORT" ${BASELINE:+"$BASELINE_PORT"}; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		die "port $port on 127.0.0.1 is in use; set BACKEND_PORT, NGINX_PORT or SKIPPER_PORT"
	fi
done

log "building skipper and the backend"
go build -o "$tmp/skipper" ./cmd/skipper
go build -o "$tmp/backend" ./scripts/bench/backend
if [[ -n $BASELINE ]]; then
	log "building skipper at $BASELINE as the baseline"
	mkdir "$tmp/baseline-src"
	git archive "$BASELINE" | tar -x -C "$tmp/baseline-src" || die "cannot export revision $BASELINE"
	(cd "$tmp/baseline-src" && go build -o "$tmp/skipper-baseline" ./cmd/skipper)
fi

# --- servers ----------------------------------------------------------------------------------

mkdir -m 0700 "$tmp/secrets"
token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$token" >"$tmp/secrets/token"

# wait_http NAME PID URL: polls URL until it answers, failing when PID exits or 10 s pass.
wait_http() {
	local name=$1 pid=$2 url=$3 deadline=$((SECONDS + 10))
	until curl -fsS -o /dev/null --max-time 1 -H "Host: $HOST_HEADER" "$url" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || die "$name exited at start; its log: $(tail -n 5 "$tmp/$name.log")"
		((SECONDS < deadline)) || die "$name did not answer on $url within 10s"
		sleep 0.1
	done
}

"$tmp/backend" -address "127.0.0.1:$BACKEND_PORT" >"$tmp/backend.log" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")
wait_http backend "$backend_pid" "http://127.0.0.1:$BACKEND_PORT/"

mkdir "$tmp/nginx"
(
	umask 077 # the config holds the token
	cat >"$tmp/nginx/nginx.conf" <<CONF
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
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer $token";
        }
    }
}
CONF
)
"$NGINX" -p "$tmp/nginx/" -e "$tmp/nginx.log" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' >>"$tmp/nginx.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_http nginx "$nginx_pid" "http://127.0.0.1:$NGINX_PORT/"

# start_skipper NAME BINARY PORT: runs a skipper with the demo route; its pid goes to $started.
start_skipper() {
	"$2" -address="127.0.0.1:$3" -support-listener= \
		-inline-routes="Host(\"$HOST_HEADER\") -> bearerinjector(\"$tmp/secrets/token\") -> \"http://127.0.0.1:$BACKEND_PORT/\"" \
		-credentials-paths="$tmp/secrets" -access-log-disabled -application-log-level=WARN >"$tmp/$1.log" 2>&1 &
	started=$!
	pids+=("$started")
	wait_http "$1" "$started" "http://127.0.0.1:$3/"
}
start_skipper skipper "$tmp/skipper" "$SKIPPER_PORT"
skipper_pid=$started
proxies=(nginx skipper)
if [[ -n $BASELINE ]]; then
	start_skipper baseline "$tmp/skipper-baseline" "$BASELINE_PORT"
	baseline_pid=$started
	proxies+=(baseline)
fi

# Every proxy must put the token on the request; the backend echoes it on /_authorization.
for target in "${proxies[@]}"; do
	port_var=${target^^}_PORT
	got=$(curl -fsS --max-time 2 -H "Host: $HOST_HEADER" "http://127.0.0.1:${!port_var}/_authorization") ||
		die "$target: the token check request failed"
	[[ $got == "Bearer $token" ]] || die "$target: the backend did not get the token in Authorization"
done
log "${proxies[*]} inject the token"

# --- measuring --------------------------------------------------------------------------------

clk_tck=$(getconf CLK_TCK)

# proc_pids TARGET: the processes whose CPU time counts for TARGET.
proc_pids() {
	case $1 in
	direct) echo "$backend_pid" ;;
	skipper) echo "$skipper_pid" ;;
	baseline) echo "$baseline_pid" ;;
	nginx) # the master and its workers
		echo "$nginx_pid"
		local f line ppid
		for f in /proc/[0-9]*/stat; do
			{ read -r line <"$f"; } 2>/dev/null || continue # gone since the glob
			read -r _ ppid _ <<<"${line##*) }"                # comm may hold spaces and parentheses
			if [[ $ppid == "$nginx_pid" ]]; then
				f=${f#/proc/}
				echo "${f%/stat}"
			fi
		done
		;;
	esac
}

# cpu_ticks PID...: user+system time of the processes, in clock ticks.
cpu_ticks() {
	local pid total=0 t
	for pid in "$@"; do
		# Drop "pid (comm) " first: comm may hold spaces. utime and stime are then fields 12, 13.
		t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') || die "process $pid is gone"
		total=$((total + t))
	done
	echo "$total"
}

# to_us VALUE: a wrk latency ("839.00us", "1.20ms", "2.01s") in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else if (v ~ /m$/) m = 60e6; else m = 1e6
		sub(/[a-z]+$/, "", v); printf "%.0f", v * m }'
}

url_of() {
	case $1 in
	direct) echo "http://127.0.0.1:$BACKEND_PORT/" ;;
	nginx) echo "http://127.0.0.1:$NGINX_PORT/" ;;
	skipper) echo "http://127.0.0.1:$SKIPPER_PORT/" ;;
	baseline) echo "http://127.0.0.1:$BASELINE_PORT/" ;;
	esac
}

# run_wrk SECONDS TARGET: one wrk run; its output goes to $tmp/wrk.out.
run_wrk() {
	timeout $(($1 + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${1}s" --timeout 2s --latency \
		-H "Host: $HOST_HEADER" "$(url_of "$2")" >"$tmp/wrk.out" 2>&1 ||
		die "wrk against $2 failed: $(tail -n 3 "$tmp/wrk.out")"
}

mapfile -t nginx_pids < <(proc_pids nginx)
log "nginx runs as ${#nginx_pids[@]} processes (master and workers), all counted for its CPU"

targets=(direct "${proxies[@]}")
declare -A rps p50 p99 cpu errs
for t in "${targets[@]}"; do errs[$t]=0; done

if ((WARMUP > 0)); then
	log "warming up, ${WARMUP}s per target"
	for t in "${targets[@]}"; do run_wrk "$WARMUP" "$t"; done
fi

log "$ROUNDS rounds of ${DURATION}s per target, wrk -t$THREADS -c$CONNS"
for ((round = 1; round <= ROUNDS; round++)); do
	for t in "${targets[@]}"; do
		mapfile -t tpids < <(proc_pids "$t")
		before=$(cpu_ticks "${tpids[@]}")
		run_wrk "$DURATION" "$t"
		after=$(cpu_ticks "${tpids[@]}")
		out=$(cat "$tmp/wrk.out")
		r=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
		n=$(awk '/ requests in / { print $1 }' <<<"$out")
		l50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
		l99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
		e=$(awk '/^  Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
		[[ -n $r && -n $n && $n -gt 0 ]] || die "could not read wrk's output for $t: $out"
		c=$(awk -v d=$((after - before)) -v hz="$clk_tck" -v n="$n" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
		rps[$t]+="$r "
		p50[$t]+="$l50 "
		p99[$t]+="$l99 "
		cpu[$t]+="$c "
		errs[$t]=$((errs[$t] + e))
		log "round $round $t: $r req/s, p50 ${l50}us, p99 ${l99}us, ${c}us CPU/request, $e errors"
	done
done

rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$skipper_pid/status")

# --- report -----------------------------------------------------------------------------------

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A m_rps m_p50 m_p99 m_cpu
for t in "${targets[@]}"; do
	m_rps[$t]=$(median "${rps[$t]}")
	m_p50[$t]=$(median "${p50[$t]}")
	m_p99[$t]=$(median "${p99[$t]}")
	m_cpu[$t]=$(median "${cpu[$t]}")
done

echo
echo "wrk -t$THREADS -c$CONNS, $ROUNDS interleaved rounds of ${DURATION}s per target, median per target;" \
	"$(nproc) CPUs; cpu/req is the server's own user+system time"
printf '%-8s %9s %9s %9s %9s %10s %10s %10s %7s\n' \
	target req/s p50 p99 cpu/req "rps/direct" "rps/nginx" "p99/nginx" errors
for t in "${targets[@]}"; do
	awk -v t="$t" -v r="${m_rps[$t]}" -v a="${m_p50[$t]}" -v b="${m_p99[$t]}" -v c="${m_cpu[$t]}" \
		-v rd="${m_rps[direct]}" -v rn="${m_rps[nginx]}" -v bn="${m_p99[nginx]}" -v e="${errs[$t]}" 'BEGIN {
		printf "%-8s %9.0f %7.0fus %7.0fus %7.1fus %9.2fx %9.2fx %9.2fx %7d\n", t, r, a, b, c, r / rd, r / rn, b / bn, e }'
done
echo "skipper RSS after the run: $(awk -v k="$rss_kb" 'BEGIN { printf "%.1f MB", k / 1024 }')"

echo
missed=0
goal() { # goal DESCRIPTION OK(0|1)
	if [[ $2 == 1 ]]; then echo "goal met:    $1"; else echo "goal missed: $1"; missed=1; fi
}
goal "skipper req/s >= nginx req/s ($(awk -v s="${m_rps[skipper]}" -v n="${m_rps[nginx]}" 'BEGIN { printf "%.2fx", s / n }'))" \
	"$(awk -v s="${m_rps[skipper]}" -v n="${m_rps[nginx]}" 'BEGIN { print (s >= n) ? 1 : 0 }')"
goal "skipper p99 <= ${GOAL_P99_VS_NGINX}x nginx p99 ($(awk -v s="${m_p99[skipper]}" -v n="${m_p99[nginx]}" 'BEGIN { printf "%.2fx", s / n }'))" \
	"$(awk -v s="${m_p99[skipper]}" -v n="${m_p99[nginx]}" -v g="$GOAL_P99_VS_NGINX" 'BEGIN { print (s <= g * n) ? 1 : 0 }')"
goal "skipper RSS < 25 MB after the run" "$(((rss_kb < GOAL_RSS_KB) ? 1 : 0))"
total_errs=0
for t in "${targets[@]}"; do total_errs=$((total_errs + errs[$t])); done
goal "no errors or non-2xx responses ($total_errs)" "$(((total_errs == 0) ? 1 : 0))"

if [[ $STRICT == 1 && $missed == 1 ]]; then
	exit 1
fi
