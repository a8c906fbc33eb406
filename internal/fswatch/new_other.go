//go:build !linux

package fswatch

// New returns a Watcher backed by fsnotify, which does not report CloseWrite on this system.
func New() (*Watcher, error) { return NewPortable() }
