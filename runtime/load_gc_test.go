package runtime

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestTuneGCStartingHeap: with a small live heap, TuneGC sets a GOGC that
// puts the next collection near StartingHeap, and keeps doing so after
// collections; an operator's GOGC wins.
func TestTuneGCStartingHeap(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: TuneGC leaves the collector alone")
	}
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	percent := func() int {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	runtime.GC()
	if live := readMetric("/gc/heap/live:bytes"); live > StartingHeap/(1+TunedGCPercent/100)/2 {
		t.Skipf("live heap %d MB: too large here for a starting heap of %d MB to show", live>>20, StartingHeap>>20)
	}
	TuneGC()
	if p := percent(); p <= TunedGCPercent {
		t.Fatalf("GOGC after TuneGC = %d, want more than %d with a small live heap", p, TunedGCPercent)
	}
	runtime.GC()
	runtime.GC()
	// The finalizer that re-tunes runs on its own goroutine after a cycle.
	deadline := time.Now().Add(2 * time.Second)
	for percent() <= TunedGCPercent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p := percent(); p <= TunedGCPercent {
		t.Fatalf("GOGC after collections = %d, want the starting heap kept", p)
	}
	gcTuning.Store(false) // stop re-tuning for the rest of the tests
}
