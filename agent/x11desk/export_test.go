//go:build linux

package x11desk

// WithoutSHM makes d capture with plain GetImage, as on a server without
// MIT-SHM.
func (d *Desktop) WithoutSHM() {
	d.capMu.Lock()
	defer d.capMu.Unlock()
	d.shm.disable(d.conn)
}
