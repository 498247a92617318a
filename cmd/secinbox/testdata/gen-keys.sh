#!/usr/bin/env bash
# gen-keys.sh makes the GnuPG exports that `secinbox key import` is tested
# with: team keys as teams really have them after years of use.
#
# Run it from anywhere: cd is done for you. It needs gpg (GnuPG 2.2+).
# Everything happens in a throw-away GNUPGHOME; the outputs are committed,
# so `go test` never needs gpg. Key creation is pinned with
# --faked-system-time so the expired subkey is expired for good.
#
# Outputs (all in this directory), every secret key protected by the
# passphrase "fixture passphrase":
#   rsa-team.sec.asc     RSA-3072 primary (sign, certify) with subkeys, as
#                        `gpg --export-secret-keys --armor` writes them:
#                        an RSA-2048 encryption subkey that expired in 2021,
#                        an RSA-2048 encryption subkey revoked in 2022,
#                        an RSA-3072 signing subkey, and the current
#                        RSA-3072 encryption subkey (no expiry)
#   rsa-team.sec.gpg     the same, binary (`gpg --export-secret-keys`)
#   rsa-team.pub.asc     its public key only (`gpg --export --armor`)
#   ed25519-team.sec.asc Ed25519 primary with a Curve25519 encryption subkey
#   two-keys.sec.asc     both secret keys in one file (ed25519 first)
#   gnupg-default.sec.asc a team key as `gpg --quick-gen-key UID default default`
#                        makes it (GnuPG 2.2: RSA-3072, sign and certify,
#                        with an RSA-3072 encryption subkey), for
#                        security@localhost, valid 10 years
#   researcher.sec.asc   a researcher's key as GnuPG makes it by default,
#                        Ada Lovelace <ada@example.org>, with no passphrase
#   to-expired.asc       a message encrypted (in 2020) to the expired subkey
#   to-revoked.asc       a message encrypted (in 2021) to the revoked subkey
#   to-current.asc       a message encrypted to rsa-team's current subkey
#   fingerprints.txt     "name fingerprint" of the keys, for the tests
set -euo pipefail

cd "$(dirname "$0")"
OUT=$PWD
PASS="fixture passphrase"

GNUPGHOME=$(mktemp -d)
export GNUPGHOME
WORK=$(mktemp -d)
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$GNUPGHOME" "$WORK"
}
trap cleanup EXIT

# g TIME ARGS...: gpg as if it were TIME, unlocking with $PASS.
g() {
	local t=$1
	shift
	gpg --batch --quiet --yes --pinentry-mode loopback --passphrase "$PASS" \
		--trust-model always --faked-system-time "$t" "$@"
}
fpr() { gpg --batch --with-colons --list-keys "$1" | awk -F: '/^fpr/ { print $10; exit }'; }
# subfpr KEY N: fingerprint of KEY's N-th subkey (1-based, in listing order).
subfpr() { gpg --batch --with-colons --list-keys "$1" | awk -F: -v n="$2" '/^fpr/ { i++; if (i == n + 1) { print $10; exit } }'; }

UID_RSA="Example Security Team <security@example.com>"
g 20200101T000000 --quick-gen-key "$UID_RSA" rsa3072 sign,cert never
RSA=$(fpr "$UID_RSA")
g 20200101T000100 --quick-add-key "$RSA" rsa2048 encr 1y   # subkey 1: expires 2021-01-01
g 20210101T000100 --quick-add-key "$RSA" rsa2048 encr never # subkey 2: revoked below
EXPIRED=$(subfpr "$RSA" 1)
REVOKED=$(subfpr "$RSA" 2)

echo "A report encrypted in 2020 to the subkey that has expired since." >"$WORK/expired.txt"
g 20200601T000000 --armor --encrypt --recipient "$EXPIRED!" --output "$OUT/to-expired.asc" "$WORK/expired.txt"
echo "A report encrypted in 2021 to the subkey that was revoked since." >"$WORK/revoked.txt"
g 20210601T000000 --armor --encrypt --recipient "$REVOKED!" --output "$OUT/to-revoked.asc" "$WORK/revoked.txt"

# Revoke subkey 2 ("key 2" in --edit-key), reason 0 (no reason), no text.
printf 'key 2\nrevkey\ny\n0\n\ny\nsave\n' |
	g 20220601T000000 --command-fd 0 --status-fd 2 --edit-key "$RSA" 2>/dev/null
g 20220701T000100 --quick-add-key "$RSA" rsa3072 sign never # subkey 3
g 20230101T000100 --quick-add-key "$RSA" rsa3072 encr never # subkey 4: the current one

echo "A report encrypted to the current subkey." >"$WORK/current.txt"
g 20240101T000000 --armor --encrypt --recipient "$RSA" --output "$OUT/to-current.asc" "$WORK/current.txt"

UID_ED="Security <security@example.org>"
g 20240101T000000 --quick-gen-key "$UID_ED" ed25519 sign,cert 10y
ED=$(fpr "$UID_ED")
g 20240101T000100 --quick-add-key "$ED" cv25519 encr 10y

g 20240201T000000 --armor --export-secret-keys "$RSA" >"$OUT/rsa-team.sec.asc"
g 20240201T000000 --export-secret-keys "$RSA" >"$OUT/rsa-team.sec.gpg"
g 20240201T000000 --armor --export "$RSA" >"$OUT/rsa-team.pub.asc"
g 20240201T000000 --armor --export-secret-keys "$ED" >"$OUT/ed25519-team.sec.asc"
cat "$OUT/ed25519-team.sec.asc" "$OUT/rsa-team.sec.asc" >"$OUT/two-keys.sec.asc"

# Generated once here rather than by each test run: RSA key generation
# takes gpg-agent seconds, many on a loaded machine.
UID_DEF="Example Security <security@localhost>"
g 20240301T000000 --quick-gen-key "$UID_DEF" default default 10y
DEF=$(fpr "$UID_DEF")
g 20240301T000100 --armor --export-secret-keys "$DEF" >"$OUT/gnupg-default.sec.asc"
UID_ADA="Ada Lovelace <ada@example.org>"
gpg --batch --quiet --yes --pinentry-mode loopback --passphrase "" --faked-system-time 20240301T000000 \
	--quick-gen-key "$UID_ADA" default default never
ADA=$(fpr "$UID_ADA")
gpg --batch --quiet --yes --pinentry-mode loopback --passphrase "" --faked-system-time 20240301T000100 \
	--armor --export-secret-keys "$ADA" >"$OUT/researcher.sec.asc"

printf 'rsa-team %s\ned25519-team %s\ngnupg-default %s\nresearcher %s\n' "$RSA" "$ED" "$DEF" "$ADA" >"$OUT/fingerprints.txt"

gpg --batch --with-colons --list-keys "$RSA" | awk -F: '/^(pub|sub)/ { print "  " $1, "validity=" $2, "algo=" $4, "expires=" $7, "usage=" $12 }'
