// The Go pattern the toolkit is compared with: per connection, a goroutine locked to its OS thread
// switches into the namespace (vishvananda/netns), dials, and switches back. It prints one line:
// "N/s" over the measured connections, after the warm-up ones. Built by Compare with
// GO111MODULE=off GOPATH=/usr/share/gocode (Debian's golang-github-vishvananda-netns-dev).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netns"
)

func main() {
	name := flag.String("ns", "", "namespace name (in /run/netns)")
	addr := flag.String("addr", "127.0.0.1:7000", "address to connect to, inside the namespace")
	count := flag.Int("count", 10000, "connections measured")
	concurrency := flag.Int("concurrency", 8, "connections in flight")
	warmup := flag.Int("warmup", 0, "connections made first, not measured")
	flag.Parse()
	target, err := netns.GetFromName(*name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dialpattern: open namespace %s: %v\n", *name, err)
		os.Exit(1)
	}
	defer target.Close()
	run(target, *addr, *warmup, *concurrency)
	elapsed, failed := run(target, *addr, *count, *concurrency)
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "dialpattern: %d of %d connects failed\n", failed, *count)
		os.Exit(1)
	}
	fmt.Printf("%.0f/s\n", float64(*count)/elapsed.Seconds())
}

func run(target netns.NsHandle, addr string, total int, concurrency int) (time.Duration, int64) {
	var next int64 = -1
	var failed int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			home, err := netns.Get()
			if err != nil {
				atomic.AddInt64(&failed, 1)
				return
			}
			defer home.Close()
			for atomic.AddInt64(&next, 1) < int64(total) {
				if err := netns.Set(target); err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				conn, err := net.Dial("tcp", addr)
				if err := netns.Set(home); err != nil {
					panic("cannot switch back home: " + err.Error())
				}
				if err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				conn.Close()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), failed
}
