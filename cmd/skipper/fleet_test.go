package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/redistest"
)

// The fleet quota of issue 6: three skipper processes share one Redis and the route
// clusterRatelimit("api", fleetLimit, "1s").
const (
	fleetLimit  = 100
	fleetPeriod = time.Second
	fleetSize   = 3

	// fleetTick paces the load: every tick sends one request to each process, 300 requests/s
	// in all, three times the limit, for fleetTicks ticks (10s).
	fleetTick  = 10 * time.Millisecond
	fleetTicks = 1000
	// Redis is killed at tick fleetKillAt and started again, empty, on the same port at
	// fleetRestartAt.
	fleetKillAt    = 400
	fleetRestartAt = 650
	// fleetInFlight bounds the requests waiting for an answer, per fleet.
	fleetInFlight = 100

	// fleetClockMargin shortens the intervals in which the test counts admitted requests: the
	// limiter keeps its bound of at most fleetLimit admissions in any interval of fleetPeriod
	// (filters/ratelimit/doc.go) on the Redis server's wall clock, and the test measures on its
	// monotonic clock, which may run apart from it by the 500 ppm an NTP slew allows, half a
	// millisecond per second.
	fleetClockMargin = time.Millisecond

	// fleetRecovery is how long after Redis answers again a process may keep following the
	// failure policy: go-redis stops dialling after PoolSize dials in a row have failed and
	// then probes once a second (doc.go of filters/ratelimit), plus the 50ms dial timeout and
	// a margin for a loaded machine.
	fleetRecovery = 1500 * time.Millisecond
)

// TestFleetQuota is issue 6's fleet test: three skipper processes sharing one redis-server and
// clusterRatelimit("api", 100, "1s"), driven together at 300 requests/s for 10s, with Redis
// killed after 4s and started again, empty, on the same port 2.5s later. While Redis is up, no
// one-second interval may hold more than the limit of requests that were certainly admitted in
// it (sent and seen by the backend within it), the rest get 429 with Retry-After; while Redis is down every request passes (fail-open,
// the default) or gets 429 (-cluster-ratelimit-fail-closed); no process panics; limiting
// resumes once Redis is back. The two policies run side by side, each with a Redis of its own.
func TestFleetQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three skipper processes and redis-server for 10s")
	}
	for _, failClosed := range []bool{false, true} {
		name := map[bool]string{false: "fail open", true: "fail closed"}[failClosed]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := startFleet(t, failClosed)
			f.drive(t)
			f.checkQuota(t)
			f.checkOutage(t, failClosed)
			f.checkLogs(t, failClosed)
		})
	}
}

// fleetArrival is a request the backend saw: when, and when the test sent it, both since the
// run began.
type fleetArrival struct{ at, sent time.Duration }

// fleetAnswer is what a client got for one request.
type fleetAnswer struct {
	proc       int
	sent       time.Duration
	status     int
	retryAfter string
}

// fleet is three skipper processes, their Redis and their backend, and what happened to the
// requests sent through them.
type fleet struct {
	redis *redistest.Server
	procs []*process
	begin time.Time

	mu       sync.Mutex
	arrivals []fleetArrival
	answers  []fleetAnswer

	// Points of the run, since begin: before Redis is killed, once it is dead, before it
	// starts again and once it answers.
	killStart, killDone, restartStart, restartDone time.Duration

	// The Redis errors the processes counted (skipper_ratelimit_redis_errors_total, all
	// processes) before Redis was killed, and from the start of the phase after the restart to
	// the end. Under fail-open each is a request admitted past the limiter: on a loaded
	// machine a 25ms Redis timeout does fire now and then.
	errorsBefore, errorsAfter int
}

func startFleet(t *testing.T, failClosed bool) *fleet {
	f := &fleet{redis: redistest.Start(t)}
	backend := newFleetBackend(t, f)
	for range fleetSize {
		f.procs = append(f.procs, start(t,
			fmt.Sprintf(`-inline-routes=r: * -> clusterRatelimit("api", %d, "%s") -> "%s"`, fleetLimit, fleetPeriod, backend),
			"-swarm-redis-urls="+f.redis.Addr(), fmt.Sprintf("-cluster-ratelimit-fail-closed=%v", failClosed),
			"-access-log-disabled"))
	}
	return f
}

// newFleetBackend starts a loopback backend that records when each request arrives and when
// the test sent it (X-Sent, nanoseconds since the run began).
func newFleetBackend(t *testing.T, f *fleet) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Since(f.begin)
		sent, _ := strconv.ParseInt(r.Header.Get("X-Sent"), 10, 64)
		f.mu.Lock()
		f.arrivals = append(f.arrivals, fleetArrival{at, time.Duration(sent)})
		f.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// drive sends the load, kills Redis and brings it back, and waits for every answer.
func (f *fleet) drive(t *testing.T) {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: fleetInFlight},
	}
	defer client.CloseIdleConnections()
	sem := make(chan struct{}, fleetInFlight)
	var wg sync.WaitGroup
	f.begin = time.Now()
	tick := time.NewTicker(fleetTick)
	defer tick.Stop()
	afterFrom := -1
	for i := range fleetTicks {
		switch {
		case i == fleetKillAt:
			f.errorsBefore = f.redisErrors(t)
			f.killStart = time.Since(f.begin)
			f.redis.Stop()
			f.killDone = time.Since(f.begin)
		case i == fleetRestartAt:
			f.restartStart = time.Since(f.begin)
			f.redis.Restart()
			f.restartDone = time.Since(f.begin)
		case i > fleetRestartAt && afterFrom < 0 && time.Since(f.begin) >= f.restartDone+fleetRecovery:
			afterFrom = f.redisErrors(t)
		}
		for i, p := range f.procs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				f.send(t, client, i, p)
			}()
		}
		<-tick.C
	}
	wg.Wait()
	if afterFrom < 0 {
		t.Fatal("the run ended before the phase after the restart began")
	}
	f.errorsAfter = f.redisErrors(t) - afterFrom
}

// redisErrors returns the Redis errors all processes have counted so far.
func (f *fleet) redisErrors(t *testing.T) int {
	total := 0
	for _, p := range f.procs {
		_, metrics := p.supportGet(t, "/metrics")
		m := regexp.MustCompile(`(?m)^skipper_ratelimit_redis_errors_total (\d+)$`).FindStringSubmatch(metrics)
		if m == nil {
			t.Fatalf("no skipper_ratelimit_redis_errors_total in /metrics:\n%s", metrics)
		}
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

func (f *fleet) send(t *testing.T, client *http.Client, i int, p *process) {
	sent := time.Since(f.begin)
	req, err := http.NewRequest("GET", "http://"+p.addr+"/", nil)
	if err != nil {
		t.Error(err)
		return
	}
	req.Host = "api"
	req.Header.Set("X-Sent", strconv.FormatInt(int64(sent), 10))
	res, err := client.Do(req)
	if err != nil {
		t.Errorf("request sent at %v: %v", sent, err)
		return
	}
	res.Body.Close()
	f.mu.Lock()
	f.answers = append(f.answers, fleetAnswer{i, sent, res.StatusCode, res.Header.Get("Retry-After")})
	f.mu.Unlock()
}

// mostAdmittedInPeriod returns the most requests admitted within one interval
// [w, w+fleetPeriod-fleetClockMargin), and its start. The limiter admits a request somewhere
// between the moment the test sent it and the moment the backend saw it, so a request whose
// whole span lies in an interval was admitted in it, however long the proxy, the scheduler or
// the network took: the count needs no allowance for delays, which a loaded machine stretches
// past any fixed one. Intervals starting at a sending time are enough, since moving an
// interval's start up to the first sending time in it loses no request.
func mostAdmittedInPeriod(arrivals []fleetArrival) (most int, at time.Duration) {
	for _, w := range arrivals {
		n := 0
		for _, a := range arrivals {
			if a.sent >= w.sent && a.at < w.sent+fleetPeriod-fleetClockMargin {
				n++
			}
		}
		if n > most {
			most, at = n, w.sent
		}
	}
	return most, at
}

// perSecond counts times in consecutive whole seconds of the run.
func perSecond(times []time.Duration) []int {
	counts := make([]int, fleetTicks*fleetTick/time.Second+1)
	for _, t := range times {
		if i := int(t / time.Second); i < len(counts) {
			counts[i]++
		}
	}
	return counts
}

var panicLine = regexp.MustCompile(`(?i)panic|fatal error|data race`)

// checkQuota checks the limit while Redis is up: before it was killed (requests that reached the
// backend before then were decided by Redis), and after it came back (requests sent once the
// processes had had fleetRecovery to notice).
func (f *fleet) checkQuota(t *testing.T) {
	var before, after []fleetArrival
	for _, a := range f.arrivals {
		if a.at < f.killStart {
			before = append(before, a)
		}
		if a.sent >= f.restartDone+fleetRecovery {
			after = append(after, a)
		}
	}
	for _, ph := range []struct {
		name     string
		arrivals []fleetArrival
		from     time.Duration
		to       time.Duration
		errors   int
	}{
		{"before redis was killed", before, 0, f.killStart, f.errorsBefore},
		{"after redis came back", after, f.restartDone + fleetRecovery, fleetTicks * fleetTick, f.errorsAfter},
	} {
		times := make([]time.Duration, 0, len(ph.arrivals))
		for _, a := range ph.arrivals {
			times = append(times, a.at)
		}
		most, at := mostAdmittedInPeriod(ph.arrivals)
		t.Logf("%s [%v, %v): backend saw %d requests, at most %d admitted in one period (from %v), %d Redis errors; per second: %v",
			ph.name, ph.from.Round(time.Millisecond), ph.to.Round(time.Millisecond), len(times), most,
			at.Round(time.Millisecond), ph.errors, perSecond(times))
		// A request that Redis did not decide passes under fail-open, uncounted; fail-closed
		// refuses it, and the allowance goes unused.
		if most > fleetLimit+ph.errors {
			t.Errorf("%s: %d requests were admitted within %v from %v, want at most %d (the limit, and %d Redis errors)",
				ph.name, most, fleetPeriod-fleetClockMargin, at, fleetLimit+ph.errors, ph.errors)
		}
		// At three times the limit, the limiter must still admit about the limit per period.
		if least := int(fleetLimit*(ph.to-ph.from).Seconds()/fleetPeriod.Seconds()) - fleetLimit; len(times) < least {
			t.Errorf("%s: backend saw %d requests, want at least %d: the limiter refuses too much", ph.name, len(times), least)
		}
	}
	counts := map[int]int{}
	for _, a := range f.answers {
		counts[a.status]++
		if a.status == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(a.retryAfter); err != nil || n <= 0 {
				t.Errorf("429 for the request sent at %v: got Retry-After %q, want a positive number of seconds", a.sent, a.retryAfter)
			}
		}
	}
	t.Logf("answers: %d sent, by status %v", len(f.answers), counts)
	if len(counts) > 2 || counts[http.StatusOK] == 0 || counts[http.StatusTooManyRequests] == 0 {
		t.Errorf("got statuses %v, want 200 and 429 only", counts)
	}
	if len(f.answers) != fleetTicks*fleetSize {
		t.Errorf("got %d answers, want %d", len(f.answers), fleetTicks*fleetSize)
	}
}

// checkOutage checks the requests sent while Redis was dead, and that limiting resumed after.
func (f *fleet) checkOutage(t *testing.T, failClosed bool) {
	want := http.StatusOK
	if failClosed {
		want = http.StatusTooManyRequests
	}
	down, wrong, resumed := 0, 0, map[int]int{}
	// recovered is, per process, when the first request sent after Redis came back got an
	// answer only Redis could give: 200 when failing closed, 429 when failing open.
	recovered := make([]time.Duration, fleetSize)
	for _, a := range f.answers {
		switch {
		case a.sent >= f.killDone && a.sent < f.restartStart:
			down++
			if a.status != want {
				wrong++
			}
		case a.sent >= f.restartDone:
			resumed[a.status]++
			if a.status != want && (recovered[a.proc] == 0 || a.sent-f.restartDone < recovered[a.proc]) {
				recovered[a.proc] = a.sent - f.restartDone
			}
		}
	}
	reached := 0
	for _, a := range f.arrivals {
		if a.sent >= f.killDone && a.sent < f.restartStart {
			reached++
		}
	}
	t.Logf("redis down [%v, %v): %d requests sent, %d reached the backend, %d answered other than %d; "+
		"redis back after %v; answers since: %v; first answer from redis again, per process, after %v",
		f.killDone.Round(time.Millisecond), f.restartStart.Round(time.Millisecond), down, reached, wrong, want,
		(f.restartDone - f.restartStart).Round(time.Millisecond), resumed, recovered)
	for i, d := range recovered {
		// Failing open, the first 429 also waits for the quota to fill: allow one period more.
		if limit := fleetRecovery + map[bool]time.Duration{false: fleetPeriod}[failClosed]; d == 0 || d > limit {
			t.Errorf("process %d: limiting resumed %v after redis came back, want within %v", i+1, d, limit)
		}
	}
	if down < fleetSize*(fleetRestartAt-fleetKillAt)/2 {
		t.Errorf("only %d requests were sent while redis was down", down)
	}
	if wrong > 0 {
		t.Errorf("redis down: %d of %d requests got another status than %d", wrong, down, want)
	}
	if wantReached := map[bool]int{false: down, true: 0}[failClosed]; reached != wantReached {
		t.Errorf("redis down: backend saw %d requests, want %d", reached, wantReached)
	}
	if resumed[http.StatusOK] == 0 || resumed[http.StatusTooManyRequests] == 0 {
		t.Errorf("after redis came back: got statuses %v, want both 200 and 429", resumed)
	}
}

// checkLogs checks that no process panicked or died, and that each logged the outage and the
// recovery.
func (f *fleet) checkLogs(t *testing.T, failClosed bool) {
	outage := "cluster ratelimit: redis unavailable, failing " + map[bool]string{false: "open", true: "closed"}[failClosed]
	for i, p := range f.procs {
		select {
		case <-p.done:
			t.Errorf("process %d exited during the run:\n%s", i+1, p.Log())
			continue
		default:
		}
		log := p.Log()
		if m := panicLine.FindString(log); m != "" {
			t.Errorf("process %d logged %q:\n%s", i+1, m, log)
		}
		if !strings.Contains(log, outage) || !strings.Contains(log, "cluster ratelimit: redis reachable again") {
			t.Errorf("process %d did not log the outage (%q) and the recovery:\n%s", i+1, outage, log)
		}
	}
}
