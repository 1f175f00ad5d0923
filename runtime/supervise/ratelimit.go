package supervise

import (
	"sync"
	"time"
)

// Default log rate limit: a service may send RateLimit lines per second on
// average, with bursts of RateBurst; the excess is dropped and counted.
// The monitor reads the overrides CELLS_SUPERVISE_RATE and
// CELLS_SUPERVISE_BURST (positive integers) from its environment.
var (
	RateLimit = 1000
	RateBurst = 2000
)

// tokenBucket is a classic token bucket; safe for concurrent use by the
// stdout and stderr readers.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newTokenBucket(rate, burst int, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst), now: now, last: now()}
}

// allow takes one token if there is one.
func (b *tokenBucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	if el := t.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
	}
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
