package filters

// LifoWaiting returns how many requests wait in the queue of f, a lifo or lifoGroup filter.
func LifoWaiting(f Filter) int {
	q := f.(*lifoFilter).q
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.stack)
}
