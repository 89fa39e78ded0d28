package pairing

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"adhocstation/assets"
	"adhocstation/core"
	"adhocstation/core/wire"
)

// AgentAsset is where `make agent` puts the Windows app inside assets.FS.
const AgentAsset = "agent/AdHocSupport.exe"

// DownloadName is the file name the browser saves.
const DownloadName = "AdHocSupport.exe"

// downloadTimeout lets a slow line fetch the app (a few MB).
const downloadTimeout = 10 * time.Minute

var pages = template.Must(template.ParseFS(assets.FS, "web/*.html"))

func embeddedAgent() []byte {
	b, err := fs.ReadFile(assets.FS, AgentAsset)
	if err != nil || len(b) == 0 {
		return nil
	}
	return b
}

func (s *Server) routePages(mux *http.ServeMux) {
	mux.HandleFunc("GET /join/{token}", s.joinPage)
	mux.HandleFunc("GET /join/{token}/download", s.download)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.page(w, http.StatusNotFound, "gone.html", goneData{
			Title:   "Nothing to see here",
			Message: "This is an Ad Hoc Support Station. It only serves the links sent in invitation emails.",
			Next:    "Open the whole link from your invitation email, or ask your technician to send it again.",
		})
	})
}

type joinData struct {
	Technician, Email string
	Download          string
	MinutesLeft       int
	Hours             int
	Account           string
	SelfSigned        bool
	Fingerprint       string
	// Publisher is the name Windows shows for a signed app; empty when
	// the app is unsigned.
	Publisher string
	Recorded  bool // the station records remote sessions
}

type goneData struct {
	Title, Message, Next string
}

func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	sess, ok := s.invitation(w, r, token)
	if !ok {
		return
	}
	c := s.certs.Load()
	if viaHubWeb(r.Context()) {
		// The browser saw the hub's trusted certificate, not the station's.
		c = &certSet{}
	}
	s.page(w, http.StatusOK, "join.html", joinData{
		Technician: sess.ProfileName,
		Email:      sess.ProfileEmail,
		// Relative, so it works both at /join/TOKEN and where the hub
		// forwards the page from, HUB/st/ID/join/TOKEN.
		Download:    token + "/download",
		MinutesLeft: max(1, int(sess.TimeLeft(s.st.Now()).Minutes())),
		Hours:       int(core.SessionLength.Hours()),
		Account:     AccountName,
		SelfSigned:  c.selfSigned,
		Fingerprint: c.fingerprint,
		Publisher:   s.publisher(),
		Recorded:    s.recorded(r.Context()),
	})
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	sess, ok := s.invitation(w, r, token)
	if !ok {
		return
	}
	if s.exe == nil {
		s.page(w, http.StatusServiceUnavailable, "gone.html", goneData{
			Title:   "The Support Session app is missing",
			Message: "This station was built without the Support Session app, so there is nothing to download yet.",
			Next:    "Tell your technician. (Technician: run make agent, then build and start the station again.)",
		})
		return
	}
	d := wire.Details{
		StationURL: s.stationURL(r),
		Pins:       s.Pins(),
		Token:      token,
		Technician: wire.Technician{Name: sess.ProfileName, Email: sess.ProfileEmail},
	}
	if rel, ok := s.relayFor(r.Context(), sess); ok {
		d.Hub, d.RelayToken = rel.URL, rel.Token
	}
	pieces, err := s.downloadPieces(d)
	if err != nil {
		s.log.Error("the download's pairing details cannot be built", "err", err)
		http.Error(w, "The station could not prepare the download. Tell your technician.", http.StatusInternalServerError)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(downloadTimeout))
	h := w.Header()
	h.Set("Content-Type", "application/vnd.microsoft.portable-executable")
	h.Set("Content-Disposition", `attachment; filename="`+DownloadName+`"`)
	size := 0
	for _, p := range pieces {
		size += len(p)
	}
	h.Set("Content-Length", strconv.Itoa(size))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for _, p := range pieces {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

// downloadPieces are the bytes of one session's download, in order. The
// program is shared and never copied; only the details are per session:
// inside a signed app's signature padding (so the signature stays valid),
// else in a trailer after an unsigned one.
func (s *Server) downloadPieces(d wire.Details) ([][]byte, error) {
	if s.signed != nil {
		return s.signed.Tag(d)
	}
	trailer, err := wire.AppendDetails(nil, d)
	if err != nil {
		return nil, err
	}
	return [][]byte{s.exe, trailer}, nil
}

// publisher is the name the join page tells the user to expect in
// Windows' administrator prompt, or "" for an unsigned app.
func (s *Server) publisher() string {
	if s.signed == nil {
		return ""
	}
	return s.sig.Publisher
}

// AppSignature describes the signature of the app this service offers.
func (s *Server) AppSignature() AppSignature { return s.sig }

// invitation finds the waiting session behind token, or answers with the
// page that says why there is nothing to download.
func (s *Server) invitation(w http.ResponseWriter, r *http.Request, token string) (core.Session, bool) {
	sess, err := s.st.Invitation(r.Context(), token)
	if err == nil {
		return sess, true
	}
	switch {
	case errors.Is(err, core.ErrUnknownToken):
		s.page(w, http.StatusNotFound, "gone.html", goneData{
			Title:   "This link is not valid",
			Message: "The station does not know this deployment link.",
			Next:    "Check that you opened the whole link from the invitation email, or ask your technician for a new invitation.",
		})
	case errors.Is(err, core.ErrInvitationExpired):
		s.page(w, http.StatusGone, "gone.html", goneMessage(sess))
	default:
		s.log.Error("the join page cannot be served", "err", err)
		s.page(w, http.StatusInternalServerError, "gone.html", goneData{
			Title:   "The station has a problem",
			Message: "The station could not look up this invitation.",
			Next:    "Try again in a minute; if it keeps failing, tell your technician.",
		})
	}
	return sess, false
}

func goneMessage(sess core.Session) goneData {
	ask := "If you still need help, ask " + sess.ProfileName + " (" + sess.ProfileEmail + ") for a new invitation."
	switch sess.State {
	case core.StateCancelled:
		return goneData{"This invitation was cancelled", "Your technician cancelled this support session, so nothing will be installed.", ask}
	case core.StateActive:
		// Anyone holding the link can open this page: it says nothing about
		// the computer that paired.
		return goneData{"This link was already used", "This deployment link has already been used to set up a support session, so it cannot be used again.",
			"If you still need help, ask your technician for a new invitation."}
	case core.StateExpired, core.StateEnded:
		return goneData{"This support session has ended", "The session is over; the support account and the app are removed from the PC.", ask}
	}
	return goneData{"This invitation has expired", "Nobody entered the security code in time, so the invitation stopped working.", ask}
}

func (s *Server) page(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("page template failed", "page", name, "err", err)
		http.Error(w, "The station could not show this page.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The token is in the address: never send it on as a referrer.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// stationURL is where the downloaded app will call: the address the
// browser just used for this page, since the user's PC evidently reaches
// it; the saved public host name when that address is unusable.
func (s *Server) stationURL(r *http.Request) string {
	if host, port, err := net.SplitHostPort(r.Host); err == nil && validHost(host) {
		return "https://" + net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	if validHost(r.Host) {
		return "https://" + r.Host
	}
	set, err := s.st.Settings(r.Context())
	if err != nil {
		return s.URL()
	}
	port := set.Pairing.PublicPort
	if port == 0 {
		if a, ok := s.Addr().(*net.TCPAddr); ok {
			port = a.Port
		}
	}
	return "https://" + net.JoinHostPort(set.Pairing.PublicHost, strconv.Itoa(port))
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// recorded says whether the station records remote sessions, as the join
// page tells the user; on doubt it says so.
func (s *Server) recorded(ctx context.Context) bool {
	set, err := s.st.Settings(ctx)
	return err != nil || set.Recording.Enabled
}
