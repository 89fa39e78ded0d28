// Package hubload measures the real adhoc-hub program under load from
// another process (docs/PERFORMANCE.md "Relay hub"): its tests start the
// built binary, hold one station link and many idle relays through it,
// and read the hub's memory and CPU from /proc. They run only with
// ADHOC_LOAD=1 (make hub-load).
package hubload
