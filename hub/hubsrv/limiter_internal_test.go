package hubsrv

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestAddrLimiterEvictsOldestOnly: a full table drops the address touched
// longest ago, one at a time, so an address that keeps trying keeps its
// count however many others a flood brings (issue 18's lesson: a wholesale
// wipe would give it a fresh minute).
func TestAddrLimiterEvictsOldestOnly(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newAddrLimiter(2, 3)
	for range 2 {
		if w := l.take("attacker", now); w != 0 {
			t.Fatalf("under the limit: wait %v", w)
		}
	}
	if w := l.take("attacker", now); w != time.Minute {
		t.Fatalf("over the limit: wait %v, want 1m", w)
	}
	for i := range 1000 { // a flood from other addresses, the attacker still trying
		l.take(fmt.Sprint("flood", i), now.Add(time.Second))
		if w := l.take("attacker", now.Add(time.Second)); w == 0 {
			t.Fatalf("after %d other addresses the attacker's count was dropped", i+1)
		}
		if n := l.len(); n > 3 {
			t.Fatalf("table holds %d entries, bound 3", n)
		}
	}
	// The flood's entries went one by one: the two newest are still held.
	if l.len() != 3 {
		t.Fatalf("table holds %d entries, want 3", l.len())
	}
	// An address under its limit that keeps trying keeps its count too.
	u := newAddrLimiter(1000, 3)
	for i := range 100 {
		u.take(fmt.Sprint("flood", i), now)
		u.take("pc", now)
	}
	if c := u.m["pc"].Value.(*addrCount); c.n != 100 {
		t.Fatalf("the busy address's count is %d after 100 tries, want 100", c.n)
	}
	// Ended windows count afresh.
	if w := l.take("attacker", now.Add(time.Minute)); w != 0 {
		t.Fatalf("a new minute: wait %v", w)
	}
	// wait and add: only what add counts is limited.
	r := newAddrLimiter(1, 3)
	if r.wait("pc", now) != 0 {
		t.Fatal("nothing counted yet")
	}
	r.add("pc", now)
	if r.wait("pc", now.Add(10*time.Second)) != 50*time.Second {
		t.Fatalf("wait %v, want 50s", r.wait("pc", now.Add(10*time.Second)))
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7:443":               "203.0.113.7",
		"[::ffff:203.0.113.7]:1":        "203.0.113.7",
		"[2001:db8:1:2:aaaa::1]:5":      "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9%eth0]:5": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:5":           "2001:db8:1:3::/64",
		"not an address":                "not an address",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLimiterFull fills a limiter's table from IPv6 networks (the
// longest keys) three times over and reports the full table's live bytes
// (docs/HUB.md "Limits").
func BenchmarkLimiterFull(b *testing.B) {
	var perEntry, total uint64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := newAddrLimiter(10, limiterSize)
		now := time.Now()
		for i := range 3 * limiterSize {
			l.take(addrKey(fmt.Sprintf("[2001:db8:%x:%x::1]:443", i>>16, i&0xffff)), now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		total = after.HeapAlloc - before.HeapAlloc
		perEntry = total / uint64(l.len())
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(total), "table-bytes")
	b.ReportMetric(float64(perEntry), "bytes/entry")
}
