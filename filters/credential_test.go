package filters_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

// canary marks secret values that must never show up in an error.
const canary = "CANARY-4f1d9"

// credentialFilter is a credential filter under test whose secret "/s/bad" is the one the
// failure cases spoil; any other secret it uses holds a good value.
type credentialFilter struct {
	name   string
	spec   func(filters.SecretSource) filters.Spec
	args   []any
	header string
}

func credentialFilters() []credentialFilter {
	return []credentialFilter{
		{"bearerinjector", filters.NewBearerInjector, []any{"/s/bad"}, "Authorization"},
		{"setRequestHeaderFromSecret", filters.NewSetRequestHeaderFromSecret,
			[]any{"x-api-key", "/s/bad", "key=", ";"}, "X-Api-Key"},
		{"basicAuthFromSecret user", filters.NewBasicAuthFromSecret, []any{"/s/bad", "/s/good"}, "Authorization"},
		{"basicAuthFromSecret password", filters.NewBasicAuthFromSecret, []any{"/s/good", "/s/bad"}, "Authorization"},
	}
}

func TestCredentialFailsClosed(t *testing.T) {
	values := []struct {
		name     string
		value    string // value of /s/bad
		missing  bool
		reason   string
		notFound bool
	}{
		{name: "missing", missing: true, reason: "not found", notFound: true},
		{name: "empty", value: "", reason: "empty value"},
		{name: "CRLF header injection", value: canary + "\r\nX-Evil: 1", reason: "value contains control character 0x0d"},
		{name: "trailing CR", value: canary + "\r", reason: "value contains control character 0x0d"},
		{name: "LF", value: canary + "\nmore", reason: "value contains control character 0x0a"},
		{name: "NUL", value: canary + "\x00", reason: "value contains control character 0x00"},
		{name: "escape", value: "\x1b[31m" + canary, reason: "value contains control character 0x1b"},
		{name: "DEL", value: canary + "\x7f", reason: "value contains control character 0x7f"},
	}
	for _, cf := range credentialFilters() {
		for _, v := range values {
			t.Run(cf.name+"/"+v.name, func(t *testing.T) {
				src := filtertest.Secrets{"/s/good": "good", "/s/bad": v.value}
				if v.missing {
					src.Delete("/s/bad")
				}
				f := filtertest.Create(t, cf.spec(src), cf.args...)
				r := filtertest.Request(t, "GET", "http://host1/foo",
					cf.header, "Bearer evil", cf.header, "Bearer evil2", "X-Other", "kept")

				err := f.Request(r)
				if !errors.Is(err, filters.ErrCredentialUnavailable) {
					t.Fatalf("got error %v, want one wrapping ErrCredentialUnavailable", err)
				}
				if got := errors.Is(err, secrets.ErrNotFound); got != v.notFound {
					t.Errorf("errors.Is(err, secrets.ErrNotFound) = %v, want %v", got, v.notFound)
				}
				var ce *filters.CredentialError
				if !errors.As(err, &ce) {
					t.Fatalf("got error of type %T, want *filters.CredentialError", err)
				}
				if ce.SecretName != "/s/bad" || ce.Reason != v.reason {
					t.Errorf("got secret %q reason %q, want /s/bad %q", ce.SecretName, ce.Reason, v.reason)
				}
				if !strings.Contains(err.Error(), `"/s/bad"`) {
					t.Errorf("got error %q, want it to name the secret /s/bad", err)
				}
				checkNoLeak(t, err, canary)
				checkHeader(t, r.Header, cf.header)
				checkHeader(t, r.Header, "X-Other", "kept")
			})
		}
	}
}

func TestCredentialErrorText(t *testing.T) {
	tests := []struct {
		name string
		spec filters.Spec
		args []any
		want string
	}{
		{"bearer missing", filters.NewBearerInjector(filtertest.Secrets{}), []any{"/s/tok"},
			`bearerinjector: credential unavailable: secret "/s/tok": not found`},
		{"bearer empty", filters.NewBearerInjector(filtertest.Secrets{"/s/tok": ""}), []any{"/s/tok"},
			`bearerinjector: credential unavailable: secret "/s/tok": empty value`},
		{"header CR", filters.NewSetRequestHeaderFromSecret(filtertest.Secrets{"/s/k": canary + "\r"}),
			[]any{"X-Key", "/s/k"},
			`setRequestHeaderFromSecret: credential unavailable: secret "/s/k": value contains control character 0x0d`},
		{"basic colon", filters.NewBasicAuthFromSecret(filtertest.Secrets{"/s/u": "a:" + canary, "/s/p": "p"}),
			[]any{"/s/u", "/s/p"},
			`basicAuthFromSecret: credential unavailable: secret "/s/u": user name contains a colon`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			err := f.Request(filtertest.Request(t, "GET", "http://host1/"))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error\n\t%v\nwant\n\t%s", err, tc.want)
			}
		})
	}
}

// failingSource fails every lookup with an error that is not ErrNotFound.
type failingSource struct{}

func (failingSource) Get(name string) (secrets.Secret, error) {
	return nil, fmt.Errorf("reading %s: permission denied", name)
}

func TestCredentialOtherSourceError(t *testing.T) {
	f := filtertest.Create(t, filters.NewBearerInjector(failingSource{}), "/s/tok")
	err := f.Request(filtertest.Request(t, "GET", "http://host1/", "Authorization", "Bearer evil"))
	want := `bearerinjector: credential unavailable: secret "/s/tok": lookup failed: reading /s/tok: permission denied`
	if err == nil || err.Error() != want {
		t.Errorf("got error\n\t%v\nwant\n\t%s", err, want)
	}
	if !errors.Is(err, filters.ErrCredentialUnavailable) || errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("got error %v, want one wrapping ErrCredentialUnavailable and not secrets.ErrNotFound", err)
	}
}

func TestCredentialAllowedBytes(t *testing.T) {
	// Tab, space and non-ASCII bytes (obs-text) may appear in a header value.
	for _, v := range []string{"a\tb", "a b", "ünïcode", "\xff\x80"} {
		src := filtertest.Secrets{"/s/tok": v}
		f := filtertest.Create(t, filters.NewBearerInjector(src), "/s/tok")
		r := filtertest.Request(t, "GET", "http://host1/")
		if err := f.Request(r); err != nil {
			t.Errorf("value %q: got error %v, want none", v, err)
		}
		checkHeader(t, r.Header, "Authorization", "Bearer "+v)
	}
}

// rotatingSource serves one value for every name and can be rotated while requests run, as
// the real store can.
type rotatingSource struct {
	v atomic.Pointer[secrets.Secret]
}

func (s *rotatingSource) set(v string) {
	sec := secrets.Secret(v)
	s.v.Store(&sec)
}

func (s *rotatingSource) Get(name string) (secrets.Secret, error) {
	v := s.v.Load()
	if v == nil {
		return nil, fmt.Errorf("secret %q: %w", name, secrets.ErrNotFound)
	}
	return *v, nil
}

// rotate cycles the value through v0..v4, an empty value and a missing one until stop closes.
func (s *rotatingSource) rotate(stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		switch i % 7 {
		case 5:
			s.set("")
		case 6:
			s.v.Store(nil)
		default:
			s.set(fmt.Sprintf("v%d", i%5))
		}
	}
}

// validRotated reports whether v is one of the usable values that rotate sets.
func validRotated(v string) bool {
	return len(v) == 2 && v[0] == 'v' && '0' <= v[1] && v[1] <= '4'
}

// checkInjected returns what is wrong with the header values got after a filter returned err,
// or "". The filter must either fail closed or set prefix + a rotated value + suffix; with
// basic, the value is user:password in base64, each a rotated value.
func checkInjected(err error, got []string, prefix, suffix string, basic bool) string {
	if err != nil {
		if !errors.Is(err, filters.ErrCredentialUnavailable) || got != nil {
			return fmt.Sprintf("got error %v and header %q, want ErrCredentialUnavailable and no header", err, got)
		}
		return ""
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], prefix) || !strings.HasSuffix(got[0], suffix) {
		return fmt.Sprintf("got header %q, want one value %s...%s", got, prefix, suffix)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(got[0], prefix), suffix)
	if !basic {
		if !validRotated(v) {
			return fmt.Sprintf("got value %q, want a rotated value", v)
		}
		return ""
	}
	// The two secrets are looked up one after the other, so they may come from different
	// rotations; each must still be a whole, usable value.
	b, _ := base64.StdEncoding.DecodeString(v)
	if u, p, _ := strings.Cut(string(b), ":"); !validRotated(u) || !validRotated(p) {
		return fmt.Sprintf("got basic credentials %q, want two rotated values", b)
	}
	return ""
}

// TestCredentialConcurrentUse runs each credential filter from several goroutines at once while
// the secret rotates, becomes empty and disappears; run it with -race.
func TestCredentialConcurrentUse(t *testing.T) {
	src := &rotatingSource{}
	src.set("v0")
	bearer := filtertest.Create(t, filters.NewBearerInjector(src), "/s/tok")
	header := filtertest.Create(t, filters.NewSetRequestHeaderFromSecret(src), "X-Key", "/s/tok", "<", ">")
	basic := filtertest.Create(t, filters.NewBasicAuthFromSecret(src), "/s/u", "/s/p")

	stop := make(chan struct{})
	rotated := make(chan struct{})
	go func() {
		defer close(rotated)
		src.rotate(stop)
	}()

	const workers, perWorker = 8, 300
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				r := filtertest.Request(t, "GET", "http://host1/", "Authorization", "Bearer evil", "X-Key", "evil")
				msg := checkInjected(bearer.Request(r), r.Header["Authorization"], "Bearer ", "", false)
				if msg == "" {
					msg = checkInjected(header.Request(r), r.Header["X-Key"], "<", ">", false)
				}
				if msg == "" {
					msg = checkInjected(basic.Request(r), r.Header["Authorization"], "Basic ", "", true)
				}
				if msg != "" {
					errs <- msg
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-rotated
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
