package secrets

import (
	"time"

	"github.com/skipper-egress/skipper/internal/fswatch"
)

// usePortableWatcher makes s watch with fsnotify, which reports no closes, as on systems other
// than Linux. Call it before Run.
func usePortableWatcher(s *Store) { s.newWatcher = fswatch.NewPortable }

// setOpenWriteLimit shortens how long s leaves a file that a writer holds open alone. Call it
// before Run.
func setOpenWriteLimit(s *Store, d time.Duration) { s.writers.limit = d }
