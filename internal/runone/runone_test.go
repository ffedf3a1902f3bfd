package runone

import (
	"sync"
	"testing"
)

func TestOneAtATime(t *testing.T) {
	var r Runner
	var wg sync.WaitGroup
	release := make(chan struct{})
	started := make(chan struct{})
	if !r.Go(&wg, func() { close(started); <-release }) {
		t.Fatal("first Go did not start")
	}
	<-started
	if r.Go(&wg, func() { t.Error("a second job ran while the first was running") }) {
		t.Error("second Go started")
	}
	close(release)
	wg.Wait()
	ran := make(chan struct{})
	if !r.Go(&wg, func() { close(ran) }) {
		t.Fatal("Go after the first ended did not start")
	}
	<-ran
	wg.Wait()
}
