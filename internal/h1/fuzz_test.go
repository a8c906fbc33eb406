package h1

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"testing"
)

// FuzzWriteRequest checks the request writer against net/http's parser: whatever the header
// fields, host and target, writeRequest either refuses them or writes exactly one request that
// parses back to the same host, target and fields, so no value can smuggle in a field or a
// second request.
func FuzzWriteRequest(f *testing.F) {
	f.Add("api.test", "/a?b=c", "Authorization", "Bearer tok", "X-Other", "1")
	f.Add("api.test:8080", "/", "X-A", "v\r\nX-Injected: 1", "X-B", "")
	f.Add("a b", "/", "X A", "v", "Host", "evil.test")
	f.Add("api.test", "/%2F?x", "Content-Length", "5", "Transfer-Encoding", "chunked")
	f.Fuzz(func(t *testing.T, host, target, name1, value1, name2, value2 string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		if textproto.CanonicalMIMEHeaderKey(name1) != name1 || textproto.CanonicalMIMEHeaderKey(name2) != name2 {
			return // the proxy's requests carry canonical names, as Go's server and filters make them
		}
		u.Scheme, u.Host = "http", "backend.test"
		r := &http.Request{Method: http.MethodGet, URL: u, Host: host, Header: http.Header{}}
		r.Header[name1] = append(r.Header[name1], value1)
		r.Header[name2] = append(r.Header[name2], value2)

		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		if err := writeRequest(w, r); err != nil {
			return
		}
		w.Flush()
		br := bufio.NewReader(bytes.NewReader(buf.Bytes()))
		got, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("written request does not parse: %v\n%q", err, buf.Bytes())
		}
		if br.Buffered() != 0 {
			t.Fatalf("bytes after the request head: %q", buf.Bytes())
		}
		wantHost := host
		if wantHost == "" {
			wantHost = u.Host // as net/http's client: the URL's host when the request names none
		}
		if got.Host != wantHost {
			t.Fatalf("Host: got %q, want %q", got.Host, wantHost)
		}
		if got.RequestURI != u.RequestURI() {
			t.Fatalf("target: got %q, want %q", got.RequestURI, u.RequestURI())
		}
		want := http.Header{}
		if _, ok := r.Header["User-Agent"]; !ok {
			want["User-Agent"] = []string{defaultUserAgent}
		}
		for name, vv := range r.Header {
			switch name {
			case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
				continue // framing is the writer's own
			}
			for _, v := range vv {
				want[name] = append(want[name], textproto.TrimString(v))
			}
		}
		for name, vv := range want {
			if g := got.Header[name]; !equalValues(g, vv) {
				t.Fatalf("%s: got %q, want %q\n%q", name, g, vv, buf.Bytes())
			}
		}
		for name := range got.Header {
			if _, ok := want[name]; !ok {
				t.Fatalf("field %s appeared from nowhere\n%q", name, buf.Bytes())
			}
		}
	})
}

func equalValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
