package main

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/pgp"
)

// detachSign is web's Config.DetachSign: a published CSAF document's
// detached .asc, by the primary team key of the moment.
func (kr *keyring) detachSign(ctx context.Context, data []byte) ([]byte, error) {
	return pgp.DetachSign(data, kr.current(ctx).primary, time.Now())
}
