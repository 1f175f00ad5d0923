package runtime

import (
	"context"
	"runtime/metrics"
	"time"
)

// memoryWatchdogInterval is how often a running VM's heap growth is sampled.
const memoryWatchdogInterval = 20 * time.Millisecond

// luaHeapMetric is the bytes of heap objects, live or not yet swept. It is
// read without stopping the world (runtime.ReadMemStats would), and it
// follows allocation closely, where the live-heap metric only moves at the
// end of a GC cycle.
const luaHeapMetric = "/memory/classes/heap/objects:bytes"

// startMemoryWatchdog samples the Go heap every memoryWatchdogInterval
// and cancels ctx with ErrMemoryLimit once it has grown by more than limit
// bytes since the start. gopher-lua has no allocation hook, and L.SetMx calls
// os.Exit, so the VM is stopped through its context: it notices at its next
// instruction. The heap is process-wide: concurrent VMs share the budget.
// The returned function stops the watchdog.
func startMemoryWatchdog(ctx context.Context, cancel context.CancelCauseFunc, limit uint64) (stop func()) {
	sample := []metrics.Sample{{Name: luaHeapMetric}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(memoryWatchdogInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > base && v-base > limit {
				cancel(ErrMemoryLimit)
				return
			}
		}
	}()
	return func() { close(done) }
}
