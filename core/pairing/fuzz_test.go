package pairing

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"adhocstation/core/wire"
)

// FuzzDecodePairRequest feeds the pair call's decoder arbitrary bodies: it
// must never panic, must refuse oversize bodies with 413, must refuse with
// a wire error carrying a message, and whatever it accepts must survive a
// round trip through JSON unchanged.
func FuzzDecodePairRequest(f *testing.F) {
	good, _ := json.Marshal(pairBody("4f1c0e2b9a8d7c6b5a4f3e2d1c0b9a8f", "482 193 657"))
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"token":"t","code":"482-193-657","facts":{"os_name":"Windows 11"}}`))
	f.Add([]byte(`{"token":"t","code":"482193657","extra":1}`))
	f.Add([]byte(`{"token":"t","code":"482193657"} {}`))
	f.Add([]byte(`{"token":"\ud800","code":"482193657"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add(bytes.Repeat([]byte("["), 5000))
	f.Add(append([]byte(`{"token":"`), bytes.Repeat([]byte("a"), wire.MaxRequestBytes)...))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodePairRequest(bytes.NewReader(body))
		if e != nil {
			if e.body.Code != wire.CodeBadRequest || e.body.Message == "" {
				t.Fatalf("refusal without code or message: %+v", e)
			}
			if e.status != http.StatusBadRequest && e.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("refused with status %d", e.status)
			}
			return
		}
		if len(body) > wire.MaxRequestBytes {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		if req.Token == "" || !codeShape(req.Code) {
			t.Fatalf("accepted an unusable request %+v", req)
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		back, e := decodePairRequest(bytes.NewReader(again))
		if e != nil || !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip changed %+v into %+v (%v)", req, back, e)
		}
	})
}

func TestOversizeAlways413(t *testing.T) {
	// Valid JSON that is merely too long must be refused as too large.
	body := append([]byte(`{"token":"`), bytes.Repeat([]byte("a"), wire.MaxRequestBytes)...)
	body = append(body, `","code":"482193657"}`...)
	if _, e := decodePairRequest(bytes.NewReader(body)); e == nil || e.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %+v, want 413", e)
	}
}
