package routesrc

import "github.com/skipper-egress/skipper/internal/fswatch"

// usePortableWatcher makes l watch with fsnotify, which reports no closes, as on systems other
// than Linux. Call it before Run.
func usePortableWatcher(l *Loader) { l.newWatcher = fswatch.NewPortable }
