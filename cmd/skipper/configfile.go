package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// configFileFlag is the name of the flag that names Skipper's YAML configuration file.
const configFileFlag = "config-file"

// applyConfigFile sets, from the YAML file name, every flag that the command line did not
// set, as Skipper's -config-file: the keys are the flags' names, and a flag given on the
// command line wins. A value is a scalar, written as on the command line, or, for a flag that
// may be repeated or takes a comma-separated list, a list of them. Unlike Skipper, which skips
// the keys it does not know, a key that is not one of skipper's flags is an error, as an unknown
// flag is; a key of a subsystem this egress proxy leaves out is reported as not supported.
func applyConfigFile(fs *pflag.FlagSet, name string) error {
	src, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("-%s: %w", configFileFlag, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("-%s %s: %w", configFileFlag, name, err)
	}
	if len(doc.Content) == 0 { // an empty file sets nothing
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("-%s %s:%d: want a mapping of flag names to values", configFileFlag, name, root.Line)
	}
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		if err := setFromConfig(fs, key, value); err != nil {
			errs = append(errs, fmt.Errorf("-%s %s:%d: %w", configFileFlag, name, key.Line, err))
		}
	}
	return errors.Join(errs...)
}

// setFromConfig sets the flag that key names to value, unless the command line set it.
func setFromConfig(fs *pflag.FlagSet, key, value *yaml.Node) error {
	if key.Kind != yaml.ScalarNode {
		return errors.New("a key must be a flag name")
	}
	f := fs.Lookup(key.Value)
	switch {
	case f == nil || key.Value == configFileFlag || key.Value == "help" || key.Value == "version":
		return fmt.Errorf("unknown key %q: not a flag of skipper", key.Value)
	case fs.Changed(key.Value):
		return nil // the command line wins
	}
	if _, ok := f.Value.(anyValue); ok {
		return fs.Set(key.Value, "") // reported as not supported, whatever its value
	}
	var values []string
	switch value.Kind {
	case yaml.ScalarNode:
		values = []string{value.Value}
	case yaml.MappingNode:
		if key.Value != "open-telemetry" {
			return fmt.Errorf("%s: want a value or a list of values", key.Value)
		}
		// Skipper's config file writes the options as a mapping; the flag takes them as YAML.
		b, err := yaml.Marshal(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key.Value, err)
		}
		values = []string{string(b)}
	case yaml.SequenceNode:
		if !repeatable(f) {
			return fmt.Errorf("%s takes one value, not a list", key.Value)
		}
		for _, item := range value.Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: a list item must be a value", key.Value)
			}
			values = append(values, item.Value)
		}
	default:
		return fmt.Errorf("%s: want a value or a list of values", key.Value)
	}
	for _, v := range values {
		// pflag's error quotes the value, as for the command line; a flag that could hold a
		// secret takes any string and never fails here.
		if err := fs.Set(key.Value, v); err != nil {
			return fmt.Errorf("%s: %w", key.Value, err)
		}
	}
	return nil
}

// repeatable reports whether f takes several values: a list, or a flag that may be repeated.
func repeatable(f *pflag.Flag) bool {
	t := f.Value.Type()
	return strings.HasSuffix(t, "Slice") || strings.HasSuffix(t, "Array") || f.Name == "breaker"
}
