package ui

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"adhocstation/core"
	"adhocstation/core/record"
)

// maxExportPictures bounds the PNGs an export writes: one per mark.
const maxExportPictures = 200

// exportRecording writes, into a new folder under dir named after the
// recording: a copy of the file, a text log of its events headed by the
// verification result, and the screen at each command, transfer and
// control change as PNG. It returns the folder. p is left anywhere.
func exportRecording(st *core.Station, name string, f *record.File, p *record.Player, info core.Recording,
	events []playerEvent, verified error, dir string) (string, error) {
	out := filepath.Join(dir, strings.TrimSuffix(name, record.Ext))
	if err := os.MkdirAll(out, 0o700); err != nil {
		return "", err
	}
	if err := copyFile(filepath.Join(st.DataDir(), core.RecordingsFolder, name), filepath.Join(out, name)); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Recording %s\nSession #%d: %s on %s, started %s, %s long.\n", name, info.SessionID,
		f.Meta.Technician, f.Meta.Computer, f.Meta.Started.UTC().Format("2006-01-02 15:04:05 UTC"), clockText(f.Index.Duration))
	fmt.Fprintf(&b, "Size %d bytes, SHA-256 in the audit log: %s\n", f.Size(), orNone(info.SHA256))
	if verified != nil {
		fmt.Fprintf(&b, "Verify integrity: FAILED. %s\n", errorText(verified))
	} else {
		fmt.Fprintf(&b, "Verify integrity: passed. %s\n", verifiedText(info))
	}
	b.WriteString("\n")
	pictures := 0
	for _, e := range events {
		line := clockText(e.t) + "  " + e.text
		if _, marked := markColours[e.typ]; marked && pictures < maxExportPictures {
			img, err := p.Seek(e.t)
			if err == nil && img != nil {
				// Numbered: two marks in one second (control on and off) are
				// two pictures.
				pic := fmt.Sprintf("%03d-%s-%s.png", pictures+1, strings.ReplaceAll(clockText(e.t), ":", "-"), markName(e.typ))
				if err := writePNG(filepath.Join(out, pic), img); err != nil {
					return "", err
				}
				line += "  [" + pic + "]"
				pictures++
			}
		}
		b.WriteString(line + "\n")
	}
	return out, os.WriteFile(filepath.Join(out, "log.txt"), []byte(b.String()), 0o600)
}

func orNone(s string) string {
	if s == "" {
		return "none (the recording was never sealed)"
	}
	return s
}

func markName(typ byte) string {
	return map[byte]string{record.TypeCommand: "command", record.TypeTransfer: "transfer", record.TypeControl: "control"}[typ]
}

func writePNG(path string, img image.Image) error {
	o, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := png.Encode(o, img); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
