package hubsrv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"adhocstation/core/hublink"

	"github.com/coder/websocket"
)

// Bounds on a browser's request forwarded to a station (docs/HUB.md). The
// join page's forms are a few hundred bytes; the largest answer is the
// per-session download (about 10 MB), streamed through, never held whole.
const (
	maxWebBody      = 64 << 10         // request body, read whole before forwarding
	webBodyTime     = 30 * time.Second // to send that body
	webHeaderTime   = 30 * time.Second // for the station's answer to start
	maxWebRespHead  = 64 << 10         // the station's response headers
	webBufferSize   = 32 << 10         // copy buffer per forwarded answer, pooled
	stationHostTail = ".station"       // the outgoing request's host: STATIONID.station
)

// DefaultWebTimeout bounds a whole forwarded request, answer included: a
// 10 MB download needs about 10 minutes at 150 kbit/s.
const DefaultWebTimeout = 15 * time.Minute

type clientAddrKey struct{}

// webProxy forwards /st/{id}/PATH to station id as plain HTTP/1.1 inside a
// data stream it opens back on request (Server.stream, kind "http").
func (s *Server) webProxy() *httputil.ReverseProxy {
	pool := &bufPool{p: sync.Pool{New: func() any { b := make([]byte, webBufferSize); return &b }}}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			id := pr.In.PathValue("id")
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = id + stationHostTail
			pr.Out.URL.Path, pr.Out.URL.RawPath = "/"+pr.In.PathValue("rest"), ""
			// Rewrite starts with the browser's X-Forwarded-* removed, so
			// X-Forwarded-For is the address the hub saw, never one the
			// browser claimed.
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Prefix", hublink.PathStation+id)
			pr.Out.Host = pr.In.Host
		},
		Transport: &http.Transport{
			Proxy:                  nil, // the hub reaches stations only through their streams
			DialContext:            s.dialStation,
			DisableKeepAlives:      true, // one stream per request: nothing idles on the station
			DisableCompression:     true, // pass the station's bytes through as they are
			ResponseHeaderTimeout:  webHeaderTime,
			MaxResponseHeaderBytes: maxWebRespHead,
		},
		BufferPool:   pool,
		ErrorHandler: s.webError,
	}
}

type bufPool struct{ p sync.Pool }

func (b *bufPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufPool) Put(x []byte) { b.p.Put(&x) }

// dialStation is the forwarding transport's dial: addr is STATIONID.station:80.
func (s *Server) dialStation(ctx context.Context, _, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	id, ok := strings.CutSuffix(host, stationHostTail)
	if !ok {
		return nil, errors.New("hub: not a station address: " + addr)
	}
	client, _ := ctx.Value(clientAddrKey{}).(string)
	if c, ok, err := s.clusterDialWeb(ctx, id, client); ok {
		return c, err // the station is held at another node (cluster.go)
	}
	ws, release, err := s.stream(ctx, id, hublink.ControlMessage{Type: "http", Client: client})
	if err != nil {
		return nil, err
	}
	return &streamConn{Conn: websocket.NetConn(context.Background(), ws, websocket.MessageBinary), release: release}, nil
}

// streamConn frees the stream's place in the hub's limits when closed.
type streamConn struct {
	net.Conn
	release func()
}

func (c *streamConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// web serves https://HUB/st/{id}/PATH from station id.
func (s *Server) web(w http.ResponseWriter, r *http.Request) {
	if !s.webAllowed(w, r) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	known, online := s.state.Stations[id] != nil, s.online[id] != nil
	s.mu.Unlock()
	switch {
	case !known:
		page(w, http.StatusNotFound, "Link not known", "This link does not lead to a technician's station. Check that you copied the whole link, or ask your technician for a new invitation.")
		return
	case !online && s.clusterHolder(r.Context(), id) == "":
		page(w, http.StatusServiceUnavailable, "Station offline", offlineText)
		return
	case r.Header.Get("Upgrade") != "":
		page(w, http.StatusBadRequest, "Not supported", "This address serves web pages only.")
		return
	case r.ContentLength > maxWebBody:
		page(w, http.StatusRequestEntityTooLarge, "Too large", "What this page sent is larger than the technician's station accepts.")
		return
	}
	// The server has no ReadTimeout (relays live for hours): bound the
	// body here, and read it whole (it is small) so the read deadline can
	// be lifted before the answer streams back: a deadline passing during
	// a download would cancel the request.
	rc := http.NewResponseController(w)
	if r.Body != nil && r.Body != http.NoBody {
		rc.SetReadDeadline(time.Now().Add(webBodyTime))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				page(w, http.StatusRequestEntityTooLarge, "Too large", "What this page sent is larger than the technician's station accepts.")
			}
			return
		}
		rc.SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	timeout := s.WebTimeout
	rc.SetWriteDeadline(time.Now().Add(timeout)) // a browser that stops reading
	defer rc.SetWriteDeadline(time.Time{})       // the connection's next request starts afresh
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), clientAddrKey{}, r.RemoteAddr), timeout)
	defer cancel()
	s.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// webError answers a request the station could not be asked or did not
// answer, as a page for a person.
func (s *Server) webError(w http.ResponseWriter, r *http.Request, err error) {
	var re *refusalErr
	switch {
	case errors.As(err, &re):
		page(w, re.status, "Please wait", re.webMsg)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		page(w, errNoAnswer.status, "Please wait", errNoAnswer.webMsg)
	case r.Context().Err() != nil:
		// The browser went away: nobody reads an answer.
	default:
		s.log.Info("web: forwarding failed", "err", err)
		page(w, http.StatusBadGateway, "Please wait", "The technician's station did not answer properly. Reload this page in a moment; if it keeps happening, tell your technician.")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// pageHTML is the hub's own small page; title and text are escaped.
const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s — Ad Hoc Support</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5;color:#222}</style>
</head><body><h1>%s</h1><p>%s</p></body></html>
`

// page answers a small HTML page: the browser's user reads it, not a program.
func page(w http.ResponseWriter, status int, title, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	t := html.EscapeString(title)
	fmt.Fprintf(w, pageHTML, t, t, html.EscapeString(text))
}

// webAllowed counts a browser's request against its address's limit and,
// over it, answers the page saying so.
func (s *Server) webAllowed(w http.ResponseWriter, r *http.Request) bool {
	_, _, lim := s.limiters()
	wait := lim.take(addrKey(r.RemoteAddr), s.now())
	if wait == 0 {
		return true
	}
	retryAfter(w, wait)
	page(w, http.StatusTooManyRequests, "Please wait", "Too many requests came from your network in the last minute. Wait a minute, then reload this page.")
	return false
}
