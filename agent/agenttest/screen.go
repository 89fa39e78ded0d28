package agenttest

import (
	"image"
	"net"
	"testing"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/support"
)

// Loopback connects app's ServeChannel to a yamux session on loopback TCP,
// with technician as who signs in when the station does not say, and
// returns the station's end; both close with the test.
func Loopback(t testing.TB, app *support.App, technician string) *yamux.Session {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pcConn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	stConn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	pcYS, err := yamux.Client(pcConn, nil)
	if err != nil {
		t.Fatal(err)
	}
	stYS, err := yamux.Server(stConn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stYS.Close(); pcYS.Close() })
	go app.ServeChannel(pcYS, technician)
	return stYS
}

// ChannelDiff is the largest and the mean channel difference of a and b in
// r: how far a decoded screen is from what the PC showed.
func ChannelDiff(a, b *image.RGBA, r image.Rectangle) (worst int, mean float64) {
	sum := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pa, pb := a.RGBAAt(x, y), b.RGBAAt(x, y)
			for _, d := range []int{int(pa.R) - int(pb.R), int(pa.G) - int(pb.G), int(pa.B) - int(pb.B)} {
				worst = max(worst, d, -d)
				sum += max(d, -d)
			}
		}
	}
	return worst, float64(sum) / float64(3*r.Dx()*r.Dy())
}
