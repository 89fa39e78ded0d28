package screen

import (
	"testing"
	"time"

	screenframe "adhocstation/core/wire/frame"
)

// TestQualityFollowsAcks: frames acked long after they left lower the
// JPEG quality (a slow link gets smaller frames); quick acks raise it
// again, within bounds.
func TestQualityFollowsAcks(t *testing.T) {
	s := &screen{enc: screenframe.NewEncoder(), sent: map[uint32]time.Time{}}
	s.setFPS(30)
	start := s.enc.Quality
	for seq := uint32(1); seq <= 20; seq++ {
		s.sent[seq] = time.Now().Add(-time.Second)
		s.tuned = time.Time{}
		s.ack(seq)
	}
	if s.enc.Quality >= start || s.enc.Quality != minQuality {
		t.Fatalf("slow acks: quality %d (started at %d)", s.enc.Quality, start)
	}
	if len(s.sent) != 0 || s.acked != 20 {
		t.Fatalf("acked %d, %d frames still in flight", s.acked, len(s.sent))
	}
	for seq := uint32(21); seq <= 60; seq++ {
		s.sent[seq] = time.Now()
		s.tuned = time.Time{}
		s.ack(seq)
	}
	if s.enc.Quality != maxQuality {
		t.Fatalf("quick acks: quality %d", s.enc.Quality)
	}
}
