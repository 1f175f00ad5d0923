package runtime

import (
	"context"
	goruntime "runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// limitsInterval is how often the running VMs' limits are checked: a time
// limit fires up to this late, and a memory blow-up is seen within it.
const limitsInterval = 20 * time.Millisecond

// luaHeapMetric is the bytes of heap objects, live or not yet swept. It is
// read without stopping the world (runtime.ReadMemStats would), and it
// follows allocation closely, where the live-heap metric only moves at the
// end of a GC cycle.
const luaHeapMetric = "/memory/classes/heap/objects:bytes"

// luaLiveMetric is the heap the last GC cycle found live: the baseline. The
// heap metric at the start of a run would count the garbage earlier work
// left, and a run after a garbage-heavy one would get that much more room.
const luaLiveMetric = "/gc/heap/live:bytes"

// limitRun is one running top-level call under limits.
type limitRun struct {
	deadline time.Time // zero: no time limit
	limit    uint64    // heap growth allowed; zero: no memory limit
	base     uint64    // live heap at the start
	cancel   context.CancelCauseFunc
}

// One goroutine watches every running call, started with the first and
// ending when none is left: a goroutine, a ticker and a timer per call
// cost more than a small DSL file's whole run.
var limitWatch struct {
	mu   sync.Mutex
	runs map[*limitRun]struct{}
	on   bool
}

// watchLimits registers a call: it is cancelled with ErrTimeLimit once
// deadline passes, and with ErrMemoryLimit once the Go heap is more than
// limit bytes over the live heap at the start. gopher-lua has no
// allocation hook, and L.SetMx calls os.Exit, so the VM is stopped through
// its context: it notices at its next instruction. The heap is
// process-wide: concurrent VMs share the budget. The returned function
// unregisters the call.
func watchLimits(deadline time.Time, limit uint64, cancel context.CancelCauseFunc) (stop func()) {
	r := &limitRun{deadline: deadline, limit: limit, cancel: cancel}
	if limit > 0 {
		r.base = readMetric(luaLiveMetric)
	}
	limitWatch.mu.Lock()
	if limitWatch.runs == nil {
		limitWatch.runs = map[*limitRun]struct{}{}
	}
	limitWatch.runs[r] = struct{}{}
	if !limitWatch.on {
		limitWatch.on = true
		go watchLoop()
	}
	limitWatch.mu.Unlock()
	return func() {
		limitWatch.mu.Lock()
		delete(limitWatch.runs, r)
		limitWatch.mu.Unlock()
	}
}

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchLoop checks the registered calls every limitsInterval until none is
// left.
func watchLoop() {
	t := time.NewTicker(limitsInterval)
	defer t.Stop()
	var runs, over []*limitRun
	for range t.C {
		limitWatch.mu.Lock()
		if len(limitWatch.runs) == 0 {
			limitWatch.on = false
			limitWatch.mu.Unlock()
			return
		}
		runs = runs[:0]
		for r := range limitWatch.runs {
			runs = append(runs, r)
		}
		limitWatch.mu.Unlock()

		now := time.Now()
		over = over[:0]
		heap := uint64(0)
		for _, r := range runs {
			if !r.deadline.IsZero() && now.After(r.deadline) {
				r.cancel(ErrTimeLimit)
				continue
			}
			if r.limit == 0 {
				continue
			}
			if heap == 0 {
				heap = readMetric(luaHeapMetric)
			}
			if heap > r.base && heap-r.base > r.limit {
				over = append(over, r)
			}
		}
		if len(over) == 0 {
			continue
		}
		// The metric counts garbage not yet collected: with a large live
		// heap, the collector lets more than limit bytes of garbage pile
		// up before it runs. Collect, then decide on what is left. A run
		// that keeps its allocations is still over; a legitimate one pays
		// one collection per limit bytes allocated.
		goruntime.GC()
		heap = readMetric(luaHeapMetric)
		for _, r := range over {
			if heap > r.base && heap-r.base > r.limit {
				r.cancel(ErrMemoryLimit)
			}
		}
	}
}
