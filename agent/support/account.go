package support

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// profileTries and profileWait give Windows about 30 s to unload the
// profile of a user who has just been signed out.
const (
	profileTries = 7
	profileWait  = 5 * time.Second
)

// checkPassword refuses a password Windows would misread: a NUL ends the
// UTF-16 string early (an empty password, or a NULL pointer if the
// conversion's error is ignored), other control characters cannot be typed
// at the sign-in screen.
func checkPassword(p string) error {
	switch {
	case p == "":
		return errors.New("it is empty")
	case !utf8.ValidString(p):
		return errors.New("it is not valid text")
	case utf8.RuneCountInString(p) > 127:
		return errors.New("it is longer than the 127 characters Windows' sign-in screen accepts")
	}
	for _, r := range p {
		if r == 0 || unicode.IsControl(r) {
			return errors.New("it contains a control character (such as NUL), which Windows cannot take")
		}
	}
	return nil
}

// createAccount makes the account in the order that leaves nothing
// dangerous if the app is killed between two steps: hidden before it
// exists, created with its expiry already set (so Windows disables it on
// time whatever happens next), and only then made an administrator. The
// SID goes into the record as soon as it exists.
func (a *App) createAccount(ctx context.Context, dir string, st *State, acct Account) error {
	if err := a.Sys.HideAccount(acct.Name); err != nil {
		return fmt.Errorf("hiding the account from the sign-in screen: %w", err)
	}
	err := a.Sys.AddAccount(acct)
	if errors.Is(err, ErrAccountExists) {
		// A leftover from an earlier session that could not finish: it is
		// this app's fixed name, so it is removed and made again.
		a.Log.Printf("%s already exists; replacing it", acct.Name)
		old := State{Account: acct.Name}
		if accErr, profErr := a.removeAccount(ctx, &old); accErr != nil {
			return accErr
		} else if profErr != nil {
			a.Log.Printf("the leftover account's profile stays: %v", profErr)
		}
		err = a.Sys.AddAccount(acct)
	}
	if err != nil {
		return err
	}
	if st.AccountSID, err = a.Sys.AccountSID(acct.Name); err != nil {
		return fmt.Errorf("reading the new account's SID: %w", err)
	}
	if err := a.saveState(dir, *st); err != nil {
		return fmt.Errorf("writing the session record: %w", err)
	}
	if err := a.Sys.AddToAdministrators(acct.Name); err != nil {
		return err
	}
	st.AccountReady = true
	return a.saveState(dir, *st)
}

// removeAccount ends the account for good ("end means end"): no new
// sign-ins, every session of it signed out, its profile deleted once
// Windows has unloaded it, then the account. accErr means the account
// still exists; profErr that only its profile is left (the SID stays in st
// for a later try).
func (a *App) removeAccount(ctx context.Context, st *State) (accErr, profErr error) {
	name := AccountName
	if st.AccountSID == "" {
		sid, err := a.Sys.AccountSID(name)
		if err != nil && !errors.Is(err, ErrNoAccount) {
			a.Log.Printf("finding the account's SID: %v", err)
		}
		st.AccountSID = sid
	}
	if err := a.Sys.DisableAccount(name); err != nil {
		a.Log.Printf("disabling the account: %v", err)
	}
	if n, err := a.Sys.SignOut(name); err != nil {
		a.Log.Printf("signing out the account: %v", err)
	} else if n > 0 {
		a.Log.Printf("signed out %d session(s) of %s", n, name)
	}
	if st.AccountSID != "" {
		profErr = a.deleteProfile(ctx, st.AccountSID)
	}
	if accErr = a.Sys.DeleteAccount(name); accErr != nil {
		accErr = a.Sys.DeleteAccount(name)
	}
	if accErr != nil {
		return fmt.Errorf("deleting the account: %w", accErr), profErr
	}
	return nil, profErr
}

// deleteProfile retries while Windows still has the profile loaded.
func (a *App) deleteProfile(ctx context.Context, sid string) error {
	var err error
	for try := 1; try <= profileTries; try++ {
		if err = a.Sys.DeleteProfile(sid); err == nil || !errors.Is(err, ErrProfileBusy) {
			return err
		}
		if try == profileTries {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-a.Clock.After(profileWait):
		}
	}
	return err
}
