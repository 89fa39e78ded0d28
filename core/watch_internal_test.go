package core

import "testing"

// Claims merge while adjacent, a failed commit's claim is given back (its
// seq numbers may go to another process), and passed ranges are dropped.
func TestOwnChangesClaims(t *testing.T) {
	var o ownChanges
	o.claim(0, 3)
	o.claim(3, 5) // the next own write, nobody else in between
	o.claim(7, 9) // 6 and 7 were another process's
	o.claim(9, 9) // a write that touched no session
	if len(o.ranges) != 2 {
		t.Fatalf("ranges = %v, want (0,5] and (7,9]", o.ranges)
	}
	for seq, want := range map[int64]bool{1: true, 5: true, 6: false, 7: false, 8: true, 9: true, 10: false} {
		if o.isOwn(seq) != want {
			t.Errorf("isOwn(%d) = %v, want %v", seq, !want, want)
		}
	}
	o.claim(9, 12)
	o.unclaim(9, 12) // its commit failed
	if o.isOwn(10) {
		t.Error("a claim whose commit failed is still counted as own")
	}
	o.forget(5)
	if o.isOwn(3) || !o.isOwn(8) || len(o.ranges) != 1 {
		t.Errorf("after forget(5): ranges = %v", o.ranges)
	}
}
