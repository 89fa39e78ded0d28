package core

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

func benchStation(b *testing.B) *Station {
	b.Helper()
	st, err := Open(Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkPrepareSession measures "Send email and prepare session" in core:
// validation, argon2id hashing, sealing, the transaction with its outbox row
// and audit row, and a fsync'd commit. Each iteration cancels its session
// afterwards (outside the timer) so the seat is free again.
func BenchmarkPrepareSession(b *testing.B) {
	ctx := context.Background()
	st := benchStation(b)
	p, err := st.CreateProfile(ctx, "Bench", "bench@example.com")
	if err != nil {
		b.Fatal(err)
	}
	req := PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com", Password: "Correct-Horse-42", Confirm: "Correct-Horse-42"}
	b.ReportAllocs()
	for b.Loop() {
		prep, err := st.Prepare(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := st.Cancel(ctx, prep.Session.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// seedSessions writes n sessions (a third of them paired) in one transaction.
func seedSessions(b *testing.B, st *Station, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	err := st.write(ctx, func(tx *sql.Tx) error {
		for i := range n / 100 {
			if _, err := tx.Exec(`INSERT INTO profiles (name, email, created_at) VALUES (?, ?, ?)`,
				fmt.Sprintf("Tech %d", i), fmt.Sprintf("tech%d@example.com", i), ms2(now)); err != nil {
				return err
			}
		}
		for i := range n {
			state := "ended"
			if i < n/100 { // one open session per profile at most
				state = "active"
			}
			res, err := tx.Exec(`INSERT INTO sessions (profile_id, user_email, state, token_mac, code_attempts_left,
				password_hash, created_at, invite_expires_at, activated_at, expires_at)
				VALUES (?, ?, ?, ?, 5, 'x', ?, ?, ?, ?)`, 1+i%(n/100), fmt.Sprintf("user%d@example.com", i), state,
				fmt.Sprintf("token-%d", i), ms2(now), ms2(now.Add(time.Hour)), ms2(now), ms2(now.Add(SessionLength)))
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			if _, err := tx.Exec(`INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
				VALUES (?, 'a@example.com', 'u@example.com', 's', x'00', 'sent', 0, ?)`, id, ms2(now)); err != nil {
				return err
			}
			if i%3 == 0 {
				if _, err := tx.Exec(`INSERT INTO computers (session_id, hostname, os_name, os_version, arch, windows_user,
					machine_id, online, last_seen) VALUES (?, ?, 'Windows 11 Pro', '10.0.22631', 'amd64', 'anna', 'm', 1, ?)`,
					id, fmt.Sprintf("DESKTOP-%04d", i), ms2(now)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListSessions10000 reads the whole Computers page's data.
func BenchmarkListSessions10000(b *testing.B) {
	ctx := context.Background()
	st := benchStation(b)
	seedSessions(b, st, 10000)
	b.ReportAllocs()
	for b.Loop() {
		list, err := st.Sessions(ctx, SessionFilter{})
		if err != nil {
			b.Fatal(err)
		}
		if len(list) != 10000 {
			b.Fatalf("listed %d", len(list))
		}
	}
}
