package metrics

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of a credential use, the outcome label of skipper_credential_injections_total; any
// other value is counted as OutcomeOther. They are the words of filters.CredentialUse.Result.
const (
	OutcomeInjected    = "injected"
	OutcomeUnavailable = "unavailable"
	OutcomeFailed      = "failed"
	OutcomeOther       = "other"
)

var outcomeLabels = [...]string{OutcomeInjected, OutcomeUnavailable, OutcomeFailed, OutcomeOther}

const numOutcomes = len(outcomeLabels)

// outcomeIndex returns the index of outcome in outcomeLabels, that of OutcomeOther for an
// unknown one, so that no label ever carries a value from outside the fixed set.
func outcomeIndex(outcome string) int {
	for i, l := range outcomeLabels {
		if l == outcome {
			return i
		}
	}
	return numOutcomes - 1
}

// injectionSeries holds the children of one filter on one route, by outcome.
type injectionSeries [numOutcomes]prometheus.Counter

// Injection counts a use of a credential by filter, a registered filter name, on the route
// routeID, with its outcome (see the Outcome* constants).
func (m *Metrics) Injection(routeID, filter, outcome string) {
	if m == nil {
		return
	}
	rs := m.route(routeID)
	s, ok := rs.injections.load(filter)
	if !ok {
		s = rs.injections.loadOrCreate(filter, func() *injectionSeries {
			label := sanitize(filter)
			s := new(injectionSeries)
			for i := range s {
				s[i] = m.injections.WithLabelValues(rs.label, label, outcomeLabels[i])
			}
			return s
		})
	}
	s[outcomeIndex(outcome)].Inc()
}
