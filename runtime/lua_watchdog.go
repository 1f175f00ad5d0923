package runtime

import (
	"context"
	goruntime "runtime"
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

// luaLiveMetric is the heap the last GC cycle found live: the baseline. The
// heap metric at the start of a run would count the garbage earlier work
// left, and a run after a garbage-heavy one would get that much more room.
const luaLiveMetric = "/gc/heap/live:bytes"

// startMemoryWatchdog samples the Go heap every memoryWatchdogInterval
// and cancels ctx with ErrMemoryLimit once it is more than limit bytes over
// the live heap at the start. gopher-lua has no allocation hook, and L.SetMx calls
// os.Exit, so the VM is stopped through its context: it notices at its next
// instruction. The heap is process-wide: concurrent VMs share the budget.
// The returned function stops the watchdog.
func startMemoryWatchdog(ctx context.Context, cancel context.CancelCauseFunc, limit uint64) (stop func()) {
	sample := []metrics.Sample{{Name: luaLiveMetric}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	sample[0].Name = luaHeapMetric
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
			if !heapGrewBy(sample, base, limit) {
				continue
			}
			// The metric counts garbage not yet collected: with a large
			// live heap, the collector lets more than limit bytes of
			// garbage pile up before it runs. Collect, then decide on
			// what is left. A run that keeps its allocations is still
			// over; a legitimate one pays one collection per limit bytes
			// allocated.
			goruntime.GC()
			if heapGrewBy(sample, base, limit) {
				cancel(ErrMemoryLimit)
				return
			}
		}
	}()
	return func() { close(done) }
}

// heapGrewBy reads the heap metric into sample and reports whether it is
// more than limit bytes above base.
func heapGrewBy(sample []metrics.Sample, base, limit uint64) bool {
	metrics.Read(sample)
	v := sample[0].Value.Uint64()
	return v > base && v-base > limit
}
