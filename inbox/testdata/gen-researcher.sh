#!/usr/bin/env bash
# gen-researcher.sh makes researcher.sec.asc, the secret key of the
# researcher the outbox tests mail (Ed25519 + Curve25519, made by GnuPG,
# passphrase "researcher-passphrase"). The output is committed, so
# `go test` never needs gpg. Run it from anywhere.
set -euo pipefail
cd "$(dirname "$0")"
GNUPGHOME=$(mktemp -d)
export GNUPGHOME
trap 'gpgconf --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT
PASS=researcher-passphrase
UID_="Rae Researcher <rae@researcher.example>"
gpg --batch --quiet --pinentry-mode loopback --passphrase "$PASS" --faked-system-time 20250101T000000 \
	--quick-gen-key "$UID_" ed25519 sign,cert never
FPR=$(gpg --batch --with-colons --list-keys "$UID_" | awk -F: '/^fpr/ { print $10; exit }')
gpg --batch --quiet --pinentry-mode loopback --passphrase "$PASS" --faked-system-time 20250101T000000 \
	--quick-add-key "$FPR" cv25519 encr never
gpg --batch --quiet --pinentry-mode loopback --passphrase "$PASS" --armor --export-secret-keys "$FPR" >researcher.sec.asc
