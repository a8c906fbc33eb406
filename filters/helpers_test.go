package filters_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
)

// argsCase is one call of Spec.Create that must fail. want, if set, is the exact error text;
// otherwise only the wrapped sentinel is checked.
type argsCase struct {
	name string
	args []any
	want string
}

// testBadArgs checks that spec rejects every case with an error wrapping ErrInvalidArgs.
func testBadArgs(t *testing.T, spec filters.Spec, cases []argsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := spec.Create(tc.args)
			if err == nil {
				t.Fatalf("Create(%#v) = %T, nil; want an error", tc.args, f)
			}
			if f != nil {
				t.Errorf("Create(%#v) returned filter %T with its error, want nil", tc.args, f)
			}
			if !errors.Is(err, filters.ErrInvalidArgs) {
				t.Errorf("got error %q, want one wrapping ErrInvalidArgs", err)
			}
			if !strings.HasPrefix(err.Error(), spec.Name()+": ") {
				t.Errorf("got error %q, want it to start with %q", err, spec.Name()+": ")
			}
			if tc.want != "" && err.Error() != tc.want {
				t.Errorf("got error\n\t%s\nwant\n\t%s", err, tc.want)
			}
		})
	}
}

// checkHeader fails the test unless h holds exactly want under the canonical name.
func checkHeader(t *testing.T, h map[string][]string, name string, want ...string) {
	t.Helper()
	if got := h[name]; !slices.Equal(got, want) {
		t.Errorf("got %s %q, want %q", name, got, want)
	}
}

// checkNoLeak fails the test if any rendering of err contains canary.
func checkNoLeak(t *testing.T, err error, canary string) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v", "%q"} {
		if s := fmt.Sprintf(verb, err); strings.Contains(s, canary) {
			t.Errorf("error rendered with %s contains the secret value: %s", verb, s)
		}
	}
}
