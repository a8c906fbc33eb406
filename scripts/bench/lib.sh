# Shared parts of the load test (sourced by loadtest.sh): settings, process bookkeeping, tools,
# certificates, the measuring loop and the report. Every scenario (plain.sh, https.sh,
# intercept.sh, tunnel.sh) defines scenario_NAME, which starts its servers with start_bg, fills
# the array `targets`, defines load, server_pid and backend_of (see measure), calls measure, then
# report and the goal functions, and stops what it started.

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
STRICT=${STRICT:-0}
PROFILE=${PROFILE:-0}
BASELINE=${BASELINE:-}
PORT_BASE=${PORT_BASE:-18080}
BACKEND_PORT=${BACKEND_PORT:-$((PORT_BASE + 1))}
NGINX_PORT=${NGINX_PORT:-$((PORT_BASE + 2))}
SKIPPER_PORT=${SKIPPER_PORT:-$((PORT_BASE + 3))}
BASELINE_PORT=${BASELINE_PORT:-$((PORT_BASE + 4))}
TLS_BACKEND_PORT=${TLS_BACKEND_PORT:-$((PORT_BASE + 5))}
SQUID_PORT=${SQUID_PORT:-$((PORT_BASE + 6))}
RELAY_PORT=${RELAY_PORT:-$((PORT_BASE + 7))}
HOST_HEADER=host1 # the demo route's Host, sent to every target alike
BENCH_DOMAIN=bench.test # names under it are in the backend's certificate; the proxies reach 127.0.0.1
GOAL_RSS_KB=$((25 * 1024))

log() { echo "loadtest: $*" >&2; }
die() {
	log "$*"
	exit 1
}

tmp=$(mktemp -d /tmp/skipper-loadtest.XXXXXX)
chmod 0755 "$tmp" # nginx's workers and squid run as other users and must reach their paths
pids=()
policy_rc_added=
missed=0

cleanup() {
	stop_bg "${pids[@]}"
	if [[ -n $policy_rc_added ]]; then
		rm -f /usr/sbin/policy-rc.d
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_bg PID...: TERM, then KILL after 10 s, and reap; descendants still there then (Squid's
# workers and helpers, should their master have died) are killed too, when their start time
# shows they are the same processes.
stop_bg() {
	local pid deadline kids=()
	for pid in "$@"; do
		mapfile -t -O "${#kids[@]}" kids < <(tree_pids "$pid" | tail -n +2 | while read -r k; do
			echo "$k $(start_time "$k")"
		done)
		kill -TERM "$pid" 2>/dev/null || true
	done
	deadline=$((SECONDS + 10))
	for pid in "$@"; do
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	local k started_at
	for k in "${kids[@]}"; do
		read -r pid started_at <<<"$k"
		if [[ -n $started_at && $(start_time "$pid") == "$started_at" ]]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# start_time PID: the process's start time (field 22 of its stat), empty when it is gone.
start_time() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

# start_bg NAME COMMAND...: runs COMMAND with its output in $tmp/NAME.log; its pid goes to $started.
start_bg() {
	local name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	started=$!
	pids+=("$started")
}

# wait_port NAME PID PORT: waits until 127.0.0.1:PORT accepts connections, failing when PID exits
# or 10 s pass.
wait_port() {
	local name=$1 pid=$2 port=$3 deadline=$((SECONDS + 10))
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || die "$name exited at start; its log: $(tail -n 5 "$tmp/$name.log")"
		((SECONDS < deadline)) || die "$name did not listen on $port within 10s"
		sleep 0.1
	done
}

port_free() {
	local port
	for port in "$@"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			die "port $port on 127.0.0.1 is in use; set PORT_BASE (or the *_PORT variables)"
		fi
	done
}

# --- tools ------------------------------------------------------------------------------------

# install_tools PACKAGE...: apt-get installs the packages whose command is missing; each argument
# is PACKAGE or PACKAGE=COMMAND.
install_tools() {
	local missing=() spec pkg cmd
	for spec in "$@"; do
		pkg=${spec%%=*} cmd=${spec#*=}
		command -v "$cmd" >/dev/null || [[ -x /usr/sbin/$cmd ]] || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return
	log "installing ${missing[*]} with apt-get"
	# Keep the packages' own services (nginx on :80, squid on :3128) from starting.
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

# --- shared servers ---------------------------------------------------------------------------

# make_certs: a CA for the backend and its certificate (for *.bench.test, localhost and
# 127.0.0.1), and a second CA the intercepting proxies mint leaves from; all under $tmp/pki.
make_certs() {
	[[ -d $tmp/pki ]] && return
	mkdir "$tmp/pki"
	local d=$tmp/pki
	(
		cd "$d"
		for ca in backend-ca mitm-ca; do
			openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 \
				-subj "/CN=skipper load test $ca" -keyout "$ca.key" -out "$ca.pem" \
				-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		done
		openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "/CN=$BENCH_DOMAIN" \
			-keyout backend.key -out backend.csr
		printf 'subjectAltName=DNS:*.%s,DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
			"$BENCH_DOMAIN" "$BENCH_DOMAIN" >backend.ext
		openssl x509 -req -in backend.csr -CA backend-ca.pem -CAkey backend-ca.key -CAcreateserial \
			-days 2 -extfile backend.ext -out backend.pem
	) >"$tmp/openssl.log" 2>&1 || die "openssl failed: $(tail -n 5 "$tmp/openssl.log")"
	chmod 0644 "$d"/*.pem "$d"/*.key # squid's helpers run as proxy; nothing here is secret
}

backend_pid=
tls_backend_pid=

# need_backend: the plain http:// backend on BACKEND_PORT, started once.
need_backend() {
	[[ -n $backend_pid ]] && return
	start_bg backend "$tmp/bin/backend" -address "127.0.0.1:$BACKEND_PORT"
	backend_pid=$started
	wait_port backend "$backend_pid" "$BACKEND_PORT"
}

# need_tls_backend: the https:// backend on TLS_BACKEND_PORT, started once.
need_tls_backend() {
	[[ -n $tls_backend_pid ]] && return
	make_certs
	start_bg tls-backend "$tmp/bin/backend" -address "127.0.0.1:$TLS_BACKEND_PORT" \
		-tls-cert "$tmp/pki/backend.pem" -tls-key "$tmp/pki/backend.key"
	tls_backend_pid=$started
	wait_port tls-backend "$tls_backend_pid" "$TLS_BACKEND_PORT"
}

# skipper_bins: "skipper" and, with BASELINE, "baseline": the builds every scenario measures.
skipper_bins() {
	echo skipper
	[[ -z $BASELINE ]] || echo baseline
}

# start_skipper TARGET PORT ROUTES FLAGS...: the skipper build of TARGET (skipper or baseline).
start_skipper() {
	local target=$1 port=$2 routes=$3 bin=$tmp/bin/skipper
	shift 3
	[[ $target == baseline ]] && bin=$tmp/bin/skipper-baseline
	start_bg "$target" "$bin" -address="127.0.0.1:$port" -support-listener= -inline-routes="$routes" \
		-credentials-paths="$tmp/secrets" -access-log-disabled -application-log-level=WARN "$@"
	skipper_pids[$target]=$started
	wait_port "$target" "$started" "$port"
}

# port_of TARGET: the listening port of a proxy.
port_of() {
	case $1 in
	nginx) echo "$NGINX_PORT" ;;
	skipper) echo "$SKIPPER_PORT" ;;
	baseline) echo "$BASELINE_PORT" ;;
	squid) echo "$SQUID_PORT" ;;
	relay) echo "$RELAY_PORT" ;;
	esac
}

# check_token TARGET ANSWER: ANSWER is what the backend saw in Authorization through TARGET.
check_token() {
	[[ $2 == "Bearer $token" ]] || die "$1: the backend did not get the token in Authorization (got \"$2\")"
}

# --- measuring --------------------------------------------------------------------------------

clk_tck=$(getconf CLK_TCK)

# tree_pids PID: the process and all its descendants (nginx's workers, squid's kids and helpers).
tree_pids() {
	local -A children=()
	local f line ppid pid
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue # gone since the glob
		read -r _ ppid _ <<<"${line##*) }"                # comm may hold spaces and parentheses
		pid=${f#/proc/}
		children[$ppid]+="${pid%/stat} "
	done
	local queue=("$1")
	while ((${#queue[@]})); do
		pid=${queue[0]}
		queue=("${queue[@]:1}")
		echo "$pid"
		# shellcheck disable=SC2206 # the pids are numbers
		queue+=(${children[$pid]:-})
	done
}

# cpu_ticks PID...: user+system time of the processes, in clock ticks.
cpu_ticks() {
	local pid total=0 t
	for pid in "$@"; do
		# Drop "pid (comm) " first: comm may hold spaces. utime and stime are then fields 12, 13.
		t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		[[ -n $t ]] || die "process $pid is gone"
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

# run_wrk SECONDS URL [WRK ARGS...]: one wrk run, its result written to $tmp/load.out as the
# line connload prints ("units=... rate=... p50=... p99=... errors=...").
run_wrk() {
	local secs=$1 url=$2 out
	shift 2
	timeout $((secs + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 2s --latency "$@" "$url" \
		>"$tmp/wrk.out" 2>&1 || die "wrk against $url failed: $(tail -n 3 "$tmp/wrk.out")"
	out=$(cat "$tmp/wrk.out")
	local r n l50 l99 e
	r=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
	n=$(awk '/ requests in / { print $1 }' <<<"$out")
	l50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
	l99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
	e=$(awk '/^  Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
	[[ -n $r && -n $n ]] || die "could not read wrk's output for $url: $out"
	echo "units=$n rate=$r p50=$l50 p99=$l99 errors=$e" >"$tmp/load.out"
}

# run_connload SECONDS ARGS...: one connload -mode=load run, its result line in $tmp/load.out.
run_connload() {
	local secs=$1
	shift
	timeout $((secs + 60)) "$tmp/bin/connload" -mode=load -conns="$CONNS" -duration="${secs}s" "$@" \
		>"$tmp/load.out" 2>"$tmp/connload.err" ||
		die "connload $* failed: $(tail -n 3 "$tmp/connload.err")"
}

# backend_stats PID: the /_stats line of the backend PID (need_backend's or need_tls_backend's).
backend_stats() {
	if [[ $1 == "$tls_backend_pid" ]]; then
		curl -fsS --max-time 2 --cacert "$tmp/pki/backend-ca.pem" "https://127.0.0.1:$TLS_BACKEND_PORT/_stats"
	else
		curl -fsS --max-time 2 "http://127.0.0.1:$BACKEND_PORT/_stats"
	fi || die "the backend's /_stats failed"
}

# backend_use BEFORE AFTER: from two /_stats lines, the connections the backend accepted in
# between (less the one the AFTER query came on) and the protocol of the requests, "N/h1".
backend_use() {
	local c1 c2 proto
	c1=$(($(field h1 "$2") - $(field h1 "$1")))
	c2=$(($(field h2 "$2") - $(field h2 "$1")))
	if ((c2 == 0)); then proto=h1; elif ((c1 == 0)); then proto=h2; else proto=h1+h2; fi
	echo "$(($(field conns "$2") - $(field conns "$1") - 1))/$proto"
}

# field NAME LINE: the value of NAME=... in a result line.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure: WARMUP seconds per target, then ROUNDS interleaved rounds of DURATION seconds. The
# scenario provides `targets`, `load TARGET SECONDS` (writes $tmp/load.out), `server_pid TARGET`
# (the root of the processes whose CPU counts for the target) and `backend_of TARGET` (the
# backend's pid). Medians end up in M_rate, M_p50, M_p99, M_cpu, M_bcpu, errors in M_errs, and
# the backend connections opened in the last round and the protocol spoken on them in M_bconns.
measure() {
	local t round spids bpids before bbefore after bafter line units c bc sbefore
	local -A rate=() p50=() p99=() cpu=() bcpu=()
	declare -gA M_rate=() M_p50=() M_p99=() M_cpu=() M_bcpu=() M_errs=() M_bconns=()
	for t in "${targets[@]}"; do M_errs[$t]=0; done
	if ((WARMUP > 0)); then
		log "warming up, ${WARMUP}s per target"
		for t in "${targets[@]}"; do load "$t" "$WARMUP"; done
	fi
	log "$ROUNDS rounds of ${DURATION}s per target"
	for ((round = 1; round <= ROUNDS; round++)); do
		for t in "${targets[@]}"; do
			mapfile -t spids < <(tree_pids "$(server_pid "$t")")
			bpids=$(backend_of "$t")
			sbefore=$(backend_stats "$bpids")
			before=$(cpu_ticks "${spids[@]}") bbefore=$(cpu_ticks "$bpids")
			load "$t" "$DURATION"
			after=$(cpu_ticks "${spids[@]}") bafter=$(cpu_ticks "$bpids")
			M_bconns[$t]=$(backend_use "$sbefore" "$(backend_stats "$bpids")")
			line=$(cat "$tmp/load.out")
			units=$(field units "$line")
			awk -v u="$units" 'BEGIN { exit !(u > 0) }' || die "$t: nothing measured: $line"
			c=$(awk -v d=$((after - before)) -v hz="$clk_tck" -v n="$units" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
			bc=$(awk -v d=$((bafter - bbefore)) -v hz="$clk_tck" -v n="$units" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
			rate[$t]+="$(field rate "$line") "
			p50[$t]+="$(field p50 "$line") "
			p99[$t]+="$(field p99 "$line") "
			cpu[$t]+="$c "
			bcpu[$t]+="$bc "
			M_errs[$t]=$((M_errs[$t] + $(field errors "$line")))
			log "round $round $t: $(field rate "$line") $UNIT/s, p50 $(field p50 "$line")us," \
				"p99 $(field p99 "$line")us, ${c}us CPU/$UNIT (backend ${bc}us, ${M_bconns[$t]} connections)," \
				"$(field errors "$line") errors"
		done
	done
	[[ $PROFILE != 1 ]] || profile_targets
	for t in "${targets[@]}"; do
		M_rate[$t]=$(median "${rate[$t]}")
		M_p50[$t]=$(median "${p50[$t]}")
		M_p99[$t]=$(median "${p99[$t]}")
		M_cpu[$t]=$(median "${cpu[$t]}")
		M_bcpu[$t]=$(median "${bcpu[$t]}")
	done
}

# profile_targets: with PROFILE=1, one more load of DURATION seconds per target but the backend
# alone ("direct"), under `perf record -e cpu-clock` (a software clock: it needs no hardware
# counters), and where the server's CPU went, sorted by profile.awk into parts, as shares and as
# microseconds per unit of load. The kernel's part is then split by the system calls under it.
profile_targets() {
	local t spids before after units cpu data
	for t in "${targets[@]}"; do
		[[ $t != direct ]] || continue
		mapfile -t spids < <(tree_pids "$(server_pid "$t")")
		data=$tmp/perf-$t.data
		before=$(cpu_ticks "${spids[@]}")
		perf record -q -e cpu-clock -F 999 -g -o "$data" -p "$(
			IFS=,
			echo "${spids[*]}"
		)" -- sleep $((DURATION + 1)) 2>"$tmp/perf.err" &
		local perf_pid=$!
		load "$t" "$DURATION"
		after=$(cpu_ticks "${spids[@]}")
		wait "$perf_pid" || die "perf record failed: $(tail -n 3 "$tmp/perf.err")"
		units=$(field units "$(cat "$tmp/load.out")")
		cpu=$(awk -v d=$((after - before)) -v hz="$clk_tck" -v n="$units" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
		echo
		echo "profile of $t: ${cpu}us CPU/$UNIT in this run, by part (self time)"
		perf report -i "$data" --no-children --sort dso,sym -g none 2>/dev/null |
			awk -v cpu="$cpu" -f "$bench/profile.awk" | sort -rn
		echo "  the kernel's part, by the system call under it (its callees included):"
		perf report -i "$data" --children --sort sym -g none 2>/dev/null |
			awk -v cpu="$cpu" '$4 ~ /^(ksys_|__x64_sys_|__sys_)|^do_(readv|writev)$/ {
				name = $4; sub(/^(ksys_|__x64_sys_|__sys_|do_)/, "", name)
				if ($1 + 0 > top[name]) top[name] = $1 + 0 }
				END { for (n in top) if (top[n] >= 0.3) printf "  %5.1f%%  %6.1fus  %s\n", top[n], top[n] / 100 * cpu, n }' |
			sort -rn
	done
}

# report TITLE REF: the table of the medians, with ratios against target REF.
report() {
	local title=$1 ref=$2 t
	echo
	echo "== $title"
	echo "$LOAD_DESC, $ROUNDS interleaved rounds of ${DURATION}s per target, median per target; $(nproc) CPUs;" \
		"cpu/$UNIT is the server's own user+system time (all its processes), backend cpu/$UNIT the backend's;" \
		"be conns: connections the backend accepted in the last round, and their protocol"
	printf '%-9s %9s %9s %9s %10s %12s %9s %9s %9s %9s %7s\n' target "$UNIT/s" p50 p99 "cpu/$UNIT" \
		"backend cpu" "be conns" "rate/$ref" "cpu/$ref" "p99/$ref" errors
	for t in "${targets[@]}"; do
		awk -v t="$t" -v r="${M_rate[$t]}" -v a="${M_p50[$t]}" -v b="${M_p99[$t]}" -v c="${M_cpu[$t]}" \
			-v bc="${M_bcpu[$t]}" -v rr="${M_rate[$ref]}" -v cr="${M_cpu[$ref]}" -v br="${M_p99[$ref]}" \
			-v e="${M_errs[$t]}" -v bn="${M_bconns[$t]}" 'BEGIN {
			printf "%-9s %9.0f %7.0fus %7.0fus %8.1fus %10.1fus %9s %8.2fx %8.2fx %8.2fx %7d\n",
				t, r, a, b, c, bc, bn, r / rr, c / cr, b / br, e }'
	done
}

# goal DESCRIPTION OK(0|1)
goal() {
	if [[ $2 == 1 ]]; then echo "goal met:    $1"; else echo "goal missed: $1"; missed=1; fi
}

# goal_ratio REF WHAT METRIC OP FACTOR: compares skipper's M_METRIC with FACTOR times REF's (the
# baseline is only shown). OP is ">=" or "<="; WHAT names the metric in the line, with the ratio.
goal_ratio() {
	local ref=$1 what=$2 metric=$3 op=$4 factor=$5
	local -n m=M_$metric
	local ratio
	ratio=$(awk -v s="${m[skipper]}" -v r="${m[$ref]}" 'BEGIN { printf "%.2f", s / r }')
	goal "skipper $what $op ${factor}x $ref's (${ratio}x)" \
		"$(awk -v x="$ratio" -v f="$factor" -v op="$op" 'BEGIN { print ((op == ">=") ? (x >= f) : (x <= f)) ? 1 : 0 }')"
}

goal_no_errors() {
	local t total=0
	for t in "${targets[@]}"; do total=$((total + M_errs[$t])); done
	goal "no errors or non-2xx responses ($total)" "$(((total == 0) ? 1 : 0))"
}

# goal_rss PID: skipper's resident memory after the run.
goal_rss() {
	local kb
	kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
	goal "skipper RSS <= 25 MB after the run ($(awk -v k="$kb" 'BEGIN { printf "%.1f MB", k / 1024 }'))" \
		"$(((kb <= GOAL_RSS_KB) ? 1 : 0))"
}
