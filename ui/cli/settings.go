package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"adhocstation/core"
)

// settingKey is one setting as the command line names it.
type settingKey struct {
	name   string
	number bool // shown as a JSON number
	get    func(core.Settings) string
	set    func(*core.Settings, string) error
}

func intSetting(name string, field func(*core.Settings) *int) settingKey {
	return settingKey{name: name, number: true,
		get: func(s core.Settings) string { return strconv.Itoa(*field(&s)) },
		set: func(s *core.Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return valueError{name, fmt.Sprintf("%q is not a whole number", v)}
			}
			*field(s) = n
			return nil
		}}
}

func textSetting(name string, field func(*core.Settings) *string) settingKey {
	return settingKey{name: name,
		get: func(s core.Settings) string { return *field(&s) },
		set: func(s *core.Settings, v string) error { *field(s) = v; return nil }}
}

// settingKeys lists every setting of the Settings page, in its order.
var settingKeys = []settingKey{
	intSetting("seats", func(s *core.Settings) *int { return &s.Seats }),
	{name: "invitation_timeout",
		get: func(s core.Settings) string { return formatMinutes(s.InvitationTimeout) },
		set: func(s *core.Settings, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return valueError{"invitation_timeout", fmt.Sprintf("%q is not a duration; write e.g. 60m or 2h", v)}
			}
			s.InvitationTimeout = d
			return nil
		}},
	textSetting("smtp.host", func(s *core.Settings) *string { return &s.SMTP.Host }),
	intSetting("smtp.port", func(s *core.Settings) *int { return &s.SMTP.Port }),
	{name: "smtp.security",
		get: func(s core.Settings) string { return string(s.SMTP.Security) },
		set: func(s *core.Settings, v string) error { s.SMTP.Security = core.SMTPSecurity(v); return nil }},
	{name: "smtp.auth",
		get: func(s core.Settings) string { return string(s.SMTP.Auth) },
		set: func(s *core.Settings, v string) error { s.SMTP.Auth = core.SMTPAuth(v); return nil }},
	textSetting("smtp.username", func(s *core.Settings) *string { return &s.SMTP.Username }),
	textSetting("smtp.tenant", func(s *core.Settings) *string { return &s.SMTP.Tenant }),
	textSetting("smtp.client_id", func(s *core.Settings) *string { return &s.SMTP.ClientID }),
	textSetting("smtp.token_url", func(s *core.Settings) *string { return &s.SMTP.TokenURL }),
	textSetting("smtp.sender", func(s *core.Settings) *string { return &s.SMTP.Sender }),
	textSetting("smtp.ca_file", func(s *core.Settings) *string { return &s.SMTP.CAFile }),
	textSetting("pairing.listen", func(s *core.Settings) *string { return &s.Pairing.ListenAddr }),
	textSetting("pairing.public_host", func(s *core.Settings) *string { return &s.Pairing.PublicHost }),
	intSetting("pairing.public_port", func(s *core.Settings) *int { return &s.Pairing.PublicPort }),
	textSetting("pairing.cert_file", func(s *core.Settings) *string { return &s.Pairing.CertFile }),
	textSetting("pairing.key_file", func(s *core.Settings) *string { return &s.Pairing.KeyFile }),
}

func formatMinutes(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}

func findSetting(name string) (settingKey, bool) {
	for _, k := range settingKeys {
		if k.name == name {
			return k, true
		}
	}
	return settingKey{}, false
}

func unknownSetting(name string) error {
	names := make([]string, 0, len(settingKeys)+len(secretKeys))
	for _, k := range settingKeys {
		names = append(names, k.name)
	}
	for _, k := range secretKeys {
		names = append(names, k.name)
	}
	return usagef("%q is not a setting. The settings are: %s.", name, strings.Join(names, ", "))
}

// valueError is a value the command line cannot read for a setting. It is
// a refusal like core's, so it exits 1 with its sentence.
type valueError struct{ key, reason string }

func (e valueError) Error() string       { return e.key + ": " + e.reason + "." }
func (e valueError) RefusalCode() string { return "invalid_setting" }

func (c *cli) getSettings(args []string) error {
	fs := flag.NewFlagSet("settings get", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("settings get takes at most one setting name.")
	}
	keys, secrets := settingKeys, secretKeys
	only := ""
	if len(pos) == 1 && pos[0] == appSignatureKey {
		fmt.Fprintln(c.out, appSignatureText(appSignature(), time.Now()))
		return nil
	}
	if len(pos) == 1 {
		only = pos[0]
		k, isSetting := findSetting(only)
		sk, isSecret := findSecret(only)
		switch {
		case isSetting:
			keys, secrets = []settingKey{k}, nil
		case isSecret:
			keys, secrets = nil, []secretKey{sk}
		default:
			return unknownSetting(only)
		}
	}
	st, set, err := c.stationSettings()
	if err != nil {
		return err
	}
	ctx := context.Background()
	// A secret itself is never shown: only whether, or which, one is stored.
	if *asJSON {
		obj := map[string]any{}
		for _, k := range keys {
			v := k.get(set)
			if n, err := strconv.Atoi(v); k.number && err == nil {
				obj[k.name] = n
			} else {
				obj[k.name] = v
			}
		}
		for _, k := range secrets {
			obj[k.name] = k.shown(ctx, st)
		}
		if only == "" {
			obj[appSignatureKey] = appSignatureJSON(appSignature(), time.Now())
		}
		return writeJSON(c.out, obj)
	}
	if only != "" {
		if len(keys) == 1 {
			fmt.Fprintln(c.out, keys[0].get(set))
		} else {
			fmt.Fprintln(c.out, secrets[0].shown(ctx, st))
		}
		return nil
	}
	for _, k := range keys {
		fmt.Fprintf(c.out, "%s=%s\n", k.name, k.get(set))
	}
	for _, k := range secrets {
		fmt.Fprintf(c.out, "%s=%s\n", k.name, k.shown(ctx, st))
	}
	fmt.Fprintf(c.out, "%s=%s\n", appSignatureKey, appSignatureText(appSignature(), time.Now()))
	return nil
}

// setSettings applies KEY=VALUE pairs together, checked by core's rules as
// one save (the Settings page's Save), or stores the SMTP password read
// from standard input.
func (c *cli) setSettings(args []string) error {
	if len(args) > 0 {
		if k, ok := findSecret(args[0]); ok {
			return c.setSecret(k, args[1:])
		}
	}
	if len(args) == 0 {
		return usagef("Give one or more settings as KEY=VALUE, e.g. settings set seats=8 smtp.port=587.")
	}
	type change struct {
		key   settingKey
		value string
	}
	var changes []change
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if k, secret := findSecret(name); secret || strings.TrimLeft(name, "-") == "stdin" {
			// Never echo the argument: it may hold the secret.
			how := "settings set smtp.password --stdin"
			if secret {
				how = k.howTo()
			}
			return usagef("A secret is read only from standard input or a file, never from an argument other users "+
				"of this computer can see: %s.", how)
		}
		if !ok {
			return usagef("%q is not KEY=VALUE.", a)
		}
		k, known := findSetting(name)
		if !known {
			return unknownSetting(name)
		}
		changes = append(changes, change{k, value})
	}
	st, set, err := c.stationSettings()
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, ch := range changes {
		if err := ch.key.set(&set, ch.value); err != nil {
			return err
		}
	}
	if err := st.SaveSettings(ctx, set); err != nil {
		return err
	}
	fmt.Fprintln(c.out, "settings saved")
	return nil
}

// stationSettings opens the station and reads its settings.
func (c *cli) stationSettings() (*core.Station, core.Settings, error) {
	st, err := c.station()
	if err != nil {
		return nil, core.Settings{}, err
	}
	set, err := st.Settings(context.Background())
	// As on the Settings page: an old saved public port that only repeats
	// the listen port reads as "the listen port", and a save stores it so.
	return st, set.FollowListenPort(), err
}
