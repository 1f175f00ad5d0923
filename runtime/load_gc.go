package runtime

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// TunedGCPercent is the GOGC that TuneGC sets: loading the desired state
// runs one fresh Lua VM per DSL file, which makes many small, short-lived
// objects over a small live heap. With the default 100 the collector runs
// every few files and costs a third of the load's CPU time; at 400 it runs
// a quarter as often.
const TunedGCPercent = 400

// StartingHeap is the heap size at which TuneGC lets the first collections
// start, as the Go compiler does (cmd/compile's AdjustStartingHeap): while
// the live heap is small, GOGC alone would collect every few megabytes
// (GOGC 400 over 10 MB live: every 40 MB; 1,000 DSL files allocate about
// 150 MB). Above StartingHeap/5 of live heap, TunedGCPercent governs.
const StartingHeap = 96 << 20

// TunedMemoryLimit is the soft heap limit TuneGC sets as a backstop: near
// it the collector runs as often as it must, whatever GOGC says, so the
// higher GOGC cannot let a large live heap grow five-fold unchecked.
const TunedMemoryLimit = 1 << 30

// TuneGC sets the garbage collector for cellman's workload (TunedGCPercent,
// StartingHeap, TunedMemoryLimit). An operator's GOGC or GOMEMLIMIT
// environment variable wins over the respective setting. cellman's main
// calls it once at start; BenchmarkLoad1000 calls it too, so it measures
// what the CLI does.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(TunedGCPercent)
		startingHeap(StartingHeap)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(TunedMemoryLimit)
	}
}

// gcTuning is set while startingHeap adjusts GOGC after each collection.
var gcTuning atomic.Bool

// startingHeap raises GOGC so that the next heap goal is goal bytes, and
// after every collection sets it again from the live heap, until the live
// heap makes TunedGCPercent reach goal by itself. A finalizer on a fresh
// object each cycle tells it when a collection has happened.
func startingHeap(goal uint64) {
	if !gcTuning.CompareAndSwap(false, true) {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var adjust func()
	adjust = func() {
		metrics.Read(sample)
		live := uint64(4 << 20) // the runtime's minimum heap
		if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > live {
			live = sample[0].Value.Uint64()
		}
		percent := int(goal*100/live) - 100
		if percent <= TunedGCPercent {
			debug.SetGCPercent(TunedGCPercent)
			gcTuning.Store(false)
			return
		}
		debug.SetGCPercent(percent)
		// With a pointer field, never in a tiny-allocator block (whose
		// other objects could keep it, and its finalizer, alive).
		sentinel := &struct{ _ *byte }{}
		runtime.SetFinalizer(sentinel, func(*struct{ _ *byte }) {
			if gcTuning.Load() {
				adjust()
			}
		})
	}
	adjust()
}
