#!/usr/bin/env bash
# The README's demo: a token in a file, an echo backend on 127.0.0.1:8080, and skipper on :9090
# injecting the token into every request for Host "host1". Run it with `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

secrets=/tmp/secrets
mkdir -p "$secrets"
echo mytoken >"$secrets/mytoken"

bin/demo-backend -address 127.0.0.1:8080 &
backend=$!
trap 'kill $backend 2>/dev/null || true' EXIT

cat <<MSG

  skipper is starting on :9090 in front of an echo backend on 127.0.0.1:8080.
  In another terminal, try:

    curl -H 'Host: host1' localhost:9090/foo
    echo changedtoken >$secrets/mytoken
    curl -H 'Host: host1' localhost:9090/foo

  The backend's answer shows the Authorization header skipper added. Ctrl-C stops the demo.

MSG

bin/skipper -inline-routes='Host("host1") -> bearerinjector("/tmp/secrets/mytoken") -> "http://127.0.0.1:8080/"' \
	-credentials-paths=/tmp/secrets -credentials-update-interval=10s -support-listener=127.0.0.1:9911
