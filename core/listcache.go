package core

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// listCache keeps the sessions list in memory and brings it up to date from
// the session_changes feed, so listing 10,000 sessions does not decode
// 10,000 rows each time (see docs/PERFORMANCE.md).
type listCache struct {
	mu     sync.Mutex
	loaded bool
	seq    int64
	byID   map[int64]Session
	order  []int64 // newest first
}

// fullReloadAbove is how many changed sessions make one full read cheaper.
const fullReloadAbove = 500

// Sessions lists sessions, newest first, with computer and email state. The
// returned values are copies, but Computer pointers are shared: read only.
func (s *Station) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	c := &s.list
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.refreshList(ctx); err != nil {
		return nil, err
	}
	n := len(c.order)
	if f.OpenOnly {
		n = 0 // open sessions are few; do not size for the whole history
	}
	if f.Limit > 0 {
		n = min(n, f.Limit)
	}
	out := make([]Session, 0, n)
	for _, id := range c.order {
		sess := c.byID[id]
		if f.OpenOnly && !sess.State.Open() {
			continue
		}
		out = append(out, sess)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (s *Station) refreshList(ctx context.Context) error {
	c := &s.list
	var seq, oldest int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0), COALESCE(MIN(seq), 0) FROM session_changes`).Scan(&seq, &oldest); err != nil {
		return err
	}
	if c.loaded && seq == c.seq {
		return nil
	}
	var changed []any
	if c.loaded && oldest <= c.seq+1 {
		ids, err := scanIDs(s.rdb.QueryContext(ctx, `SELECT DISTINCT session_id FROM session_changes WHERE seq > ? AND seq <= ?`, c.seq, seq))
		if err != nil {
			return err
		}
		for _, id := range ids {
			changed = append(changed, id)
		}
	}
	if !c.loaded || oldest > c.seq+1 || len(changed) > fullReloadAbove {
		all, err := s.querySessions(ctx, "")
		if err != nil {
			return err
		}
		c.byID = make(map[int64]Session, len(all))
		c.order = make([]int64, len(all))
		for i, sess := range all {
			c.byID[sess.ID] = sess
			c.order[i] = sess.ID
		}
		c.loaded, c.seq = true, seq
		return nil
	}
	fresh, err := s.querySessions(ctx, ` WHERE s.id IN (?`+strings.Repeat(`, ?`, len(changed)-1)+`)`, changed...)
	if err != nil {
		return err
	}
	added := false
	for _, sess := range fresh {
		if _, ok := c.byID[sess.ID]; !ok {
			c.order = append(c.order, sess.ID)
			added = true
		}
		c.byID[sess.ID] = sess
	}
	if added {
		sort.Slice(c.order, func(i, j int) bool { return c.order[i] > c.order[j] })
	}
	c.seq = seq
	return nil
}

// pruneChanges keeps the change feed short; a reader that falls further
// behind simply reloads everything.
func (s *Station) pruneChanges(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM session_changes WHERE seq < (SELECT MAX(seq) FROM session_changes) - 5000`)
	return err
}
