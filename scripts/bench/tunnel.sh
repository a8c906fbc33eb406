# Scenario "tunnel": CONNECT blind tunnels to the http:// backend, each carrying keep-alive GETs
# of a large body, through skipper (a CONNECT route with the <dynamic> backend, 127.0.0.1 allowed
# past the SSRF guard) and through a plain Go TCP relay (scripts/bench/relay) as the reference:
# the tunnel's copy should not be the bottleneck. Measured in MiB/s of body.

TUNNEL_CONNS=${TUNNEL_CONNS:-8}
TUNNEL_BODY=${TUNNEL_BODY:-16777216}

scenario_tunnel() {
	need_backend
	local authority="127.0.0.1:$BACKEND_PORT" t
	start_bg relay "$tmp/bin/relay" -address "127.0.0.1:$RELAY_PORT" -target "$authority"
	local relay_pid=$started
	wait_port relay "$relay_pid" "$RELAY_PORT"
	declare -gA skipper_pids=()
	local route="Method(\"CONNECT\") && Host(/^127[.]0[.]0[.]1:$BACKEND_PORT\$/) -> <dynamic>"
	start_skipper skipper "$SKIPPER_PORT" "$route" -forward-allow-cidrs=127.0.0.1/32
	[[ -z $BASELINE ]] || start_skipper baseline "$BASELINE_PORT" "$route" -forward-allow-cidrs=127.0.0.1/32

	# connload's arguments for each target: the relay is dialed as the backend, the others
	# CONNECT to it.
	tunnel_args() {
		if [[ $1 == relay ]]; then
			echo "-dial=127.0.0.1:$RELAY_PORT -host=$authority"
		else
			echo "-dial=127.0.0.1:$(port_of "$1") -connect=$authority"
		fi
	}
	for t in relay $(skipper_bins); do
		# shellcheck disable=SC2046 # the arguments hold no spaces
		[[ $("$tmp/bin/connload" -mode=get $(tunnel_args "$t") 2>&1) == ok ]] ||
			die "$t: no answer from the backend through the tunnel"
	done

	targets=(relay $(skipper_bins))
	load() {
		# shellcheck disable=SC2046
		run_connload "$2" $(tunnel_args "$1") -conns="$TUNNEL_CONNS" -mib -path="/_bytes/$TUNNEL_BODY"
	}
	server_pid() {
		if [[ $1 == relay ]]; then echo "$relay_pid"; else echo "${skipper_pids[$1]}"; fi
	}
	backend_of() { echo "$backend_pid"; }
	UNIT=MiB LOAD_DESC="connload, $TUNNEL_CONNS tunnels each downloading $TUNNEL_BODY-byte bodies"
	measure
	report "tunnel: CONNECT blind tunnel, bulk download (the Go TCP relay is the reference)" relay
	goal_ratio relay MiB/s rate ">=" 0.9
	goal_no_errors
	stop_bg "$relay_pid" "${skipper_pids[@]}"
}
