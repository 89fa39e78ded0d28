package oauth

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// MicrosoftScope asks for Exchange Online's permissions the app was
// granted (SMTP.SendAsApp); SMTP AUTH needs this resource, not Graph's.
const MicrosoftScope = "https://outlook.office365.com/.default"

// MicrosoftTokenURL is the v2.0 token endpoint of tenant.
func MicrosoftTokenURL(tenant string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// ClientCredentials is the client-credentials flow of an app registration
// in Microsoft Entra ID with a client secret.
type ClientCredentials struct {
	TokenURL     string // MicrosoftTokenURL(tenant), or a test's endpoint
	ClientID     string
	ClientSecret string
	Scope        string // MicrosoftScope
}

func (c ClientCredentials) fetch(ctx context.Context, hc *http.Client, now time.Time) (Token, error) {
	return postForm(ctx, hc, c.TokenURL, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.ClientID},
		"client_secret": {c.ClientSecret},
		"scope":         {c.Scope},
	}, now)
}
