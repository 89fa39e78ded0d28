package support

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Console is the UI for scripted use and for PCs where dialogs cannot be
// shown: questions on Out, answers from In. Typing "end" during the session
// ends it, like the tray's menu item.
type Console struct {
	in  *bufio.Reader
	out io.Writer
	// Yes agrees to the consent text without asking (--yes, for scripts that
	// were themselves started by the PC's owner).
	yes bool

	mu        sync.Mutex
	last      TrayState
	endOnce   sync.Once
	end       chan struct{}
	readLines sync.Once
}

// NewConsole returns a console UI.
func NewConsole(in io.Reader, out io.Writer, yes bool) *Console {
	return &Console{in: bufio.NewReader(in), out: out, yes: yes, end: make(chan struct{}, 1)}
}

func (c *Console) line() (string, error) {
	s, err := c.in.ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// Consent prints the text and asks for "yes".
func (c *Console) Consent(ctx context.Context, cs Consent) (bool, error) {
	fmt.Fprintf(c.out, "\n%s\n\n", cs.Text)
	if c.yes {
		fmt.Fprintln(c.out, "Agreed with --yes.")
		return true, nil
	}
	fmt.Fprint(c.out, "Type yes to continue: ")
	s, err := c.line()
	if err != nil {
		return false, err
	}
	return strings.EqualFold(s, "yes") || strings.EqualFold(s, "y"), nil
}

// AskCode prints the problem, if any, and reads the code.
func (c *Console) AskCode(ctx context.Context, r CodeRequest) (string, error) {
	if r.Problem != "" {
		fmt.Fprintln(c.out, r.Problem)
	}
	fmt.Fprintf(c.out, "Security code from %s (empty line to stop): ", r.Technician.Name)
	s, err := c.line()
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", ErrCancelled
	}
	return s, nil
}

// Tell prints the message.
func (c *Console) Tell(m Message) {
	fmt.Fprintf(c.out, "\n%s\n", m.Text)
}

// ShowStatus prints the state when it changes and starts listening for "end".
func (c *Console) ShowStatus(s Status) {
	c.mu.Lock()
	changed := s.State != c.last
	c.last = s.State
	c.mu.Unlock()
	switch {
	case changed && s.State == TrayEnding:
		fmt.Fprintf(c.out, "%s…\n", s.State)
	case changed:
		fmt.Fprintf(c.out, "%s — %s. Type end and press Enter to end the support session and remove the app.\n", s.State, TimeLeft(s.TimeLeft))
	}
	c.readLines.Do(func() {
		go func() {
			for {
				s, err := c.line()
				if err != nil {
					return
				}
				if strings.EqualFold(s, "end") {
					c.endOnce.Do(func() { c.end <- struct{}{} })
					return
				}
			}
		}()
	})
}

// EndRequested delivers "end" typed by the user.
func (c *Console) EndRequested() <-chan struct{} { return c.end }
