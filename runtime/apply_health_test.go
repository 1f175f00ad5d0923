package runtime

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestApplyChecksBatch: the batched healthchecks run at most
// healthWorkers at a time, are started in order, every one before the first
// failing one runs, and none starts once a failure is known (so at most
// healthWorkers-1 later ones have run).
func TestApplyChecksBatch(t *testing.T) {
	for _, failAt := range []int{-1, 0, 3, 9} {
		t.Run(fmt.Sprint(failAt), func(t *testing.T) {
			names := make([]string, 10)
			for i := range names {
				names[i] = fmt.Sprintf("c%d", i)
			}
			var mu sync.Mutex
			running, peak := 0, 0
			var started []string
			a := &applyChecks{}
			a.check = func(name string) error {
				mu.Lock()
				started = append(started, name)
				running++
				peak = max(peak, running)
				mu.Unlock()
				defer func() { mu.Lock(); running--; mu.Unlock() }()
				if failAt >= 0 && name == names[failAt] {
					return errors.New("boom " + name)
				}
				time.Sleep(20 * time.Millisecond)
				return nil
			}
			errs, ran := a.batch(names)
			if peak > healthWorkers || (failAt < 0 && peak < 2) {
				t.Errorf("%d healthchecks at once, want 2..%d", peak, healthWorkers)
			}
			// Claimed in order: the started ones are a prefix of names
			// (their calls may begin in any order).
			seen := map[string]bool{}
			for _, n := range started {
				seen[n] = true
			}
			for i := range started {
				if !seen[names[i]] {
					t.Fatalf("started %v: not a prefix of the names", started)
				}
			}
			last := len(names) - 1
			if failAt >= 0 {
				last = failAt
				if errs[failAt] == nil || errs[failAt].Error() != "boom "+names[failAt] {
					t.Fatalf("failing check: %v", errs[failAt])
				}
			}
			for i := 0; i <= last; i++ {
				if !ran[i] || (i != failAt && errs[i] != nil) {
					t.Fatalf("check %d: ran %v err %v", i, ran[i], errs[i])
				}
			}
			later := 0
			for i := last + 1; i < len(names); i++ {
				if ran[i] {
					later++
				}
			}
			if later > healthWorkers-1 {
				t.Fatalf("%d checks after the failing one ran", later)
			}
		})
	}
}
