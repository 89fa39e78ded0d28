package pairing

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"adhocstation/core"
	"adhocstation/core/wire"
)

// AccountName is the hidden local Administrator account the app creates
// (at most 20 characters, Windows' limit).
const AccountName = "AdHocRemoteUser"

// callTimeout bounds one API call's work in core. The call is not cancelled
// when the client goes away, so a pairing is never half-committed.
const callTimeout = 15 * time.Second

// apiError is a refusal: its HTTP status and the JSON body the app shows.
type apiError struct {
	status int
	body   wire.Error
}

func (s *Server) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("POST "+wire.APIPrefix+"pair", s.handlePair)
	mux.HandleFunc("POST "+wire.APIPrefix+"confirm", s.agentCall("confirm", s.confirm))
	mux.HandleFunc("POST "+wire.APIPrefix+"heartbeat", s.agentCall("heartbeat", s.heartbeat))
	mux.HandleFunc("POST "+wire.APIPrefix+"end", s.agentCall("end", s.end))
	mux.HandleFunc("POST "+wire.APIPrefix+"cleanup", s.agentCall("cleanup", s.cleanup))
	mux.HandleFunc("GET "+wire.APIPrefix+wire.ChannelPath, s.handleChannel)
	mux.HandleFunc(wire.APIPrefix, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path[len(wire.APIPrefix):] {
		case "pair", "confirm", "heartbeat", "end", "cleanup":
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, body: wire.Error{Code: wire.CodeBadRequest,
				Message: "This address accepts POST requests from the Support Session app only."}})
		default:
			writeError(w, &apiError{status: http.StatusNotFound, body: wire.Error{Code: wire.CodeBadRequest,
				Message: "The station does not offer this call. Download the current Support Session app from the invitation link."}})
		}
	})
}

func (s *Server) handlePair(w http.ResponseWriter, r *http.Request) {
	addr, now := core.RateLimitAddress(r.RemoteAddr), s.st.Now()
	if wait := s.limited.retryAfter(addr, now); wait > 0 {
		writeError(w, s.refusal("pair", &core.RateLimitError{RetryAfter: wait}, false))
		return
	}
	if e := checkJSON(w, r); e != nil {
		writeError(w, e)
		return
	}
	req, e := decodePairRequest(r.Body)
	if e != nil {
		writeError(w, e)
		return
	}
	release, e := s.lane(r.Context(), req.Token)
	if e != nil {
		writeError(w, e)
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), callTimeout)
	defer cancel()
	f := req.Facts
	paired, err := s.st.Pair(ctx, core.PairRequest{Token: req.Token, Code: req.Code, RemoteAddr: r.RemoteAddr,
		Facts: core.ComputerFacts{Hostname: f.Hostname, OSName: f.OSName, OSVersion: f.OSVersion, Arch: f.Arch,
			WindowsUser: f.WindowsUser, MachineID: f.MachineID}, ViaHub: hubOf(r.Context())})
	if err != nil {
		var rate *core.RateLimitError
		if errors.As(err, &rate) {
			s.limited.add(addr, now.Add(rate.RetryAfter), now)
		}
		writeError(w, s.refusal("pair", err, false))
		return
	}
	sess := paired.Session
	var relayToken string
	if rel, ok, err := s.st.RelayToken(ctx, sess.ID, sess.ExpiresAt); err == nil && ok {
		relayToken = rel.Token // the exact end, not the download's latest one
	}
	writeJSON(w, http.StatusOK, wire.PairResponse{
		RelayToken:  relayToken,
		SessionID:   sess.ID,
		Technician:  wire.Technician{Name: sess.ProfileName, Email: sess.ProfileEmail},
		AccountName: AccountName,
		Password:    paired.Password,
		AgentKey:    paired.AgentKey,
		ActivatedAt: sess.ActivatedAt,
		ExpiresAt:   sess.ExpiresAt,
	})
}

// Hopeless pairing attempts (unknown or closed link, burned code) go
// through a narrow lane: each still reaches core, which counts, refuses and
// audits it with a SQLite write, but a flood of them from many addresses
// can hold only narrowLane of the single writer's turns, so the pairing of
// a real invitation never queues behind hundreds of refusals.
const (
	narrowLane = 2
	// hopelessPause holds the lane a moment after each answer, about what
	// the synced write of a refusal used to take: a flood's connections
	// then wait parked instead of keeping the CPUs from real pairings.
	hopelessPause = 2 * time.Millisecond
	laneWait      = 5 * time.Second
)

func (s *Server) lane(ctx context.Context, token string) (release func(), e *apiError) {
	if sess, err := s.st.Invitation(ctx, token); err == nil && !sess.CodeBurned() {
		return func() {}, nil
	}
	t := time.NewTimer(laneWait)
	defer t.Stop()
	select {
	case s.narrow <- struct{}{}:
		return func() {
			time.Sleep(hopelessPause)
			<-s.narrow
		}, nil
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, &apiError{status: http.StatusServiceUnavailable, body: wire.Error{Code: wire.CodeRateLimited,
		Message: "The station is busy. Try again in a few seconds.", RetryAfterSeconds: 5}}
}

// agentCall wraps the calls the paired app makes with its agent key.
func (s *Server) agentCall(name string, do func(ctx context.Context, req wire.AgentRequest) (core.Session, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := checkJSONUpTo(w, r, agentBodyLimit(name)); e != nil {
			writeError(w, e)
			return
		}
		req, e := decodeAgentRequest(r.Body, name == "cleanup")
		if e != nil {
			writeError(w, e)
			return
		}
		if wait := s.agents.take(req.AgentKey, s.st.Now()); wait > 0 {
			writeError(w, agentTooOften(wait))
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), callTimeout)
		defer cancel()
		sess, err := do(ctx, req)
		if err == nil || errors.Is(err, core.ErrSessionClosed) {
			s.agents.known(req.AgentKey)
		}
		if err != nil {
			writeError(w, s.refusal(name, err, true))
			return
		}
		writeJSON(w, http.StatusOK, status(sess))
	}
}

func (s *Server) confirm(ctx context.Context, req wire.AgentRequest) (core.Session, error) {
	if err := s.st.ConfirmAccount(ctx, req.AgentKey); err != nil {
		return core.Session{}, err
	}
	// The PC just spoke, so recording it as seen is true; it also finds the session.
	return s.st.Heartbeat(ctx, req.AgentKey)
}

func (s *Server) heartbeat(ctx context.Context, req wire.AgentRequest) (core.Session, error) {
	return s.st.Heartbeat(ctx, req.AgentKey)
}

func (s *Server) end(ctx context.Context, req wire.AgentRequest) (core.Session, error) {
	sess, err := s.st.Heartbeat(ctx, req.AgentKey)
	if err != nil {
		return sess, err
	}
	if err := s.st.EndByUser(ctx, req.AgentKey); err != nil && !errors.Is(err, core.ErrSessionClosed) {
		// Ending a session that already ended is what the user wanted: not a refusal.
		return sess, err
	}
	return s.st.Session(ctx, sess.ID)
}

func (s *Server) cleanup(ctx context.Context, req wire.AgentRequest) (core.Session, error) {
	sess, err := s.st.Heartbeat(ctx, req.AgentKey)
	if err != nil {
		return sess, err
	}
	if err := s.st.CleanupReceiptWithActivity(ctx, req.AgentKey, req.Detail, req.Activity); err != nil {
		return sess, err
	}
	return s.st.Session(ctx, sess.ID)
}

func status(sess core.Session) wire.StatusResponse {
	// Connected stays false until remote control exists.
	return wire.StatusResponse{State: string(sess.State), ExpiresAt: sess.ExpiresAt}
}

// refusal maps a core error to its HTTP status, wire code and sentence.
// Core has audited every pairing refusal already; unexpected errors are
// logged here without the request's secrets.
func (s *Server) refusal(call string, err error, agent bool) *apiError {
	e := func(status int, code string) *apiError {
		return &apiError{status: status, body: wire.Error{Code: code, Message: err.Error()}}
	}
	var codeErr *core.CodeError
	var rateErr *core.RateLimitError
	var floodErr *core.FloodError
	switch {
	case errors.As(err, &rateErr):
		out := e(http.StatusTooManyRequests, wire.CodeRateLimited)
		out.body.RetryAfterSeconds = retrySeconds(rateErr.RetryAfter)
		return out
	case errors.As(err, &floodErr):
		out := e(http.StatusTooManyRequests, wire.CodeRateLimited)
		out.body.RetryAfterSeconds = retrySeconds(floodErr.RetryAfter)
		return out
	case errors.As(err, &codeErr):
		out := e(http.StatusForbidden, wire.CodeInvalidCode)
		out.body.AttemptsLeft = codeErr.AttemptsLeft
		return out
	case errors.Is(err, core.ErrCodeBurned):
		return e(http.StatusForbidden, wire.CodeCodeBurned)
	case errors.Is(err, core.ErrNotWindows):
		return e(http.StatusForbidden, wire.CodeNotWindows)
	case errors.Is(err, core.ErrAlreadyPaired):
		return e(http.StatusConflict, wire.CodeAlreadyPaired)
	case errors.Is(err, core.ErrInvitationExpired):
		return e(http.StatusGone, wire.CodeInvitationExpired)
	case errors.Is(err, core.ErrSessionClosed):
		return e(http.StatusConflict, wire.CodeSessionClosed)
	case errors.Is(err, core.ErrUnknownToken) && agent:
		return &apiError{status: http.StatusNotFound, body: wire.Error{Code: wire.CodeUnknownToken,
			Message: "The station no longer knows this PC's support session. The app removes the support account; ask your technician for a new invitation if you still need help."}}
	case errors.Is(err, core.ErrUnknownToken):
		return e(http.StatusNotFound, wire.CodeUnknownToken)
	}
	s.log.Error("pairing call failed", "call", call, "err", err)
	return &apiError{status: http.StatusInternalServerError, body: wire.Error{Code: wire.CodeInternal,
		Message: "The station could not complete this step. Try again in a minute; if it keeps failing, tell your technician."}}
}

// checkJSON refuses bodies that are not JSON and caps the body's size
// (the connection is closed after an oversize body).
func checkJSON(w http.ResponseWriter, r *http.Request) *apiError {
	return checkJSONUpTo(w, r, wire.MaxRequestBytes)
}

// agentBodyLimit is the body cap of an agent call: the cleanup receipt
// carries the PC's activity list.
func agentBodyLimit(call string) int64 {
	if call == "cleanup" {
		return wire.MaxReceiptBytes
	}
	return wire.MaxRequestBytes
}

// checkJSONUpTo is checkJSON for a body of at most limit bytes.
func checkJSONUpTo(w http.ResponseWriter, r *http.Request, limit int64) *apiError {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, body: wire.Error{Code: wire.CodeBadRequest,
			Message: "The station accepts JSON from the Support Session app only. Download the app again from the invitation link."}}
	}
	return nil
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.body.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.body.RetryAfterSeconds))
	}
	writeJSON(w, e.status, e.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// Answers can carry the account password: no cache may keep them.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
