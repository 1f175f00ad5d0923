package runtime

import (
	"os"
	"runtime/debug"
)

// TunedGCPercent is the GOGC that TuneGC sets: loading the desired state
// runs one fresh Lua VM per DSL file, which makes many small, short-lived
// objects over a small live heap. With the default 100 the collector runs
// every few files and costs a third of the load's CPU time; at 400 it runs
// a quarter as often.
const TunedGCPercent = 400

// TunedMemoryLimit is the soft heap limit TuneGC sets as a backstop: near
// it the collector runs as often as it must, whatever GOGC says, so the
// higher GOGC cannot let a large live heap grow five-fold unchecked.
const TunedMemoryLimit = 1 << 30

// TuneGC sets the garbage collector for cellman's workload (TunedGCPercent,
// TunedMemoryLimit). An operator's GOGC or GOMEMLIMIT environment variable
// wins over the respective setting. cellman's main calls it once at start;
// BenchmarkLoad1000 calls it too, so it measures what the CLI does.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(TunedGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(TunedMemoryLimit)
	}
}
