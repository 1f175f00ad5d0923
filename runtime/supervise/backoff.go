package supervise

import "time"

// Restart policy, as upstream: the first delay is 1 s and doubles after
// every short run up to MaxDelay; a run lasting at least ResetAfter brings
// it back to 1 s. Variables so tests can shorten them.
var (
	FirstDelay = 1 * time.Second
	MaxDelay   = 10 * time.Second
	ResetAfter = 30 * time.Second
)

// backoff computes the delay before each restart.
type backoff struct {
	first, max, reset time.Duration
	next              time.Duration
}

func newBackoff() *backoff {
	return &backoff{first: FirstDelay, max: MaxDelay, reset: ResetAfter, next: FirstDelay}
}

// delay returns how long to wait after a run that lasted ran, and advances
// the sequence (1, 2, 4, 8, 10, 10, ... s).
func (b *backoff) delay(ran time.Duration) time.Duration {
	if ran >= b.reset {
		b.next = b.first
	}
	d := b.next
	b.next = min(b.next*2, b.max)
	return d
}
