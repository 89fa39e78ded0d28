//go:build !unix

package hubsrv

func giveToStateOwner(string, ...string) error { return nil }
