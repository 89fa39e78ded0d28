package pairing

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"adhocstation/core/wire"
)

// Field limits: generous for real PCs, small enough that nothing a client
// sends can bloat the database or the audit log.
const (
	maxTokenLen  = 128
	maxFactLen   = 256
	maxDetailLen = 1000
)

// decodeJSON reads exactly one JSON object into v from a body of at most
// wire.MaxRequestBytes, refusing unknown fields and anything after it.
func decodeJSON(body io.Reader, v any) *apiError {
	return decodeJSONUpTo(body, v, wire.MaxRequestBytes)
}

// decodeJSONUpTo is decodeJSON for a body of at most limit bytes.
func decodeJSONUpTo(body io.Reader, v any, limit int64) *apiError {
	body = http.MaxBytesReader(nil, io.NopCloser(body), limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One object only: a second value or garbage is refused as well.
		if err = dec.Decode(new(json.RawMessage)); err == io.EOF {
			return nil
		} else if err == nil {
			err = errors.New("more than one JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{status: http.StatusRequestEntityTooLarge, body: wire.Error{Code: wire.CodeBadRequest,
			Message: "The request is too large for the station. Download the Support Session app again from the invitation link."}}
	}
	return badRequest("The station could not read the request. Download the Support Session app again from the invitation link.")
}

// decodePairRequest reads and checks POST /api/v1/pair. A malformed code
// is refused here without costing one of the code's tries: it is a typo,
// not a guess.
func decodePairRequest(body io.Reader) (wire.PairRequest, *apiError) {
	var req wire.PairRequest
	if e := decodeJSON(body, &req); e != nil {
		return wire.PairRequest{}, e
	}
	if req.Token == "" || len(req.Token) > maxTokenLen {
		return wire.PairRequest{}, badRequest("This copy of the Support Session app carries no valid pairing details. Download it again from the invitation link.")
	}
	if !codeShape(req.Code) {
		return wire.PairRequest{}, badRequest("The security code has 9 digits, like 482 193 657. Type the code your technician reads to you.")
	}
	f := &req.Facts
	for _, v := range []*string{&f.Hostname, &f.OSName, &f.OSVersion, &f.Arch, &f.WindowsUser, &f.MachineID} {
		if len(*v) > maxFactLen || !utf8.ValidString(*v) {
			return wire.PairRequest{}, badRequest("The app sent computer details the station cannot accept. Download the app again from the invitation link.")
		}
		// Cleaned here, once: these reach the audit log, the station's
		// log and its windows.
		*v = wire.CleanText(*v, maxFactLen)
	}
	return req, nil
}

// codeShape reports whether s is nine digits, with optional spaces or
// dashes between groups as people type them.
func codeShape(s string) bool {
	if len(s) > 32 {
		return false
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-':
		default:
			return false
		}
	}
	return digits == 9
}

// decodeAgentRequest reads confirm, heartbeat, end and cleanup bodies;
// only the cleanup receipt may carry the PC's activity list, and be up to
// wire.MaxReceiptBytes.
func decodeAgentRequest(body io.Reader, cleanup bool) (wire.AgentRequest, *apiError) {
	var req wire.AgentRequest
	limit := int64(wire.MaxRequestBytes)
	if cleanup {
		limit = wire.MaxReceiptBytes
	}
	if e := decodeJSONUpTo(body, &req, limit); e != nil {
		return wire.AgentRequest{}, e
	}
	if req.Activity != nil && !cleanup {
		return wire.AgentRequest{}, badRequest("Only the cleanup receipt carries the PC's activity list. Download the current Support Session app from the invitation link.")
	}
	if req.AgentKey == "" || len(req.AgentKey) > maxTokenLen {
		return wire.AgentRequest{}, badRequest("The Support Session app sent no valid session key. End the session from the app; ask your technician for a new invitation if needed.")
	}
	if len(req.Detail) > maxDetailLen || !utf8.ValidString(req.Detail) {
		return wire.AgentRequest{}, badRequest("The cleanup report is too long for the station.")
	}
	req.Detail = wire.CleanText(req.Detail, maxDetailLen) // it is audited
	return req, nil
}

func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: wire.Error{Code: wire.CodeBadRequest, Message: msg}}
}
