#!/usr/bin/env bash
# The README's demo: a token in a file, an echo backend on 127.0.0.1:8080, and skipper on :9090
# injecting the token into every request for Host "host1", its support listener on
# 127.0.0.1:9911. Run it with `make demo`. It stops with the reason when a port is taken or a
# process does not come up.
set -euo pipefail
cd "$(dirname "$0")/.."

# fail prints why the demo stops and exits; the EXIT trap stops what was started.
fail() {
	echo "demo: $*" >&2
	exit 1
}

# listening PORT: whether something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ready: whether skipper's /ready on the support listener answers 200.
ready() {
	local code
	code=$( (exec 3<>/dev/tcp/127.0.0.1/9911 && printf 'GET /ready HTTP/1.0\r\n\r\n' >&3 &&
		read -r -t 2 _ code _ <&3 && echo "$code") 2>/dev/null) || return 1
	[[ $code == 200 ]]
}

# wait_until NAME PID SECONDS CHECK...: runs CHECK until it succeeds; stops the demo if process
# PID exits first or SECONDS pass.
wait_until() {
	local name=$1 pid=$2 limit=$3
	local deadline=$((SECONDS + limit))
	shift 3
	until "$@"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || true
			fail "$name exited before it was ready (its error is above)"
		fi
		((SECONDS < deadline)) || fail "$name did not answer within ${limit}s"
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null || fail "$name exited before it was ready (its error is above)"
}

for port in 8080 9090 9911; do
	if listening "$port"; then
		fail "port $port is taken: something already listens on it (see \`ss -ltnp 'sport = :$port'\`); stop it and run the demo again"
	fi
done
for bin in bin/skipper bin/demo-backend; do
	[[ -x $bin ]] || fail "$bin is missing: run \`make demo\`, which builds it"
done

secrets=/tmp/secrets
mkdir -p "$secrets"
echo mytoken >"$secrets/mytoken"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin/demo-backend -address 127.0.0.1:8080 &
backend=$!
pids+=("$backend")
wait_until "the echo backend (127.0.0.1:8080)" "$backend" 10 listening 8080

bin/skipper -inline-routes='Host("host1") -> bearerinjector("/tmp/secrets/mytoken") -> "http://127.0.0.1:8080/"' \
	-credentials-paths=/tmp/secrets -credentials-update-interval=10s -support-listener=127.0.0.1:9911 &
skipper=$!
pids+=("$skipper")
wait_until "skipper (:9090, support listener 127.0.0.1:9911)" "$skipper" 10 ready

cat <<MSG

  skipper listens on :9090 in front of an echo backend on 127.0.0.1:8080, and serves /metrics,
  /routes and /ready on 127.0.0.1:9911. In another terminal, try:

    curl -H 'Host: host1' localhost:9090/foo
    echo changedtoken >$secrets/mytoken
    curl -H 'Host: host1' localhost:9090/foo

  The backend's answer shows the Authorization header skipper added. Ctrl-C stops the demo.

MSG

wait "$skipper"
