package circuit

// outcomes is the rate breaker's window: the last size outcomes as bits in a ring, 1 for a
// failure, with a running count of the failures among them. Adding is O(1) and allocation-free.
type outcomes struct {
	bits     []uint64
	size     int
	next     int // position of the next outcome
	filled   int // outcomes held, up to size
	failures int
}

func newOutcomes(size int) outcomes {
	return outcomes{bits: make([]uint64, (size+63)/64), size: size}
}

// add records one outcome, dropping the oldest once the window is full.
func (o *outcomes) add(failure bool) {
	word, mask := o.next/64, uint64(1)<<(o.next%64)
	if o.filled == o.size {
		if o.bits[word]&mask != 0 {
			o.failures--
		}
	} else {
		o.filled++
	}
	if failure {
		o.bits[word] |= mask
		o.failures++
	} else {
		o.bits[word] &^= mask
	}
	o.next++
	if o.next == o.size {
		o.next = 0
	}
}

func (o *outcomes) reset() {
	clear(o.bits)
	o.next, o.filled, o.failures = 0, 0, 0
}
