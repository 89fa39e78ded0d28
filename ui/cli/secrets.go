package cli

import (
	"context"
	"fmt"
	"strings"

	"adhocstation/core"
)

// secretKey is a setting whose value is a secret: never taken as an
// argument, never shown back (only whether, or which, one is stored), like
// the Settings page. A secret comes from standard input (--stdin) or, for
// a key file, from a file whose path is the argument (--file PATH).
type secretKey struct {
	name     string
	fromFile bool
	shown    func(context.Context, *core.Station) string
	set      func(context.Context, *core.Station, string) error // the secret, or the file's path
	forget   func(context.Context, *core.Station) error         // nil: cannot be forgotten alone
}

func storedOrNot(ok bool) string {
	if ok {
		return "stored"
	}
	return "not stored"
}

func orNotStored(prefix, v string) string {
	if v == "" {
		return "not stored"
	}
	return prefix + v
}

var secretKeys = []secretKey{
	{name: "smtp.password",
		shown:  func(ctx context.Context, st *core.Station) string { return storedOrNot(st.HasSMTPPassword(ctx)) },
		set:    func(ctx context.Context, st *core.Station, v string) error { return st.SetSMTPPassword(ctx, v) },
		forget: func(ctx context.Context, st *core.Station) error { return st.SetSMTPPassword(ctx, "") }},
	{name: "smtp.client_secret",
		shown:  func(ctx context.Context, st *core.Station) string { return storedOrNot(st.HasSMTPClientSecret(ctx)) },
		set:    func(ctx context.Context, st *core.Station, v string) error { return st.SetSMTPClientSecret(ctx, v) },
		forget: func(ctx context.Context, st *core.Station) error { return st.SetSMTPClientSecret(ctx, "") }},
	{name: "smtp.client_certificate", fromFile: true,
		shown: func(ctx context.Context, st *core.Station) string {
			return orNotStored("thumbprint ", st.SMTPClientCertificate(ctx))
		},
		set: func(ctx context.Context, st *core.Station, path string) error {
			return st.SetSMTPClientCertificateFile(ctx, path)
		}},
	{name: "smtp.google_key", fromFile: true,
		shown: func(ctx context.Context, st *core.Station) string {
			return orNotStored("service account ", st.GoogleServiceAccount(ctx))
		},
		set: func(ctx context.Context, st *core.Station, path string) error {
			return st.SetGoogleServiceAccountKeyFile(ctx, path)
		},
		forget: func(ctx context.Context, st *core.Station) error { return st.SetGoogleServiceAccountKey(ctx, nil) }},
}

func findSecret(name string) (secretKey, bool) {
	for _, k := range secretKeys {
		if k.name == name {
			return k, true
		}
	}
	return secretKey{}, false
}

// secretHowTo says how a secret is given, for refusals that must not echo it.
func (k secretKey) howTo() string {
	if k.fromFile {
		return "settings set " + k.name + " --file PATH"
	}
	return "settings set " + k.name + " --stdin"
}

// setSecret stores a secret given as `settings set NAME --stdin` or
// `settings set NAME --file PATH`.
func (c *cli) setSecret(k secretKey, args []string) error {
	value := ""
	switch {
	case !k.fromFile && len(args) == 1 && strings.TrimLeft(args[0], "-") == "stdin":
		v, err := readSecret(c.in)
		if err != nil {
			return err
		}
		if v == "" {
			return valueError{k.name, "standard input was empty; to remove the stored one use `adhoc-station settings forget " + k.name + "`"}
		}
		value = v
	case k.fromFile && len(args) == 2 && strings.TrimLeft(args[0], "-") == "file":
		value = args[1]
	case k.fromFile && len(args) == 1 && strings.HasPrefix(strings.TrimLeft(args[0], "-"), "file="):
		value = strings.SplitN(args[0], "=", 2)[1]
	default:
		return usagef("Give %s as: %s.", k.name, k.howTo())
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	if err := k.set(context.Background(), st, value); err != nil {
		return err
	}
	fmt.Fprintln(c.out, k.name+" stored")
	return nil
}

func (c *cli) forgetSetting(args []string) error {
	var k secretKey
	ok := len(args) == 1
	if ok {
		k, ok = findSecret(args[0])
	}
	if !ok || k.forget == nil {
		return usagef("Only a stored secret can be forgotten: settings forget smtp.password | smtp.client_secret | smtp.google_key " +
			"(a client certificate is replaced by storing a client secret).")
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	if err := k.forget(context.Background(), st); err != nil {
		return err
	}
	fmt.Fprintln(c.out, k.name+" forgotten")
	return nil
}
