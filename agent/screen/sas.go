package screen

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"adhocstation/core/wire"
)

// Ctrl+Alt+Del on a relayed stream: Windows documents SendSAS for services
// (and uiAccess programs), so the service sends it itself rather than the
// screen helper, which runs with the service's token but is no service.
// The relay reads the station's control lines on their way to the helper,
// acts on "sas" and passes everything else on unchanged.

// sasGate is one relayed stream's Ctrl+Alt+Del state. control is only used
// by the goroutine reading the station; refusal and info are guarded by
// Relay.Serve's write lock.
type sasGate struct {
	send    func() error
	control bool             // the station's last Control switch: sas needs it on, as in Serve
	refusal string           // why the last Ctrl+Alt+Del failed; kept in every ScreenInfo as Serve does
	info    *wire.ScreenInfo // the helper's last ScreenInfo, to repeat with the refusal
}

// sendSAS calls the service's SendSAS; a relay given none refuses.
func (g *sasGate) sendSAS() error {
	if g.send == nil {
		return errors.New("this PC's service cannot send Ctrl+Alt+Del")
	}
	return g.send()
}

// controls copies the station's lines to the helper until either side
// closes. Lines are read whole, up to the same bound as the helper's
// (a long clipboard), so "sas" is never missed in one; a longer line ends
// the stream, as it would at the helper.
func (g *sasGate) controls(helper io.Writer, station io.Reader, attempted func(error)) {
	br := bufio.NewReaderSize(station, wire.MaxStreamLine)
	for {
		line, err := wire.ReadLine(br, wire.MaxScreenControl)
		if err == nil {
			line = g.line(line, attempted)
		}
		if len(line) > 0 {
			if _, werr := helper.Write(line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// line returns what goes on to the helper for one station line: the line
// itself, or without its "sas" field, which the service carried out.
func (g *sasGate) line(line []byte, attempted func(error)) []byte {
	var c wire.ScreenControl
	if json.Unmarshal(line, &c) != nil {
		return line // the helper skips it too
	}
	if c.Control != nil {
		g.control = *c.Control
	}
	if !c.SAS {
		return line
	}
	if g.control {
		attempted(g.sendSAS())
	}
	// The field's name as encoding/json matched it (any case); the
	// line's other fields still go to the helper.
	var fields map[string]json.RawMessage
	if json.Unmarshal(line, &fields) != nil {
		return nil
	}
	for k := range fields {
		if strings.EqualFold(k, "sas") {
			delete(fields, k)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}

// result records an attempt's outcome and returns the ScreenInfo to send
// when what the technician is told changed (nil when nothing is to be
// sent: no change, or no ScreenInfo from the helper yet).
func (g *sasGate) result(err error) *wire.ScreenInfo {
	refusal := ""
	if err != nil {
		refusal = sentence(err)
	}
	if refusal == g.refusal {
		return nil
	}
	g.refusal = refusal
	if g.info == nil {
		return nil
	}
	info := *g.info
	if refusal != "" {
		info.SAS = refusal
	}
	return &info
}

// helperMessage notes the helper's ScreenInfo and, after a refusal, puts
// the refusal in it; other messages pass unchanged.
func (g *sasGate) helperMessage(kind byte, msg []byte) []byte {
	if kind != wire.ScreenInfoKind {
		return msg
	}
	var info wire.ScreenInfo
	if json.Unmarshal(msg[wire.ScreenHeader:], &info) != nil {
		return msg
	}
	g.info = &info
	if g.refusal == "" || info.SAS == g.refusal {
		return msg
	}
	info.SAS = g.refusal
	b, err := json.Marshal(info)
	if err != nil || len(b) > wire.MaxScreenMessage {
		return msg
	}
	out := append([]byte{kind, 0, 0, 0, 0}, b...)
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return out
}
