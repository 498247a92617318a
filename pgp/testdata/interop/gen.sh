#!/usr/bin/env bash
# gen.sh makes the OpenPGP interop matrix of package pgp with the real
# tools: GnuPG (gpg), Sequoia (sq), OpenPGP.js (node js/gen.mjs) and
# go-crypto (go run ./gogen). See README.md beside it for the matrix.
#
#   gen.sh [OUTDIR]     default: the fixtures/ directory beside this script
#
# OUTDIR is emptied and then holds:
#   keys/team-NAME.sec.asc        team secret keys, passphrase "team-passphrase"
#                                 (sq's key is unprotected: sq 0.27 asks for
#                                 passwords only on a terminal)
#   keys/team-NAME.pub.asc        their public keys
#   keys/researcher-NAME.pub.asc  researcher keys the tests hold (verifyKeys)
#   keys/unknown-NAME.pub.asc     keys the tests must NOT hold (issuer checks only)
#   files/                        attachment contents, to compare hashes
#   *.eml                         the messages, CRLF line endings as on the wire
#
# File names are the same on every run; key material, ciphertexts and
# signatures differ. Needs gpg (2.2+), sq (0.27), node + `npm ci` in js/,
# go, perl and base64.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/fixtures}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)

PASS=team-passphrase
KEYTIME=20250101T000000
MSGTIME=20250102T100000
KEYISO=2025-01-01T00:00:00Z
MSGISO=2025-01-02T10:00:00Z
DATE='Thu, 02 Jan 2025 10:00:00 +0000'

for tool in gpg sq node go perl base64; do
	command -v "$tool" >/dev/null || { echo "gen.sh: $tool not found" >&2; exit 1; }
done
[ -d "$HERE/js/node_modules/openpgp" ] || { echo "gen.sh: run 'npm ci' in $HERE/js first" >&2; exit 1; }

GNUPGHOME=$(mktemp -d)
export GNUPGHOME
WORK=$(mktemp -d)
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$GNUPGHOME" "$WORK"
}
trap cleanup EXIT

rm -rf "$OUT/keys" "$OUT/files"
rm -f "$OUT"/*.eml
mkdir -p "$OUT/keys" "$OUT/files"
K=$OUT/keys

(cd "$ROOT" && go build -o "$WORK/gogen" ./pgp/testdata/interop/gogen)
gogen() { "$WORK/gogen" "$@"; }
ojs() { node "$HERE/js/gen.mjs" "$@"; }
# quiet drops the warning every --faked-system-time run prints.
quiet() { "$@" 2> >(grep -v -e "running with faked system time" -e "no need for a trustdb check" >&2); }
gpgk() { quiet gpg --batch --quiet --pinentry-mode loopback --faked-system-time "$KEYTIME" "$@"; }
gpgm() { quiet gpg --batch --quiet --yes --pinentry-mode loopback --trust-model always --faked-system-time "$MSGTIME" "$@"; }
fpr() { gpg --batch --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'; }
crlf() { sed 's/\r*$/\r/'; }
# sq warns on every run that its command line may change; the rest of
# its stderr stays visible.
sq() { command sq "$@" 2> >(grep -v -e "stable CLI interface" -e "^$" >&2); }

# ---------------------------------------------------------------- keys

# gpgkey NAME UID ALGO SUBALGO PASSPHRASE: primary sign+cert, subkey encr.
gpgkey() {
	gpgk --passphrase "$5" --quick-gen-key "$2" "$3" sign,cert never
	local f
	f=$(fpr "$2")
	[ -z "$4" ] || gpgk --passphrase "$5" --quick-add-key "$f" "$4" encr never
	echo "$f" >"$WORK/$1.fpr"
}

gpgkey rsa2048 "Security Team <security@example.com>" rsa2048 rsa2048 "$PASS"
gpgkey rsa3072 "Security Team RSA-3072 <security@example.com>" rsa3072 rsa3072 "$PASS"
gpgkey rsa4096 "Security Team RSA-4096 <security@example.com>" rsa4096 rsa4096 "$PASS"
gpgkey gpg-ed25519 "Security Team Ed25519 <security@example.com>" ed25519 cv25519 "$PASS"
for n in rsa2048 rsa3072 rsa4096 gpg-ed25519; do
	gpgk --passphrase "$PASS" --armor --export-secret-keys "$(cat "$WORK/$n.fpr")" >"$K/team-$n.sec.asc"
	gpgk --armor --export "$(cat "$WORK/$n.fpr")" >"$K/team-$n.pub.asc"
done

sq key generate --creation-time "${KEYTIME}Z" --expires never -u "Security Team Sequoia <security@example.com>" \
	--export "$K/team-sq-cv25519.sec.asc" --rev-cert "$WORK/sq.rev"
sq key extract-cert -o "$K/team-sq-cv25519.pub.asc" "$K/team-sq-cv25519.sec.asc"

ojs genkey --uid "Security Team OpenPGP.js <security@example.com>" --pass "$PASS" --date "$KEYISO" \
	--sec "$K/team-ojs-ecc.sec.asc" --pub "$K/team-ojs-ecc.pub.asc"
ojs genkey --v6 --uid "Security Team OpenPGP.js v6 <security@example.com>" --pass "$PASS" --date "$KEYISO" \
	--sec "$K/team-ojs-v6.sec.asc" --pub "$K/team-ojs-v6.pub.asc"
gogen genkey -v6 -uid "Security Team go-crypto v6 <security@example.com>" -pass "$PASS" -date "$KEYISO" \
	-sec "$K/team-go-v6.sec.asc" -pub "$K/team-go-v6.pub.asc"

# Researchers. alice (gpg) signs most of the GnuPG fixtures.
gpgkey alice "Alice Researcher <alice@researcher.example>" ed25519 cv25519 ""
gpgkey mallory "Mallory Unknown <mallory@elsewhere.example>" ed25519 "" ""
gpgkey other "Other Org Security <security@other.example>" ed25519 cv25519 ""
gpgk --armor --export "$(cat "$WORK/alice.fpr")" >"$K/researcher-alice.pub.asc"
gpgk --armor --export "$(cat "$WORK/mallory.fpr")" >"$K/unknown-mallory.pub.asc"
gpgk --armor --export "$(cat "$WORK/other.fpr")" >"$WORK/other.pub.asc"

# eve's key expired before she signed: made at KEYTIME without expiry,
# then given (by a newer self-signature, an hour later) an expiry at
# noon that day; her messages are signed at MSGTIME, the next morning.
# gpg would refuse to sign with an expired key, so
# she signs first and the expiry is set afterwards (in wall-clock order).
gpgkey eve "Eve Expired <eve@researcher.example>" ed25519 "" ""
# rita's key is revoked (the revocation certificate gpg made with it:
# reason "no reason specified", which makes every signature invalid).
gpgkey rita "Rita Revoked <rita@researcher.example>" ed25519 "" ""

sq key generate --creation-time "${KEYTIME}Z" --expires never -u "Sam Sequoia <sam@researcher.example>" \
	--export "$WORK/sam.sec" --rev-cert "$WORK/sam.rev"
sq key extract-cert -o "$K/researcher-sam.pub.asc" "$WORK/sam.sec"
ojs genkey --uid "Jo Script <jo@researcher.example>" --date "$KEYISO" --sec "$WORK/jo.sec" --pub "$K/researcher-jo.pub.asc"
ojs genkey --v6 --uid "Vee Six <vee@researcher.example>" --date "$KEYISO" --sec "$WORK/vee.sec" --pub "$K/researcher-vee.pub.asc"
gogen genkey -v6 -uid "Gopher Go <gopher@researcher.example>" -date "$KEYISO" -sec "$WORK/gopher.sec" -pub "$K/researcher-gopher.pub.asc"

# gpg needs the other tools' v4 public keys to encrypt to them (GnuPG 2.2
# cannot read v6 keys at all).
gpgk --import "$K/team-sq-cv25519.pub.asc" "$K/team-ojs-ecc.pub.asc" "$K/researcher-sam.pub.asc" "$K/researcher-jo.pub.asc"
ALICE=$(cat "$WORK/alice.fpr")
MALLORY=$(cat "$WORK/mallory.fpr")
EVE=$(cat "$WORK/eve.fpr")
RITA=$(cat "$WORK/rita.fpr")
OTHER=$(cat "$WORK/other.fpr")

# ------------------------------------------------------- message pieces

# uidof RESEARCHER: the From a researcher's own mail carries.
uidof() {
	case $1 in
	alice) echo "Alice Researcher <alice@researcher.example>" ;;
	sam) echo "Sam Sequoia <sam@researcher.example>" ;;
	jo) echo "Jo Script <jo@researcher.example>" ;;
	vee) echo "Vee Six <vee@researcher.example>" ;;
	gopher) echo "Gopher Go <gopher@researcher.example>" ;;
	*) echo "gen.sh: no uid for $1" >&2; exit 1 ;;
	esac
}

# The attachment files (their SHA-256 is what the tests compare).
printf 'import requests\nrequests.post("https://example.com/upload", files={"f": open("x.svg")})\n' >"$OUT/files/poc.py"
printf '%s\n' 'GET /admin?id=1%27%20OR%201=1-- HTTP/1.1' 'Host: example.com' >"$OUT/files/request.txt"

# inner_text NAME [LINE...]: a text/plain MIME entity whose body names the fixture.
inner_text() {
	local name=$1
	shift
	{
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf '\n'
		printf 'Interop fixture %s: the /admin login is open to SQL injection.\n' "$name"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} | crlf
}

# inner_mixed NAME: multipart/mixed with a text part and poc.py attached.
inner_mixed() {
	{
		printf 'Content-Type: multipart/mixed; boundary="mixed-%s"\n' "$1"
		printf '\n'
		printf -- '--mixed-%s\n' "$1"
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Interop fixture %s: proof of concept attached.\n' "$1"
		printf -- '--mixed-%s\n' "$1"
		printf 'Content-Type: text/x-python; charset=utf-8\n'
		printf 'Content-Disposition: attachment; filename="poc.py"\n'
		printf 'Content-Transfer-Encoding: base64\n'
		printf '\n'
		base64 -w 76 "$OUT/files/poc.py"
		printf -- '--mixed-%s--\n' "$1"
	} | crlf
}

# headers NAME SUBJECT [FROM] [TO]: the outer header block, no blank line.
headers() {
	printf 'From: %s\n' "${3:-Alice Researcher <alice@researcher.example>}"
	printf 'To: %s\n' "${4:-security@example.com}"
	printf 'Subject: %s\n' "$2"
	printf 'Date: %s\n' "$DATE"
	printf 'Message-ID: <%s@interop.example>\n' "$1"
	printf 'MIME-Version: 1.0\n'
}

# pgpmime_body BOUNDARY ARMORED: the two parts of RFC 3156 section 4.
pgpmime_body() {
	printf 'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n'
	printf -- '--%s\n' "$1"
	printf 'Content-Type: application/pgp-encrypted\n'
	printf 'Content-Description: PGP/MIME version identification\n'
	printf '\n'
	printf 'Version: 1\n'
	printf '\n'
	printf -- '--%s\n' "$1"
	printf 'Content-Type: application/octet-stream; name="encrypted.asc"\n'
	printf 'Content-Description: OpenPGP encrypted message\n'
	printf 'Content-Disposition: inline; filename="encrypted.asc"\n'
	printf '\n'
	cat "$2"
	printf -- '--%s--\n' "$1"
}

# pgpmime NAME SUBJECT ARMORED [FROM] [TO]: an RFC 3156 section 4 message.
pgpmime() {
	{
		headers "$1" "$2" "${4:-}" "${5:-}"
		printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n boundary="enc-%s"\n' "$1"
		printf '\n'
		pgpmime_body "enc-$1" "$3"
	} | crlf >"$OUT/$1.eml"
}

# signed_entity BOUNDARY ENTITY SIG: RFC 3156 section 5 multipart/signed
# (Content-Type line included). ENTITY is CRLF already and is signed
# exactly as it stands; micalg names the hash the signature used.
signed_entity() {
	local micalg
	micalg=$(gogen micalg -in "$3")
	{
		printf 'Content-Type: multipart/signed; micalg=%s;\n protocol="application/pgp-signature"; boundary="%s"\n' "$micalg" "$1"
		printf '\n'
		printf 'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n'
		printf -- '--%s\n' "$1"
	} | crlf
	cat "$2"
	{
		printf '\n--%s\n' "$1"
		printf 'Content-Type: application/pgp-signature; name="signature.asc"\n'
		printf 'Content-Description: OpenPGP digital signature\n'
		printf 'Content-Disposition: attachment; filename="signature.asc"\n'
		printf '\n'
		cat "$3"
		printf -- '--%s--\n' "$1"
	} | crlf
}

# plain_text NAME SUBJECT BODYFILE [FROM] [CTYPE]: a one-part mail.
plain_text() {
	{
		headers "$1" "$2" "${4:-}"
		printf 'Content-Type: %s\n' "${5:-text/plain; charset=utf-8}"
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf '\n'
		cat "$3"
	} | crlf >"$OUT/$1.eml"
}

# Encryption by tool: enc_TOOL OUT IN TEAMKEY [extra args].
enc_gpg() {
	local out=$1 in=$2 team=$3
	shift 3
	gpgm --armor --output "$out" --encrypt -r "$(pubfpr "$team")" "$@" "$in"
}
enc_sq() {
	local out=$1 in=$2 team=$3
	shift 3
	sq encrypt --time "${MSGTIME}Z" --recipient-cert "$K/team-$team.pub.asc" -o "$out" "$@" "$in"
}
enc_ojs() {
	local out=$1 in=$2 team=$3
	shift 3
	ojs encrypt --to "$K/team-$team.pub.asc" --in "$in" --out "$out" --date "$MSGISO" "$@"
}
enc_go() {
	local out=$1 in=$2 team=$3
	shift 3
	gogen encrypt -to "$K/team-$team.pub.asc" -in "$in" -out "$out" -date "$MSGISO" "$@"
}

# pubfpr TEAMKEY: the fingerprint gpg knows a team key by.
pubfpr() {
	if [ -f "$WORK/$1.fpr" ]; then
		cat "$WORK/$1.fpr"
	else
		gpg --batch --with-colons --import-options show-only --import "$K/team-$1.pub.asc" 2>/dev/null |
			awk -F: '/^fpr/ { print $10; exit }'
	fi
}

# ------------------------------------------- 1. PGP/MIME, every tool × key
V4KEYS="rsa2048 rsa3072 rsa4096 gpg-ed25519 sq-cv25519 ojs-ecc"
for tool in gpg sq ojs go; do
	keys=$V4KEYS
	case $tool in ojs | go) keys="$keys ojs-v6 go-v6" ;; esac
	for key in $keys; do
		name=$tool-$key-pgpmime
		inner_text "$name" >"$WORK/$name.in"
		"enc_$tool" "$WORK/$name.asc" "$WORK/$name.in" "$key"
		pgpmime "$name" "Interop $name" "$WORK/$name.asc"
	done
done

# ----------------------------------------------- 2. SEIPDv2 (AEAD), tag 20
for mode in ocb gcm eax; do
	for key in gpg-ed25519 ojs-v6; do
		name=ojs-$key-seipdv2-$mode
		inner_text "$name" >"$WORK/$name.in"
		enc_ojs "$WORK/$name.asc" "$WORK/$name.in" "$key" --aead "$mode"
		pgpmime "$name" "Interop $name" "$WORK/$name.asc"
	done
	for key in go-v6 rsa3072; do
		name=go-$key-seipdv2-$mode
		inner_text "$name" >"$WORK/$name.in"
		enc_go "$WORK/$name.asc" "$WORK/$name.in" "$key" -aead "$mode"
		pgpmime "$name" "Interop $name" "$WORK/$name.asc"
	done
done
for key in gpg-ed25519 rsa3072; do
	name=ojs5-$key-ocb-tag20
	inner_text "$name" >"$WORK/$name.in"
	ojs encrypt5ocb --to "$K/team-$key.pub.asc" --in "$WORK/$name.in" --out "$WORK/$name.asc" --date "$MSGISO"
	pgpmime "$name" "Interop $name" "$WORK/$name.asc"
done

# --------------------------------------------------------- 3. compression
for algo in none zip zlib bzip2; do
	name=gpg-gpg-ed25519-compress-$algo
	inner_text "$name" "$(seq 1 40 | sed 's/^/compressible line /')" >"$WORK/$name.in"
	enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --compress-algo "$algo"
	pgpmime "$name" "Interop $name" "$WORK/$name.asc"
done
for algo in pad none zip zlib bzip2; do
	name=sq-gpg-ed25519-compress-$algo
	inner_text "$name" "$(seq 1 40 | sed 's/^/compressible line /')" >"$WORK/$name.in"
	enc_sq "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --compression "$algo"
	pgpmime "$name" "Interop $name" "$WORK/$name.asc"
done
for algo in zip zlib; do
	name=go-gpg-ed25519-compress-$algo
	inner_text "$name" "$(seq 1 40 | sed 's/^/compressible line /')" >"$WORK/$name.in"
	enc_go "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 -compress "$algo"
	pgpmime "$name" "Interop $name" "$WORK/$name.asc"
done

# ----------------------------- 4. signed and encrypted, one pass (§6.2)
name=gpg-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" rsa3072 --sign --local-user "$ALICE"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

name=sq-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
enc_sq "$WORK/$name.asc" "$WORK/$name.in" sq-cv25519 --signer-key "$WORK/sam.sec"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Sam Sequoia <sam@researcher.example>"

name=ojs-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
enc_ojs "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --sign "$WORK/jo.sec"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Jo Script <jo@researcher.example>"

name=ojs-v6-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
enc_ojs "$WORK/$name.asc" "$WORK/$name.in" ojs-v6 --sign "$WORK/vee.sec"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Vee Six <vee@researcher.example>"

name=go-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
enc_go "$WORK/$name.asc" "$WORK/$name.in" go-v6 -sign "$WORK/gopher.sec"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Gopher Go <gopher@researcher.example>"

# The signer's user ID is not the From address.
name=gpg-signer-not-from
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --sign --local-user "$ALICE"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Bob Finder <bob@finder.example>"

# Signed by a key the tests do not hold.
name=gpg-unknown-key
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --sign --local-user "$MALLORY"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Mallory Unknown <mallory@elsewhere.example>"

# SHA-1, inside the encryption.
name=gpg-sha1-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --sign --local-user "$ALICE" --digest-algo SHA1
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

# ------------------------------------------ 5. multipart/signed (§5), clear
# sign_detached TOOL SIGNER IN OUT [extra]: an armored detached signature.
sign_detached() {
	local tool=$1 signer=$2 in=$3 out=$4
	shift 4
	case $tool in
	gpg) gpgm --armor --detach-sign --digest-algo SHA256 --local-user "$signer" --output "$out" "$@" "$in" ;;
	sq) sq sign --time "${MSGTIME}Z" --detached --signer-key "$signer" -o "$out" "$@" "$in" ;;
	ojs) ojs sign --key "$signer" --mode detached --in "$in" --out "$out" --date "$MSGISO" "$@" ;;
	go) gogen sign -key "$signer" -mode detached -in "$in" -out "$out" -date "$MSGISO" "$@" ;;
	esac
}

# signed_mail NAME TOOL SIGNER FROM ENTITYFILE [extra]: a multipart/signed mail.
signed_mail() {
	local name=$1 tool=$2 signer=$3 from=$4 entity=$5
	shift 5
	sign_detached "$tool" "$signer" "$entity" "$WORK/$name.sig" "$@"
	{
		headers "$name" "Interop $name" "$from" | crlf
		signed_entity "sig-$name" "$entity" "$WORK/$name.sig"
	} >"$OUT/$name.eml"
}

for spec in "gpg $ALICE alice" "sq $WORK/sam.sec sam" "ojs $WORK/jo.sec jo" "ojs-v6 $WORK/vee.sec vee" "go $WORK/gopher.sec gopher"; do
	set -- $spec
	tool=$1
	[ "$tool" != ojs-v6 ] || tool=ojs
	name=$1-multipart-signed
	inner_mixed "$name" >"$WORK/$name.in"
	signed_mail "$name" "$tool" "$2" "$(uidof "$3")" "$WORK/$name.in"
done

# Tampered after signing: one word of the signed text changed.
name=gpg-multipart-signed-tampered
inner_text "$name" "Pay the bounty to account 1111." >"$WORK/$name.in"
sign_detached gpg "$ALICE" "$WORK/$name.in" "$WORK/$name.sig"
sed -i 's/account 1111/account 6666/' "$WORK/$name.in"
{
	headers "$name" "Interop $name" | crlf
	signed_entity "sig-$name" "$WORK/$name.in" "$WORK/$name.sig"
} >"$OUT/$name.eml"

name=gpg-multipart-signed-unknown-key
inner_text "$name" >"$WORK/$name.in"
signed_mail "$name" gpg "$MALLORY" "Mallory Unknown <mallory@elsewhere.example>" "$WORK/$name.in"

name=gpg-multipart-signed-sha1
inner_text "$name" >"$WORK/$name.in"
gpgm --armor --detach-sign --digest-algo SHA1 --local-user "$ALICE" --output "$WORK/$name.sig" "$WORK/$name.in"
{
	headers "$name" "Interop $name" | crlf
	signed_entity "sig-$name" "$WORK/$name.in" "$WORK/$name.sig"
} >"$OUT/$name.eml"

name=gpg-expired-key
inner_text "$name" >"$WORK/$name.in"
signed_mail "$name" gpg "$EVE" "Eve Expired <eve@researcher.example>" "$WORK/$name.in"
quiet gpg --batch --quiet --pinentry-mode loopback --passphrase '' --faked-system-time 20250101T010000 \
	--quick-set-expire "$EVE" 20250101T120000
gpgk --armor --export "$EVE" >"$K/researcher-eve.pub.asc"

name=gpg-revoked-key
inner_text "$name" >"$WORK/$name.in"
signed_mail "$name" gpg "$RITA" "Rita Revoked <rita@researcher.example>" "$WORK/$name.in"
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/$RITA.rev" >"$WORK/rita.rev"
gpgm --import "$WORK/rita.rev"
gpgm --armor --export "$RITA" >"$K/researcher-rita.pub.asc"

# "Johnny, you are fired": a validly signed part between unsigned ones.
name=gpg-partial-signed
inner_text "$name" "I approve the budget." >"$WORK/$name.in"
sign_detached gpg "$ALICE" "$WORK/$name.in" "$WORK/$name.sig"
signed_entity "sig-$name" "$WORK/$name.in" "$WORK/$name.sig" >"$WORK/$name.signed"
{
	{
		headers "$name" "Interop $name"
		printf 'Content-Type: multipart/mixed; boundary="outer-%s"\n' "$name"
		printf '\n'
		printf -- '--outer-%s\n' "$name"
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Johnny, you are fired. (unsigned text before)\n'
		printf -- '--outer-%s\n' "$name"
	} | crlf
	cat "$WORK/$name.signed"
	{
		printf -- '--outer-%s\n' "$name"
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Also, transfer the bounty elsewhere. (unsigned text after)\n'
		printf -- '--outer-%s--\n' "$name"
	} | crlf
} >"$OUT/$name.eml"

# A forwarded signed mail: the signature belongs to the attached message.
name=gpg-forwarded-signed
{
	{
		headers "$name" "Fwd: Interop $name" "Bob Finder <bob@finder.example>"
		printf 'Content-Type: multipart/mixed; boundary="fwd-%s"\n' "$name"
		printf '\n'
		printf -- '--fwd-%s\n' "$name"
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Forwarding what Alice sent me. (unsigned, from Bob)\n'
		printf -- '--fwd-%s\n' "$name"
		printf 'Content-Type: message/rfc822\n'
		printf 'Content-Disposition: attachment; filename="forwarded.eml"\n'
		printf '\n'
	} | crlf
	cat "$OUT/gpg-multipart-signed.eml"
	printf -- '\r\n--fwd-%s--\r\n' "$name"
} >"$OUT/$name.eml"

# ------------------------------------ 6. nested: sign, then encrypt (§6.1)
name=gpg-nested-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
sign_detached gpg "$ALICE" "$WORK/$name.in" "$WORK/$name.sig"
signed_entity "sig-$name" "$WORK/$name.in" "$WORK/$name.sig" >"$WORK/$name.signed"
enc_gpg "$WORK/$name.asc" "$WORK/$name.signed" gpg-ed25519
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

name=gpg-nested-signed-tampered
inner_text "$name" "Pay the bounty to account 1111." >"$WORK/$name.in"
sign_detached gpg "$ALICE" "$WORK/$name.in" "$WORK/$name.sig"
sed -i 's/account 1111/account 6666/' "$WORK/$name.in"
signed_entity "sig-$name" "$WORK/$name.in" "$WORK/$name.sig" >"$WORK/$name.signed"
enc_gpg "$WORK/$name.asc" "$WORK/$name.signed" gpg-ed25519
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

name=ojs-nested-signed-encrypted
inner_text "$name" >"$WORK/$name.in"
sign_detached ojs "$WORK/vee.sec" "$WORK/$name.in" "$WORK/$name.sig"
signed_entity "sig-$name" "$WORK/$name.in" "$WORK/$name.sig" >"$WORK/$name.signed"
enc_ojs "$WORK/$name.asc" "$WORK/$name.signed" ojs-v6
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Vee Six <vee@researcher.example>"

# ------------------ 7. encrypt, then sign: multipart/signed around encrypted
name=gpg-encrypted-then-signed
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519
{
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n boundary="enc-%s"\n' "$name"
	printf '\n'
	pgpmime_body "enc-$name" "$WORK/$name.asc"
} | crlf >"$WORK/$name.enc"
signed_mail "$name" gpg "$ALICE" "Alice Researcher <alice@researcher.example>" "$WORK/$name.enc"

# -------------------------------------------------- 8. inline clearsigned
# clearsign TOOL SIGNER IN OUT
clearsign() {
	case $1 in
	gpg) gpgm --clearsign --digest-algo SHA256 --local-user "$2" --output "$4" "$3" ;;
	sq) sq sign --time "${MSGTIME}Z" --cleartext-signature --signer-key "$2" -o "$4" "$3" ;;
	ojs) ojs sign --key "$2" --mode cleartext --in "$3" --out "$4" --date "$MSGISO" ;;
	go) gogen sign -key "$2" -mode cleartext -in "$3" -out "$4" -date "$MSGISO" ;;
	esac
}
for spec in "gpg $ALICE alice" "sq $WORK/sam.sec sam" "ojs $WORK/jo.sec jo" "go $WORK/gopher.sec gopher"; do
	set -- $spec
	name=$1-clearsigned
	printf 'Interop fixture %s: this paragraph is signed.\n' "$name" >"$WORK/$name.in"
	clearsign "$1" "$2" "$WORK/$name.in" "$WORK/$name.cs"
	{
		printf 'Unsigned text before the signed block.\n\n'
		cat "$WORK/$name.cs"
		printf '\nUnsigned text after the signed block.\n'
	} >"$WORK/$name.body"
	plain_text "$name" "Interop $name" "$WORK/$name.body" "$(uidof "$3")"
done

name=gpg-clearsigned-only
printf 'Interop fixture %s: the whole body is signed.\n' "$name" >"$WORK/$name.in"
clearsign gpg "$ALICE" "$WORK/$name.in" "$WORK/$name.body"
plain_text "$name" "Interop $name" "$WORK/$name.body"

name=gpg-clearsigned-tampered
printf 'Interop fixture %s: pay the bounty to account 1111.\n' "$name" >"$WORK/$name.in"
clearsign gpg "$ALICE" "$WORK/$name.in" "$WORK/$name.body"
sed -i 's/account 1111/account 6666/' "$WORK/$name.body"
plain_text "$name" "Interop $name" "$WORK/$name.body"

name=gpg-clearsigned-sha1
printf 'Interop fixture %s: signed with SHA-1.\n' "$name" >"$WORK/$name.in"
gpgm --clearsign --digest-algo SHA1 --local-user "$ALICE" --output "$WORK/$name.body" "$WORK/$name.in"
plain_text "$name" "Interop $name" "$WORK/$name.body"

# ------------------------------------ 9. inline encrypted in text and HTML
for tool in gpg sq ojs go; do
	name=$tool-inline-encrypted
	key=gpg-ed25519
	printf 'Interop fixture %s: the secret is in the block.\n' "$name" >"$WORK/$name.in"
	"enc_$tool" "$WORK/$name.asc" "$WORK/$name.in" "$key"
	{
		printf 'Hello team, my report is encrypted below.\n\n'
		cat "$WORK/$name.asc"
		printf '\nRegards, Alice\n'
	} >"$WORK/$name.body"
	plain_text "$name" "Interop $name" "$WORK/$name.body"
done

name=gpg-inline-html-pre
printf 'Interop fixture %s: the secret is in the block.\n' "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519
{
	printf '<html><body><p>Hello team, my report is encrypted below.</p>\n<pre>'
	cat "$WORK/$name.asc"
	printf '</pre>\n<p>Regards, Alice</p></body></html>\n'
} >"$WORK/$name.body"
plain_text "$name" "Interop $name" "$WORK/$name.body" "" "text/html; charset=utf-8"

# As webmail pastes it: one line per <br>, in a <div>.
name=gpg-inline-html-br
printf 'Interop fixture %s: the secret is in the block.\n' "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519
{
	printf '<html><body><div dir="ltr">Hello team, my report is encrypted below.<br><br>'
	sed 's/$/<br>/' "$WORK/$name.asc" | tr -d '\n'
	printf '<br>Regards, Alice</div></body></html>\n'
} >"$WORK/$name.body"
plain_text "$name" "Interop $name" "$WORK/$name.body" "" "text/html; charset=utf-8"

# -------------------- 10. encrypted attachments in an unencrypted mail
# attach_mail NAME FILE FILENAME CTYPE ENCODING: text + one attachment.
attach_mail() {
	{
		headers "$1" "Interop $1"
		printf 'Content-Type: multipart/mixed; boundary="att-%s"\n' "$1"
		printf '\n'
		printf -- '--att-%s\n' "$1"
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Interop fixture %s: my proof of concept is attached, encrypted.\n' "$1"
		printf -- '--att-%s\n' "$1"
		printf 'Content-Type: %s; name="%s"\n' "$4" "$3"
		printf 'Content-Disposition: attachment; filename="%s"\n' "$3"
		if [ "$5" = base64 ]; then
			printf 'Content-Transfer-Encoding: base64\n\n'
			base64 -w 76 "$2"
		else
			printf '\n'
			cat "$2"
		fi
		printf -- '--att-%s--\n' "$1"
	} | crlf >"$OUT/$1.eml"
}
name=gpg-attachment-pgp
gpgm --output "$WORK/$name.pgp" --encrypt -r "$(pubfpr gpg-ed25519)" "$OUT/files/poc.py"
attach_mail "$name" "$WORK/$name.pgp" poc.py.pgp application/octet-stream base64
name=gpg-attachment-asc
gpgm --armor --output "$WORK/$name.asc" --encrypt -r "$(pubfpr rsa3072)" "$OUT/files/request.txt"
attach_mail "$name" "$WORK/$name.asc" request.txt.asc application/pgp-encrypted 7bit
name=ojs-attachment-pgp
ojs encrypt --binary --to "$K/team-ojs-v6.pub.asc" --in "$OUT/files/poc.py" --out "$WORK/$name.pgp" --date "$MSGISO"
attach_mail "$name" "$WORK/$name.pgp" poc.py.pgp application/octet-stream base64

# ------------------------ 11. several recipients, Bcc, protected headers
name=gpg-several-recipients
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 -r "$ALICE" -r "$(pubfpr rsa4096)"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "" "security@example.com, Alice Researcher <alice@researcher.example>"
name=sq-several-recipients
inner_text "$name" >"$WORK/$name.in"
enc_sq "$WORK/$name.asc" "$WORK/$name.in" sq-cv25519 --recipient-cert "$K/researcher-sam.pub.asc"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Sam Sequoia <sam@researcher.example>"
name=ojs-several-recipients
inner_text "$name" >"$WORK/$name.in"
ojs encrypt --to "$K/researcher-jo.pub.asc,$K/team-ojs-v6.pub.asc" --in "$WORK/$name.in" --out "$WORK/$name.asc" --date "$MSGISO"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Jo Script <jo@researcher.example>"
name=go-several-recipients
inner_text "$name" >"$WORK/$name.in"
gogen encrypt -to "$K/researcher-gopher.pub.asc,$K/team-go-v6.pub.asc,$K/researcher-alice.pub.asc" \
	-in "$WORK/$name.in" -out "$WORK/$name.asc" -date "$MSGISO"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "Gopher Go <gopher@researcher.example>"

# The team only in Bcc: the header names someone else.
name=gpg-bcc
inner_text "$name" >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 -r "$ALICE"
pgpmime "$name" "Interop $name" "$WORK/$name.asc" "" "Vendor Contact <contact@vendor.example>"

# Protected headers as Thunderbird sends them (protected-headers="v1",
# the real Subject on the encrypted entity, "..." outside) ...
name=gpg-protected-headers
{
	printf 'Content-Type: multipart/mixed; boundary="ph-%s"; protected-headers="v1"\n' "$name"
	printf 'Subject: Protected subject: XXE in the invoice import\n'
	printf 'From: Alice Researcher <alice@researcher.example>\n'
	printf 'To: security@example.com\n'
	printf 'Message-ID: <%s@interop.example>\n' "$name"
	printf '\n'
	printf -- '--ph-%s\n' "$name"
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Interop fixture %s: the invoice importer resolves external entities.\n' "$name"
	printf -- '--ph-%s--\n' "$name"
} | crlf >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519 --sign --local-user "$ALICE"
pgpmime "$name" "..." "$WORK/$name.asc"

# ... and the legacy form: a text/rfc822-headers part (the "legacy
# display" part of draft-autocrypt-lamps-protected-headers) only.
name=ojs-protected-headers-legacy
{
	printf 'Content-Type: multipart/mixed; boundary="ph-%s"\n' "$name"
	printf '\n'
	printf -- '--ph-%s\n' "$name"
	printf 'Content-Type: text/rfc822-headers; protected-headers="v1"\n'
	printf 'Content-Disposition: inline\n'
	printf '\n'
	printf 'Subject: Protected subject: SSRF in the webhook tester\n'
	printf -- '--ph-%s\n' "$name"
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Interop fixture %s: the webhook tester fetches internal URLs.\n' "$name"
	printf -- '--ph-%s--\n' "$name"
} | crlf >"$WORK/$name.in"
enc_ojs "$WORK/$name.asc" "$WORK/$name.in" ojs-v6
pgpmime "$name" "..." "$WORK/$name.asc" "Jo Script <jo@researcher.example>"

# --------------------------------------------------- 12. keys in the mail
name=gpg-key-attached
{
	printf 'Content-Type: multipart/mixed; boundary="key-%s"\n' "$name"
	printf '\n'
	printf -- '--key-%s\n' "$name"
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Interop fixture %s: my public key is attached.\n' "$name"
	printf -- '--key-%s\n' "$name"
	printf 'Content-Type: application/pgp-keys; name="OpenPGP_0x%s.asc"\n' "${ALICE: -16}"
	printf 'Content-Disposition: attachment; filename="OpenPGP_0x%s.asc"\n' "${ALICE: -16}"
	printf '\n'
	cat "$K/researcher-alice.pub.asc"
	printf -- '--key-%s--\n' "$name"
} | crlf >"$WORK/$name.in"
enc_gpg "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

name=sq-autocrypt
inner_text "$name" >"$WORK/$name.in"
enc_sq "$WORK/$name.asc" "$WORK/$name.in" gpg-ed25519
# Autocrypt header (Autocrypt Level 1, section 2.1), folded: whitespace
# in keydata is ignored.
sq autocrypt encode-sender --email sam@researcher.example "$K/researcher-sam.pub.asc" |
	perl -ne 'chomp; my ($h, $k) = /^(.*keydata=)(.*)$/; print "$h\n"; print " $_\n" for unpack("(A76)*", $k);' >"$WORK/$name.ac"
{
	headers "$name" "Interop $name" "Sam Sequoia <sam@researcher.example>"
	cat "$WORK/$name.ac"
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n boundary="enc-%s"\n' "$name"
	printf '\n'
	pgpmime_body "enc-$name" "$WORK/$name.asc"
} | crlf >"$OUT/$name.eml"

# ------------------------------------------- 13. undecryptable messages
name=gpg-other-key
inner_text "$name" >"$WORK/$name.in"
gpgm --armor --output "$WORK/$name.asc" --encrypt -r "$OTHER" "$WORK/$name.in"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"
name=ojs-other-key
inner_text "$name" >"$WORK/$name.in"
ojs encrypt --to "$WORK/other.pub.asc" --in "$WORK/$name.in" --out "$WORK/$name.asc" --date "$MSGISO"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

# flip FILE: flip one bit in the middle of the binary file.
flip() { perl -0777 -pi -e 'my $n = int(length($_) / 2); substr($_, $n, 1) = chr(ord(substr($_, $n, 1)) ^ 0x01);' "$1"; }
# rearmor BIN OUT: armor binary OpenPGP data as a message.
rearmor() { gpgm --output "$WORK/rearmor.tmp" --enarmor "$1" && sed -e 's/PGP ARMORED FILE/PGP MESSAGE/' -e '/^Comment:/d' "$WORK/rearmor.tmp" >"$2"; }
tampered_body() {
	for i in $(seq 1 60); do printf 'TAMPERED PLAINTEXT line %02d must never be shown.\n' "$i"; done
}

name=gpg-tampered
{ printf 'Content-Type: text/plain; charset=utf-8\n\n'; tampered_body; } | crlf >"$WORK/$name.in"
gpgm --compress-algo none --output "$WORK/$name.bin" --encrypt -r "$(pubfpr gpg-ed25519)" "$WORK/$name.in"
flip "$WORK/$name.bin"
rearmor "$WORK/$name.bin" "$WORK/$name.asc"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

name=ojs-tampered-seipdv2
{ printf 'Content-Type: text/plain; charset=utf-8\n\n'; tampered_body; } | crlf >"$WORK/$name.in"
ojs encrypt --binary --to "$K/team-ojs-v6.pub.asc" --in "$WORK/$name.in" --out "$WORK/$name.bin" --date "$MSGISO" --aead ocb
flip "$WORK/$name.bin"
rearmor "$WORK/$name.bin" "$WORK/$name.asc"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

name=go-tampered-seipdv2
{ printf 'Content-Type: text/plain; charset=utf-8\n\n'; tampered_body; } | crlf >"$WORK/$name.in"
gogen encrypt -binary -to "$K/team-go-v6.pub.asc" -in "$WORK/$name.in" -out "$WORK/$name.bin" -date "$MSGISO" -aead gcm
flip "$WORK/$name.bin"
rearmor "$WORK/$name.bin" "$WORK/$name.asc"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

# Truncated inside the first packet (the session key): nothing to decrypt with.
name=gpg-truncated
inner_text "$name" >"$WORK/$name.in"
gpgm --output "$WORK/$name.bin" --encrypt -r "$(pubfpr gpg-ed25519)" "$WORK/$name.in"
head -c 40 "$WORK/$name.bin" >"$WORK/$name.cut"
rearmor "$WORK/$name.cut" "$WORK/$name.asc"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

# Not OpenPGP at all inside valid armor.
name=gpg-malformed
printf 'This is not an OpenPGP packet stream, only words that happen to be armored.\n' >"$WORK/$name.raw"
rearmor "$WORK/$name.raw" "$WORK/$name.asc"
pgpmime "$name" "Interop $name" "$WORK/$name.asc"

echo "gen.sh: $(ls "$OUT"/*.eml | wc -l) fixtures written to $OUT"
