package circuit_test

import (
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/circuit"
)

func TestParseArgs(t *testing.T) {
	type parser func([]any) (circuit.Settings, error)
	tests := []struct {
		name    string
		parse   parser
		args    []any
		want    circuit.Settings
		wantErr bool
	}{
		{"consecutive failures only", circuit.ParseConsecutive, []any{5.0},
			circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5}, false},
		{"consecutive all arguments", circuit.ParseConsecutive, []any{5.0, "1m", 12.0, "30m"},
			circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5, Timeout: time.Minute,
				HalfOpenRequests: 12, IdleTTL: 30 * time.Minute}, false},
		{"durations as milliseconds", circuit.ParseConsecutive, []any{5.0, 1500.0, 1.0, 60000.0},
			circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5, Timeout: 1500 * time.Millisecond,
				HalfOpenRequests: 1, IdleTTL: time.Minute}, false},
		{"zero means default", circuit.ParseConsecutive, []any{5.0, 0.0, 0.0},
			circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5}, false},
		{"rate", circuit.ParseRate, []any{30.0, 300.0, "1m", 12.0, "30m"},
			circuit.Settings{Type: circuit.FailureRate, Failures: 30, Window: 300, Timeout: time.Minute,
				HalfOpenRequests: 12, IdleTTL: 30 * time.Minute}, false},
		{"disable", circuit.ParseDisable, nil, circuit.Settings{Type: circuit.Disabled}, false},

		{"consecutive no arguments", circuit.ParseConsecutive, nil, circuit.Settings{}, true},
		{"consecutive too many", circuit.ParseConsecutive, []any{5.0, "1m", 1.0, "1h", 1.0}, circuit.Settings{}, true},
		{"zero failures", circuit.ParseConsecutive, []any{0.0}, circuit.Settings{}, true},
		{"fractional failures", circuit.ParseConsecutive, []any{2.5}, circuit.Settings{}, true},
		{"failures as string", circuit.ParseConsecutive, []any{"5"}, circuit.Settings{}, true},
		{"bad timeout", circuit.ParseConsecutive, []any{5.0, "soon"}, circuit.Settings{}, true},
		{"negative timeout", circuit.ParseConsecutive, []any{5.0, "-1s"}, circuit.Settings{}, true},
		{"negative half-open", circuit.ParseConsecutive, []any{5.0, "1s", -1.0}, circuit.Settings{}, true},
		{"rate without window", circuit.ParseRate, []any{30.0}, circuit.Settings{}, true},
		{"rate window below failures", circuit.ParseRate, []any{30.0, 20.0}, circuit.Settings{}, true},
		{"rate too many", circuit.ParseRate, []any{1.0, 2.0, "1s", 1.0, "1h", 1.0}, circuit.Settings{}, true},
		{"disable with argument", circuit.ParseDisable, []any{1.0}, circuit.Settings{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parse(tc.args)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("got %+v, %v; want %+v, error: %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
