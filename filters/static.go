package filters

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
)

// StaticName is the route name of the filter that answers with files from a directory.
const StaticName = "static"

type staticSpec struct{}

type staticFilter struct{ prefix, root string }

var (
	_ Spec           = (*staticSpec)(nil)
	_ ResponseFilter = (*staticFilter)(nil)
)

// NewStatic returns the spec of static(prefix, directory), which, as Skipper's, answers with
// the file under directory that the request path names once prefix is cut from it, as Go's
// http.FileServer serves it: a directory's index.html or, without one, a listing of its
// entries; a request for .../index.html is redirected to the directory; ranges and conditional
// requests are honoured; a path without prefix gets 404. The backend is not called and the
// later request filters do not run.
//
// Nothing outside the directory is served: the path is cleaned after prefix is cut, so ".."
// (encoded or not) stays inside, and the directory is opened as an os.Root, through which a
// symbolic link that leads out of it does not resolve (Skipper's follows such links).
//
// The directory is opened for each request, not when the route loads: a route naming one that
// does not exist loads (Skipper's does not) and its requests fail with 500, logged.
func NewStatic() Spec { return &staticSpec{} }

func (*staticSpec) Name() string { return StaticName }

func (*staticSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(StaticName, args, 2, "path prefix", "directory")
	if err != nil {
		return nil, err
	}
	if a[1] == "" {
		return nil, argsErrorf("%s: argument 2 (directory) must not be empty", StaticName)
	}
	return &staticFilter{prefix: a[0], root: a[1]}, nil
}

// Request answers; Response, which runs on that answer, serves the file into it.
func (*staticFilter) Request(*http.Request) error { return &Reply{} }

func (f *staticFilter) Response(res *http.Response) error {
	root, err := os.OpenRoot(f.root)
	if err != nil {
		return fmt.Errorf("%s: %w", StaticName, err)
	}
	files := http.StripPrefix(f.prefix, http.FileServerFS(root.FS()))
	pr, pw := io.Pipe()
	w := &pipeResponse{header: make(http.Header), ready: make(chan struct{}), body: pw}
	req := res.Request
	// However the answer ends, the request's context ends with it, and then the file server's
	// next write fails: it never waits on a body nobody reads.
	stop := context.AfterFunc(req.Context(), func() { pr.CloseWithError(req.Context().Err()) })
	go func() {
		defer stop()
		defer root.Close()
		files.ServeHTTP(w, req)
		w.WriteHeader(http.StatusOK) // if the handler wrote nothing
		w.body.Close()
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err()) // the handler's next write fails
		return req.Context().Err()
	}
	if res.Header == nil {
		res.Header = make(http.Header)
	}
	for k, vv := range w.sent {
		res.Header[k] = vv
	}
	res.StatusCode = w.status
	res.Body = pr // closing it fails the handler's next write
	res.ContentLength = -1
	if n, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil {
		res.ContentLength = n
	}
	return nil
}

// pipeResponse is the http.ResponseWriter a handler writes an answer into: its head once
// written, its body through a pipe, as its reader reads.
type pipeResponse struct {
	header http.Header
	sent   http.Header   // header as it was when the head was written
	status int           // and the status
	ready  chan struct{} // closed when the head is written
	body   *io.PipeWriter
}

func (w *pipeResponse) Header() http.Header { return w.header }

func (w *pipeResponse) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status, w.sent = status, w.header.Clone() // the handler's later changes are not the answer's
	close(w.ready)
}

func (w *pipeResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}
