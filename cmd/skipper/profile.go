package main

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"
)

// addProfileFlags binds Skipper's flags of the profiling endpoints.
func addProfileFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.BoolVar(&cfg.EnableProfile, "enable-profile", false,
		"serve Go's profiles (net/http/pprof) under /debug/pprof/ on the support listener")
	fs.StringVar(&cfg.DebugListener, "debug-listener", "",
		"address of a listener that serves Go's profiles under /debug/pprof/ alone; empty turns it off")
}

// withProfiles returns h with Go's profiles served under /debug/pprof/ in front of it. Not
// /debug/pprof/cmdline: a command line may hold credentials (a routes URL's user info, a Redis
// URL's password), and the profiles are no reason to hand them out.
func withProfiles(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves the named profiles: heap, goroutine, ...
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", h)
	return mux
}

// listenDebug opens the debug listener; nil when -debug-listener is empty. Skipper's answers
// each request with how it would route it; this one serves the profiles, which is what it is
// mostly opened for, so that they can be kept off the support listener that load balancers
// and scrapers reach.
func listenDebug(cfg Config, log logrus.FieldLogger) (*supportListener, error) {
	if cfg.DebugListener == "" {
		return nil, nil
	}
	ln, err := listenOn("debug-listener", cfg.DebugListener)
	if err != nil {
		return nil, err
	}
	log.Infof("Debug listener on %s", ln.Addr())
	// No write timeout: a CPU profile or trace takes as long as its ?seconds= says.
	server := &http.Server{Handler: withProfiles(http.NotFoundHandler()), ReadHeaderTimeout: 10 * time.Second}
	return &supportListener{ln: ln, server: server}, nil
}
