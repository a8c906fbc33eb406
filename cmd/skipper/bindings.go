package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/secrets"
)

// addBindingFlags binds the flags that say where each secret may be sent.
func addBindingFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.StringArrayVar(&cfg.CredentialsBind, "credentials-bind", nil,
		"SECRET=HOST[,HOST...]: the secret (its path, as routes name it) may only be sent to these hosts (name, IP, *.domain, each with an optional :port); repeatable")
	fs.BoolVar(&cfg.CredentialsRequireBinding, "credentials-require-binding", false,
		"refuse to send a secret that neither -credentials-bind nor a SECRET.hosts file binds to hosts")
}

// validateBindings checks the -credentials-bind values.
func (c Config) validateBindings() []error {
	var errs []error
	for _, v := range c.CredentialsBind {
		if _, _, err := secrets.ParseBindFlag(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// newBindings builds the binding policy from the flags and the SECRET.hosts files in store. A
// -credentials-bind secret outside every credentials path is an error: most likely a typo,
// which would leave the secret the routes use unbound. check passes checkCovered false when it
// was given no credentials paths, and so cannot know where secrets live.
func newBindings(cfg Config, store *secrets.Store, checkCovered bool) (*secrets.Bindings, error) {
	var errs []error
	if checkCovered {
		for _, v := range cfg.CredentialsBind {
			name, _, err := secrets.ParseBindFlag(v)
			if err == nil && !store.Covers(name) {
				errs = append(errs, fmt.Errorf("-credentials-bind %q: secret %s is under no -credentials-paths entry", v, name))
			}
		}
	}
	b, err := secrets.NewBindings(secrets.BindingOptions{
		Flags: cfg.CredentialsBind, Hosts: store, Require: cfg.CredentialsRequireBinding,
	})
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}
