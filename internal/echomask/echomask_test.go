package echomask_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/skipper-egress/skipper/internal/echomask"
)

// reference masks body the simple way: the whole body at once, value after value.
func reference(body []byte, values [][]byte) []byte {
	for _, v := range values {
		body = bytes.ReplaceAll(body, v, bytes.Repeat([]byte("*"), len(v)))
	}
	return body
}

// chunked yields body in the chunk sizes that seed draws, 1 to max bytes each.
type chunked struct {
	body []byte
	rnd  *rand.Rand
	max  int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.body) == 0 {
		return 0, io.EOF
	}
	n := min(1+c.rnd.IntN(c.max), len(c.body), len(p))
	copy(p, c.body[:n])
	c.body = c.body[n:]
	return n, nil
}

// masked reads body through the masker in random chunks, and reads it out in random sizes too.
func masked(t testing.TB, body []byte, values [][]byte, seed uint64, maxChunk int) []byte {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r := echomask.NewReader(&chunked{body: body, rnd: rnd, max: maxChunk}, values)
	defer r.Close()
	var out bytes.Buffer
	p := make([]byte, 1+rnd.IntN(64))
	for {
		n, err := r.Read(p)
		out.Write(p[:n])
		if err == io.EOF {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzReader holds the streaming masker to the whole-body reference, for any body, values and
// chunking. Its corpus is kept under testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"headers":{"Authorization":"Bearer s3cr3t"}}`), []byte("s3cr3t"), []byte("Basic"), uint64(1), uint8(3))
	f.Add([]byte("aaaaaaa"), []byte("aa"), []byte("a"), uint64(2), uint8(1))
	f.Add([]byte("abababab"), []byte("abab"), []byte("bab"), uint64(3), uint8(2))
	f.Add([]byte("x*y*x*y"), []byte("*y"), []byte("x**"), uint64(4), uint8(5))
	f.Add(bytes.Repeat([]byte("tok"), 20000), []byte("oktok"), []byte("kt"), uint64(5), uint8(255))
	f.Fuzz(func(t *testing.T, body, v1, v2 []byte, seed uint64, maxChunk uint8) {
		values := echomask.Values([][]byte{v1, v2})
		want := reference(bytes.Clone(body), values)
		got := masked(t, body, values, seed, 1+int(maxChunk))
		if !bytes.Equal(got, want) {
			t.Fatalf("body %q values %q: got %q, want %q", body, values, got, want)
		}
		if s := echomask.String(string(body), values); s != string(want) {
			t.Fatalf("String: got %q, want %q", s, want)
		}
	})
}

// TestReaderAcrossChunks checks the case that matters: a secret split over two chunks.
func TestReaderAcrossChunks(t *testing.T) {
	const secret = "sk-live-0123456789"
	body := []byte(`{"authorization": "Bearer ` + secret + `", "n": 1}`)
	split := bytes.Index(body, []byte("0123"))
	r := echomask.NewReader(io.MultiReader(bytes.NewReader(body[:split]), bytes.NewReader(body[split:])),
		echomask.Values([][]byte{[]byte(secret)}))
	got, err := io.ReadAll(iotest.OneByteReader(r))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(body), secret, strings.Repeat("*", len(secret)), 1)
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestReaderPassesErrors checks that a source's error other than EOF reaches the reader, after
// what came before it, and that a closed reader yields no more.
func TestReaderPassesErrors(t *testing.T) {
	r := echomask.NewReader(io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(io.ErrUnexpectedEOF)),
		[][]byte{[]byte("bc")})
	got, err := io.ReadAll(r)
	if string(got) != "ab" || err != io.ErrUnexpectedEOF {
		t.Errorf("got %q, %v; want \"ab\", unexpected EOF", got, err)
	}
	r.Close()
	if n, err := r.Read(make([]byte, 4)); n != 0 || err == nil {
		t.Errorf("after Close: got %d, %v", n, err)
	}
}

func TestHeader(t *testing.T) {
	h := http.Header{"X-Echo": {"Bearer tok-1", "none"}, "X-Basic": {"Basic dTpwdw=="}}
	echomask.Header(h, echomask.Values([][]byte{[]byte("tok-1"), []byte("dTpwdw=="), nil, []byte("tok-1")}))
	want := http.Header{"X-Echo": {"Bearer *****", "none"}, "X-Basic": {"Basic ********"}}
	for k, v := range want {
		if strings.Join(h[k], "|") != strings.Join(v, "|") {
			t.Errorf("%s: got %q, want %q", k, h[k], v)
		}
	}
}

func TestValues(t *testing.T) {
	got := echomask.Values([][]byte{[]byte("ab"), nil, []byte("abcd"), []byte("ab"), {}})
	if len(got) != 2 || string(got[0]) != "abcd" || string(got[1]) != "ab" {
		t.Errorf("got %q, want [abcd ab]", got)
	}
}

var errBlocked = errors.New("blocked")

// FuzzBlockingReader holds the blocking reader to the whole-body reference: it fails iff
// bytes.Contains finds a value in the body, and what it returned before is a prefix of the
// body that ends before the first occurrence of any value begins; otherwise it returns the body
// unchanged. Its corpus is kept under testdata/fuzz/FuzzBlockingReader.
func FuzzBlockingReader(f *testing.F) {
	f.Add([]byte(`{"q":"DROP TABLE users"}`), []byte("DROP TABLE"), []byte("<script"), uint64(1), uint8(3))
	f.Add([]byte("ABCDEF"), []byte("CDEF"), []byte("AB"), uint64(2), uint8(4))
	f.Add([]byte("aaaaaaab"), []byte("aab"), []byte("ba"), uint64(3), uint8(1))
	f.Add([]byte("no match here"), []byte("nope"), []byte(""), uint64(4), uint8(2))
	f.Add(append(bytes.Repeat([]byte("x"), 70000), "needle"...), []byte("needle"), []byte("hay"), uint64(5), uint8(255))
	f.Fuzz(func(t *testing.T, body, v1, v2 []byte, seed uint64, maxChunk uint8) {
		values := echomask.Values([][]byte{v1, v2})
		first := -1
		for _, v := range values {
			if i := bytes.Index(body, v); i >= 0 && (first < 0 || i < first) {
				first = i
			}
		}
		rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		r := echomask.NewBlockingReader(&chunked{body: body, rnd: rnd, max: 1 + int(maxChunk)}, values, errBlocked)
		defer r.Close()
		var got bytes.Buffer
		p := make([]byte, 1+rnd.IntN(64))
		var err error
		for err == nil {
			var n int
			n, err = r.Read(p)
			got.Write(p[:n])
		}
		switch {
		case first < 0 && (err != io.EOF || !bytes.Equal(got.Bytes(), body)):
			t.Fatalf("body %q values %q: got %q, %v; want the body and EOF", body, values, got.Bytes(), err)
		case first >= 0 && err != errBlocked:
			t.Fatalf("body %q values %q: got %v, want blocked", body, values, err)
		case first >= 0 && (got.Len() > first || !bytes.HasPrefix(body, got.Bytes())):
			t.Fatalf("body %q values %q: returned %q, want a prefix of %q", body, values, got.Bytes(), body[:first])
		}
	})
}
