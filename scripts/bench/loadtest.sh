#!/usr/bin/env bash
# Load test of issues 5 and 12: skipper side by side with the reference proxy of each path, all on
# 127.0.0.1, with the same load in interleaved rounds. Scenarios (SCENARIOS, all by default):
#
#   plain      client -> proxy -> http:// backend; wrk; direct, nginx, skipper
#   https      client -> proxy -> https:// backend (self-signed CA made at run time); wrk;
#              direct (wrk over TLS), nginx, skipper
#   intercept  HTTPS client through the proxy with CONNECT, TLS terminated with a minted leaf,
#              token injected, https:// backend; connload; Squid ssl-bump, skipper; then the extra
#              latency of a first request to a host never seen before
#   tunnel     CONNECT blind tunnel, bulk downloads through it; connload; a plain Go TCP relay,
#              skipper
#
# Each prints one table: the rate, p50 and p99 latency, CPU time per request (or per MiB) of the
# server under test (all its processes) and of the backend behind it, the median over the rounds,
# ratios against the scenario's reference (nginx, Squid, the relay), and the goals of issue 12.
#
# Run it with `make loadtest` (or `make bench`, after the Go benchmarks). It installs wrk, nginx,
# curl, openssl and squid-openssl with apt-get when they are missing, so it wants root on Debian.
# Tuning, from the environment:
#
#   SCENARIOS="plain https intercept tunnel" (a subset, in any order)
#   ROUNDS=3 DURATION=10 (seconds per target per round) WARMUP=2 (seconds per target, not counted)
#   THREADS=2 CONNS=50 (wrk -t/-c; connload uses CONNS too)
#   FIRST_HOSTS=200 new hosts per proxy per round for the first-request latency (intercept)
#   TUNNEL_CONNS=8 tunnels, each downloading TUNNEL_BODY=16777216-byte bodies over and over (tunnel)
#   PORT_BASE=18080: the backend listens on +1, nginx +2, skipper +3, the baseline +4, the TLS
#     backend +5, Squid +6, the relay +7 (each also settable: BACKEND_PORT, NGINX_PORT, ...)
#   STRICT=1 exits 1 when a goal is missed (by default they are only reported)
#   PROFILE=1 adds one run per proxy under `perf record` and shows where its CPU went
#   BASELINE=REV also measures skipper as built from the git revision REV (target "baseline"),
#     so a change is judged against the code before it in the same run
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=scripts/bench
# shellcheck source=lib.sh
. "$bench/lib.sh"
for s in plain https intercept tunnel; do
	# shellcheck source=/dev/null
	. "$bench/$s.sh"
done
SCENARIOS=${SCENARIOS:-plain https intercept tunnel}
for s in $SCENARIOS; do
	declare -F "scenario_$s" >/dev/null || die "unknown scenario $s (SCENARIOS may hold plain, https, intercept, tunnel)"
done
wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

tools=(curl openssl)
if wants plain || wants https; then tools+=(wrk nginx); fi
if wants intercept; then tools+=(squid-openssl=squid); fi
if [[ $PROFILE == 1 ]]; then tools+=(linux-perf=perf); fi
install_tools "${tools[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
SQUID=$(command -v squid || echo /usr/sbin/squid)

port_free "$BACKEND_PORT" "$NGINX_PORT" "$SKIPPER_PORT" "$TLS_BACKEND_PORT" "$SQUID_PORT" "$RELAY_PORT" \
	${BASELINE:+"$BASELINE_PORT"}

log "building skipper and the helpers"
mkdir "$tmp/bin"
# As `make build` and the image build it: static, no C library mapped into the process.
CGO_ENABLED=0 go build -o "$tmp/bin/skipper" ./cmd/skipper
for helper in backend connload relay; do
	go build -o "$tmp/bin/$helper" "./$bench/$helper"
done
if [[ -n $BASELINE ]]; then
	log "building skipper at $BASELINE as the baseline"
	mkdir "$tmp/baseline-src"
	git archive "$BASELINE" | tar -x -C "$tmp/baseline-src" || die "cannot export revision $BASELINE"
	(cd "$tmp/baseline-src" && CGO_ENABLED=0 go build -o "$tmp/bin/skipper-baseline" ./cmd/skipper)
fi

mkdir -m 0700 "$tmp/secrets"
token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$token" >"$tmp/secrets/token"

for s in $SCENARIOS; do
	log "scenario $s"
	"scenario_$s"
done

if [[ $STRICT == 1 && $missed == 1 ]]; then
	exit 1
fi
