package pairing

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

func TestPairActivatesAndEventArrives(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana Técnica", "ana@example.com")
	sub := e.st.Subscribe()
	defer sub.Close()

	r := e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code))
	if r.status != http.StatusOK {
		t.Fatalf("right code: status %d, %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q; the answer carries a password and must not be cached", cc)
	}
	var got wire.PairResponse
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Password != coretest.Password || got.AgentKey == "" || got.AccountName != "AdHocRemoteUser" ||
		got.Technician != (wire.Technician{Name: "Ana Técnica", Email: "ana@example.com"}) || got.SessionID != prep.Session.ID {
		t.Errorf("pair response %+v", got)
	}
	if !got.ActivatedAt.Equal(coretest.Start) || !got.ExpiresAt.Equal(coretest.Start.Add(24*time.Hour)) {
		t.Errorf("activated %v, expires %v; want %v + 24 h", got.ActivatedAt, got.ExpiresAt, coretest.Start)
	}
	if ev := coretest.WaitEvent(t, sub, core.EventPaired, 0); ev.SessionID != prep.Session.ID {
		t.Errorf("paired event for session %d, want %d", ev.SessionID, prep.Session.ID)
	}
	sess, err := e.st.Session(t.Context(), prep.Session.ID)
	if err != nil || sess.State != core.StateActive || sess.Computer == nil || sess.Computer.Hostname != coretest.WindowsPC.Hostname {
		t.Fatalf("session after pairing: %+v, %v", sess, err)
	}
	if sess.Computer.WindowsUser != "anna" || sess.Computer.MachineID != coretest.WindowsPC.MachineID {
		t.Errorf("computer facts not stored: %+v", sess.Computer)
	}

	key := wire.AgentRequest{AgentKey: got.AgentKey}
	st := e.status(e.post("/api/v1/confirm", key))
	if st.State != "active" || !st.ExpiresAt.Equal(got.ExpiresAt) || st.Connected {
		t.Errorf("confirm answered %+v", st)
	}
	if sess, _ := e.st.Session(t.Context(), prep.Session.ID); !sess.Computer.AccountReady {
		t.Error("confirm did not mark the account ready")
	}

	// The technician ends the session; the next heartbeat tells the app.
	if err := e.st.End(t.Context(), prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	if st := e.status(e.post("/api/v1/heartbeat", key)); st.State != "ended" {
		t.Errorf("heartbeat after End: state %q, want ended", st.State)
	}
	if st := e.status(e.post("/api/v1/cleanup", wire.AgentRequest{AgentKey: got.AgentKey, Detail: "account and app removed"})); st.State != "ended" {
		t.Errorf("cleanup answered %+v", st)
	}
	if sess, _ := e.st.Session(t.Context(), prep.Session.ID); !sess.Computer.CleanedUp {
		t.Error("cleanup receipt not recorded")
	}
}

func (e *env) status(r reply) wire.StatusResponse {
	e.t.Helper()
	if r.status != http.StatusOK {
		e.t.Fatalf("status %d: %s", r.status, r.body)
	}
	var s wire.StatusResponse
	if err := json.Unmarshal(r.body, &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestEndFromThePC(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	var got wire.PairResponse
	json.Unmarshal(e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code)).body, &got)
	key := wire.AgentRequest{AgentKey: got.AgentKey}
	if st := e.status(e.post("/api/v1/end", key)); st.State != "ended" {
		t.Fatalf("end answered state %q", st.State)
	}
	// Ending twice is what the user wanted anyway: answered, not refused.
	if st := e.status(e.post("/api/v1/end", key)); st.State != "ended" {
		t.Fatalf("second end answered state %q", st.State)
	}
	sess, _ := e.st.Session(t.Context(), prep.Session.ID)
	if sess.State != core.StateEnded {
		t.Errorf("session %s after end from the PC", sess.State)
	}
}

func TestPairRefusals(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(e *env, prep core.Prepared) wire.PairRequest
		status int
		code   string
	}{
		{"invalid_code", func(e *env, p core.Prepared) wire.PairRequest {
			return pairBody(p.Session.Token, coretest.WrongCode(p.Code))
		}, http.StatusForbidden, wire.CodeInvalidCode},
		{"code_burned", func(e *env, p core.Prepared) wire.PairRequest {
			// Literal counts: computed from MaxCodeAttempts they would
			// follow a changed constant instead of catching it.
			for _, left := range []int{4, 3, 2, 1} {
				r := e.post("/api/v1/pair", pairBody(p.Session.Token, coretest.WrongCode(p.Code)))
				if got := r.wireError(e.t); got.Code != wire.CodeInvalidCode || got.AttemptsLeft != left {
					e.t.Fatalf("wrong code: %s with %d tries left, want %s with %d", got.Code, got.AttemptsLeft, wire.CodeInvalidCode, left)
				}
			}
			if got := e.post("/api/v1/pair", pairBody(p.Session.Token, coretest.WrongCode(p.Code))).wireError(e.t); got.Code != wire.CodeCodeBurned {
				e.t.Fatalf("fifth wrong code: %s, want %s", got.Code, wire.CodeCodeBurned)
			}
			return pairBody(p.Session.Token, p.Code) // even the right code is dead now
		}, http.StatusForbidden, wire.CodeCodeBurned},
		{"not_windows", func(e *env, p core.Prepared) wire.PairRequest {
			req := pairBody(p.Session.Token, p.Code)
			req.Facts.OSName, req.Facts.OSVersion = "Ubuntu 24.04 LTS", "6.8.0"
			return req
		}, http.StatusForbidden, wire.CodeNotWindows},
		{"invitation_expired", func(e *env, p core.Prepared) wire.PairRequest {
			e.clock.Advance(2 * time.Hour)
			return pairBody(p.Session.Token, p.Code)
		}, http.StatusGone, wire.CodeInvitationExpired},
		{"cancelled", func(e *env, p core.Prepared) wire.PairRequest {
			if err := e.st.Cancel(e.t.Context(), p.Session.ID); err != nil {
				e.t.Fatal(err)
			}
			return pairBody(p.Session.Token, p.Code)
		}, http.StatusGone, wire.CodeInvitationExpired},
		{"already_paired", func(e *env, p core.Prepared) wire.PairRequest {
			if r := e.post("/api/v1/pair", pairBody(p.Session.Token, p.Code)); r.status != http.StatusOK {
				e.t.Fatalf("first pairing: %d %s", r.status, r.body)
			}
			return pairBody(p.Session.Token, p.Code)
		}, http.StatusConflict, wire.CodeAlreadyPaired},
		{"unknown_token", func(e *env, p core.Prepared) wire.PairRequest {
			return pairBody("no-such-token-0123456789", p.Code)
		}, http.StatusNotFound, wire.CodeUnknownToken},
		{"code_not_digits", func(e *env, p core.Prepared) wire.PairRequest {
			return pairBody(p.Session.Token, "one two three")
		}, http.StatusBadRequest, wire.CodeBadRequest},
		{"no_token", func(e *env, p core.Prepared) wire.PairRequest {
			return pairBody("", p.Code)
		}, http.StatusBadRequest, wire.CodeBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
			r := e.post("/api/v1/pair", c.setup(e, prep))
			got := r.wireError(t)
			if r.status != c.status || got.Code != c.code {
				t.Fatalf("got %d %s (%s), want %d %s", r.status, got.Code, got.Message, c.status, c.code)
			}
			if c.code == wire.CodeInvalidCode && got.AttemptsLeft != 4 {
				t.Errorf("attempts_left %d, want 4", got.AttemptsLeft)
			}
			if c.code != wire.CodeBadRequest {
				// core audited the refusal; the HTTP layer must not have swallowed it.
				audit, err := e.st.Audit(t.Context(), core.AuditFilter{Search: "pairing refused"})
				if err != nil || len(audit) == 0 {
					t.Errorf("refusal not audited: %v", err)
				}
			}
			if c.name == "not_windows" {
				if sess, _ := e.st.Session(t.Context(), prep.Session.ID); sess.State != core.StatePrepared {
					t.Errorf("a non-Windows PC changed the session to %s", sess.State)
				}
			}
		})
	}
}

func TestRateLimitSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	e := startEnv(t, st, clock, Options{})
	// Ten wrong codes on three real invitations (4 + 4 + 2, none burned):
	// guesses that could succeed are what the limit must remember.
	for i, tries := range []int{4, 4, 2} {
		_, prep := coretest.MustPrepare(t, st, "Tech", "tech"+strconv.Itoa(i)+"@example.com")
		for range tries {
			if r := e.post("/api/v1/pair", pairBody(prep.Session.Token, coretest.WrongCode(prep.Code))); r.status != http.StatusForbidden {
				t.Fatalf("wrong code: %d %s", r.status, r.body)
			}
		}
	}
	r := e.post("/api/v1/pair", pairBody("guess", "111 111 111"))
	if r.status != http.StatusTooManyRequests || r.wireError(t).Code != wire.CodeRateLimited {
		t.Fatalf("11th try in a minute: %d %s", r.status, r.body)
	}
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 60 || r.wireError(t).RetryAfterSeconds != retry {
		t.Fatalf("Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}

	// A new station on the same folder (a restart) still refuses.
	e.srv.Close()
	st.Close()
	clock.Advance(10 * time.Second)
	st2 := coretest.OpenWith(t, dir, clock, nil)
	e2 := startEnv(t, st2, clock, Options{})
	if r := e2.post("/api/v1/pair", pairBody("guess-after-restart", "111 111 111")); r.status != http.StatusTooManyRequests {
		t.Fatalf("after restart: %d %s; the limit must survive", r.status, r.body)
	}
	clock.Advance(time.Minute)
	if r := e2.post("/api/v1/pair", pairBody("guess-next-minute", "111 111 111")); r.status != http.StatusNotFound {
		t.Fatalf("a minute later: %d %s; want the normal unknown_token answer", r.status, r.body)
	}
}

func TestHTTPRefusals(t *testing.T) {
	e := newEnv(t)
	good, _ := json.Marshal(pairBody("tok", "123 456 789"))
	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
	}{
		{"not JSON", "POST", "/api/v1/pair", "application/json", []byte("{nope"), http.StatusBadRequest},
		{"unknown field", "POST", "/api/v1/pair", "application/json", []byte(`{"token":"t","code":"123456789","admin":true}`), http.StatusBadRequest},
		{"two values", "POST", "/api/v1/pair", "application/json", append(good, good...), http.StatusBadRequest},
		{"too large", "POST", "/api/v1/pair", "application/json", bytes.Repeat([]byte(" "), wire.MaxRequestBytes+1), http.StatusRequestEntityTooLarge},
		{"too large field", "POST", "/api/v1/pair", "application/json", []byte(`{"token":"` + strings.Repeat("a", wire.MaxRequestBytes) + `"}`), http.StatusRequestEntityTooLarge},
		{"form instead of JSON", "POST", "/api/v1/pair", "application/x-www-form-urlencoded", []byte("token=a&code=1"), http.StatusUnsupportedMediaType},
		{"no content type", "POST", "/api/v1/heartbeat", "", []byte(`{"agent_key":"k"}`), http.StatusUnsupportedMediaType},
		{"GET on pair", "GET", "/api/v1/pair", "", nil, http.StatusMethodNotAllowed},
		{"unknown call", "POST", "/api/v1/shell", "application/json", []byte(`{}`), http.StatusNotFound},
		{"empty agent key", "POST", "/api/v1/heartbeat", "application/json", []byte(`{"agent_key":""}`), http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.ctype, c.body)
			if got := r.wireError(t); r.status != c.status || got.Code != wire.CodeBadRequest {
				t.Fatalf("got %d %s %q, want %d bad_request", r.status, got.Code, got.Message, c.status)
			}
		})
	}
	// The service is still answering after all that.
	if r := e.post("/api/v1/heartbeat", wire.AgentRequest{AgentKey: "unknown"}); r.status != http.StatusNotFound || r.wireError(t).Code != wire.CodeUnknownToken {
		t.Fatalf("unknown agent key: %d %s", r.status, r.body)
	}
}

func TestAgentCallsWithUnknownKey(t *testing.T) {
	e := newEnv(t)
	for _, call := range []string{"confirm", "heartbeat", "end", "cleanup"} {
		r := e.post("/api/v1/"+call, wire.AgentRequest{AgentKey: "forged-key"})
		if got := r.wireError(t); r.status != http.StatusNotFound || got.Code != wire.CodeUnknownToken {
			t.Errorf("%s with a forged key: %d %s", call, r.status, got.Code)
		}
	}
}

func TestRealInvitationBypassesTheNarrowLane(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	for range cap(e.srv.narrow) { // a flood of hopeless attempts holds the lane
		e.srv.narrow <- struct{}{}
	}
	if r := e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code)); r.status != http.StatusOK {
		t.Fatalf("a real invitation waited for the flood's lane: %d %s", r.status, r.body)
	}
	done := make(chan int)
	body, _ := json.Marshal(pairBody("unknown-token-xyz", prep.Code))
	go func() {
		resp, err := e.client.Post(e.srv.URL()+"/api/v1/pair", "application/json", bytes.NewReader(body))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for range cap(e.srv.narrow) {
		<-e.srv.narrow
	}
	if got := coretest.Receive(t, done, "the unknown link's answer once the lane freed"); got != http.StatusNotFound {
		t.Fatalf("unknown link after the lane freed: status %d, want 404", got)
	}
}

func TestFailuresLoggedWithoutSecrets(t *testing.T) {
	var logs bytes.Buffer
	st, clock := coretest.Open(t)
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := startEnv(t, st, clock, Options{Logger: logger})
	_, prep := coretest.MustPrepare(t, st, "Ana", "ana@example.com")
	var paired wire.PairResponse
	json.Unmarshal(e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code)).body, &paired)
	st.Close() // every later call fails inside core
	for _, call := range []string{"heartbeat", "confirm", "end", "cleanup"} {
		r := e.post("/api/v1/"+call, wire.AgentRequest{AgentKey: paired.AgentKey})
		if got := r.wireError(t); r.status != http.StatusInternalServerError || got.Code != wire.CodeInternal {
			t.Errorf("%s on a closed station: %d %s", call, r.status, got.Code)
		}
	}
	e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code))
	if !strings.Contains(logs.String(), "pairing call failed") {
		t.Fatalf("the failures were not logged: %s", logs.String())
	}
	for name, secret := range map[string]string{"token": prep.Session.Token, "code": prep.Code,
		"password": coretest.Password, "agent key": paired.AgentKey} {
		if secret == "" || strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds the %s (or it is empty)", name)
		}
	}
}

func TestSlowClientsAreCut(t *testing.T) {
	saved := timeouts
	timeouts.readHeader, timeouts.read = 200*time.Millisecond, 400*time.Millisecond
	e := newEnv(t)
	timeouts = saved
	for name, send := range map[string]string{
		"header never finished": "POST /api/v1/pair HTTP/1.1\r\nHost: x\r\n",
		"body never sent":       "POST /api/v1/pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", e.srv.Addr().String(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(send)); err != nil {
				t.Fatal(err)
			}
			// The station must end the connection by itself; io.ReadAll
			// returns only then (an answer, if any, is read along the way).
			if _, err := io.ReadAll(conn); err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Logf("connection ended with %v", err)
			}
		})
	}
}
