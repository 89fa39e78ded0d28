package core_test

import (
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/mail/mailtest"
)

// BenchmarkSendEmailAndPrepare measures "Send email and prepare session"
// until the invitation is accepted by a real SMTP server on 127.0.0.1, on
// the real clock: ns/op is the whole Prepare→accepted time (argon2id
// hashing included); ms-commit→accepted is the outbox's share, from
// Prepare's return (just after its commit) to the server's acceptance.
func BenchmarkSendEmailAndPrepare(b *testing.B) {
	for _, mode := range []mailtest.Mode{mailtest.StartTLS, mailtest.TLS} {
		b.Run(string(mode), func(b *testing.B) {
			b.Setenv(core.KeyringEnv, "off")
			st, err := core.Open(core.Config{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			srv := mailtest.Start(b, mode)
			configure(b, st, srv, mailtest.Password)
			run(b, st)
			ctx := b.Context()
			p, err := st.CreateProfile(ctx, "Bench Tech", "bench@example.com")
			if err != nil {
				b.Fatal(err)
			}
			pw := "Correct-Horse-42"
			req := core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com", Password: pw, Confirm: pw}
			var outbox time.Duration
			n := 0
			for b.Loop() {
				prep, err := st.Prepare(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				committed := time.Now()
				msgs := srv.Wait(n + 1)
				outbox += msgs[n].At.Sub(committed)
				n++
				b.StopTimer()
				if err := st.Cancel(ctx, prep.Session.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(outbox.Microseconds())/1000/float64(n), "ms-commit→accepted")
		})
	}
}
