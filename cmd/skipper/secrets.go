package main

import (
	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// warnUncoveredSecrets logs a warning for every secret a route reads that lies outside all
// credentials paths: such a secret can never load, so the route would answer 503 for good. It
// is most often a typo in the route or a forgotten -credentials-paths entry.
func warnUncoveredSecrets(table *routing.Table, store *secrets.Store, log logrus.FieldLogger) {
	for _, rt := range table.Routes() {
		for _, f := range rt.Filters {
			su, ok := f.(filters.SecretUser)
			if !ok {
				continue
			}
			for _, name := range su.SecretNames() {
				if !store.Covers(name) {
					log.WithFields(logrus.Fields{"route": rt.Name(), "path": name}).
						Warnf("Route %q reads secret %s, which is under no -credentials-paths entry; its requests will fail with 503", rt.Name(), name)
				}
			}
		}
	}
}
