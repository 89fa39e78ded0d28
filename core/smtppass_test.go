package core_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"

	"github.com/zalando/go-keyring"
)

// TestSMTPPasswordSealed takes the sealed path deterministically (no OS
// keyring) and checks the password is usable yet nowhere on disk in plain
// text, and that "" forgets it.
func TestSMTPPasswordSealed(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	ctx := t.Context()
	if st.HasSMTPPassword(ctx) {
		t.Fatal("a fresh station has an SMTP password")
	}
	srv := mailtest.Start(t, mailtest.StartTLS)
	configure(t, st, srv, mailtest.Password)
	if !st.HasSMTPPassword(ctx) {
		t.Fatal("the password was not kept")
	}
	// Usable after a restart: it is read back from the sealed copy.
	st.Close()
	st = coretest.OpenWith(t, dir, clock, nil)
	if err := st.SendTestEmail(ctx, "tech@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Wait(1); got[0].AuthUser != mailtest.Username {
		t.Fatalf("received %+v", got[0])
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(mailtest.Password)) {
			t.Errorf("%s holds the SMTP password in plain text", filepath.Base(f))
		}
	}
	if err := st.SetSMTPPassword(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if st.HasSMTPPassword(ctx) {
		t.Fatal("the password was not forgotten")
	}
	audit, err := st.Audit(ctx, core.AuditFilter{Search: "SMTP password"})
	if err != nil || len(audit) != 2 || audit[1].Detail != "sealed in the station database" {
		t.Fatalf("audit %+v, %v", audit, err)
	}
}

// TestSMTPPasswordKeyring takes the keyring path. No OS keyring runs on a
// headless Linux test machine, so go-keyring's in-memory provider stands in
// for it (the one fake here, for an OS service that cannot run); the real
// providers are go-keyring's own, compiled into every build.
func TestSMTPPasswordKeyring(t *testing.T) {
	t.Setenv(core.KeyringEnv, "")
	keyring.MockInit() // process-wide; every other test here keeps the keyring off
	dir := t.TempDir()
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	ctx := t.Context()
	srv := mailtest.Start(t, mailtest.TLS)
	configure(t, st, srv, mailtest.Password)
	if err := st.SendTestEmail(ctx, "tech@example.com"); err != nil {
		t.Fatal(err)
	}
	srv.Wait(1)
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(mailtest.Password)) {
			t.Errorf("%s holds the SMTP password in plain text", filepath.Base(f))
		}
	}
	audit, _ := st.Audit(ctx, core.AuditFilter{Search: "SMTP password"})
	if len(audit) != 1 || audit[0].Detail != "kept in the system keyring" {
		t.Fatalf("audit %+v", audit)
	}
	if err := st.SetSMTPPassword(ctx, ""); err != nil || st.HasSMTPPassword(ctx) {
		t.Fatalf("forget: %v, still stored %v", err, st.HasSMTPPassword(ctx))
	}

	// A keyring that refuses: the password is sealed instead, and works.
	keyring.MockInitWithError(errors.New("the keyring is locked"))
	if err := st.SetSMTPPassword(ctx, mailtest.Password); err != nil {
		t.Fatal(err)
	}
	if err := st.SendTestEmail(ctx, "tech@example.com"); err != nil {
		t.Fatal(err)
	}
	audit, _ = st.Audit(ctx, core.AuditFilter{Search: "SMTP password"})
	if audit[0].Detail != "sealed in the station database" {
		t.Fatalf("audit %+v", audit[0])
	}
}
