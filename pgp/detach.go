package pgp

import (
	"errors"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// DetachSign returns a detached, armored OpenPGP signature by signer of
// data taken as binary (signature type 0x00, RFC 9580 section 5.2.1), as
// `gpg --verify data.asc data` checks it: the published CSAF documents'
// .asc files (CSAF 2.0 section 7.1.20). The caller guards signer, as
// for ClearSign (teamkey.Ring).
func DetachSign(data []byte, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	if signer == nil || signer.PrimaryKey == nil {
		return nil, errors.New("pgp: signing: no signer")
	}
	sig, _, err := detachSign(data, signer, now, packet.SigTypeBinary, openpgp.SignatureType)
	return sig, err
}
