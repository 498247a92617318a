#!/usr/bin/env bash
# gen-fixtures.sh regenerates the GnuPG-made fixtures of package pgp.
#
# Run it from anywhere: cd is done for you. It needs gpg (GnuPG 2.2+) and
# perl (core modules only). Everything happens in a throw-away GNUPGHOME;
# the outputs are committed, so `go test` never needs gpg.
#
# Outputs (all in this directory):
#   team-ed25519.sec.asc  team key (Ed25519 + Curve25519), passphrase "team-passphrase"
#   team-rsa.sec.asc      team key (RSA-3072 + RSA-3072), passphrase "team-passphrase"
#   researcher.pub.asc    the researcher's public key (signer of the "good" fixtures)
#   poc.py                the attachment inside pgpmime-attachment.eml (to compare hashes)
#   *.eml                 messages, CRLF line endings as on the wire
set -euo pipefail

cd "$(dirname "$0")"
OUT=$PWD
PASS=team-passphrase
KEYTIME=20250101T000000
MSGTIME=20250102T100000

GNUPGHOME=$(mktemp -d)
export GNUPGHOME
WORK=$(mktemp -d)
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$GNUPGHOME" "$WORK"
}
trap cleanup EXIT

gpgk() { gpg --batch --quiet --pinentry-mode loopback --faked-system-time "$KEYTIME" "$@"; }
gpgm() { gpg --batch --quiet --yes --pinentry-mode loopback --trust-model always --faked-system-time "$MSGTIME" "$@"; }
fpr() { gpg --batch --with-colons --list-keys "$1" | awk -F: '/^fpr/ { print $10; exit }'; }
# crlf converts LF (or CRLF) line endings to CRLF.
crlf() { sed 's/\r*$/\r/'; }

# newkey UID ALGO SUBALGO PASSPHRASE: a primary signing key with an encryption subkey.
newkey() {
	gpgk --passphrase "$4" --quick-gen-key "$1" "$2" sign,cert never
	local f
	f=$(fpr "$1")
	if [ -n "$3" ]; then
		gpgk --passphrase "$4" --quick-add-key "$f" "$3" encr never
	fi
	echo "$f"
}

TEAM=$(newkey "Security Team <security@example.com>" ed25519 cv25519 "$PASS")
TEAMRSA=$(newkey "Security Team RSA <security-rsa@example.com>" rsa3072 rsa3072 "$PASS")
ALICE=$(newkey "Alice Researcher <alice@researcher.example>" ed25519 cv25519 "")
MALLORY=$(newkey "Mallory Unknown <mallory@elsewhere.example>" ed25519 "" "")
OTHER=$(newkey "Other Org Security <security@other.example>" ed25519 cv25519 "")

gpgk --passphrase "$PASS" --armor --export-secret-keys "$TEAM" >"$OUT/team-ed25519.sec.asc"
gpgk --passphrase "$PASS" --armor --export-secret-keys "$TEAMRSA" >"$OUT/team-rsa.sec.asc"
gpgk --armor --export "$ALICE" >"$OUT/researcher.pub.asc"

# encrypt OUTFILE INFILE ARGS...: armored OpenPGP message of INFILE.
encrypt() {
	local out=$1 in=$2
	shift 2
	gpgm --armor --output "$out" "$@" "$in"
}

# pgpmime OUT SUBJECT MSGID ARMORED: an RFC 3156 section 4 PGP/MIME message.
pgpmime() {
	{
		printf 'From: Alice Researcher <alice@researcher.example>\n'
		printf 'To: security@example.com\n'
		printf 'Subject: %s\n' "$2"
		printf 'Date: Thu, 02 Jan 2025 10:00:00 +0000\n'
		printf 'Message-ID: <%s@researcher.example>\n' "$3"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n boundary="------------enc0123456789"\n'
		printf '\n'
		printf 'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n'
		printf -- '--------------enc0123456789\n'
		printf 'Content-Type: application/pgp-encrypted\n'
		printf 'Content-Description: PGP/MIME version identification\n'
		printf '\n'
		printf 'Version: 1\n'
		printf '\n'
		printf -- '--------------enc0123456789\n'
		printf 'Content-Type: application/octet-stream; name="encrypted.asc"\n'
		printf 'Content-Description: OpenPGP encrypted message\n'
		printf 'Content-Disposition: inline; filename="encrypted.asc"\n'
		printf '\n'
		cat "$4"
		printf '\n--------------enc0123456789--\n'
	} | crlf >"$1"
}

# A simple inner MIME entity: one text/plain part.
inner_text() {
	{
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf '\n'
		printf '%s\n' "$@"
	} | crlf
}

# 1. PGP/MIME encrypted to the team key.
inner_text "Hello security team," "" "The login form at /admin is vulnerable to SQL injection." "" "Alice" >"$WORK/in1"
encrypt "$WORK/c1" "$WORK/in1" --encrypt -r "$TEAM"
pgpmime "$OUT/pgpmime-encrypted.eml" "SQL injection in /admin" pgpmime-encrypted "$WORK/c1"

# 2. Signed by the researcher and encrypted (one OpenPGP message, RFC 3156 section 6.2).
inner_text "Signed and encrypted: the password reset token never expires." >"$WORK/in2"
encrypt "$WORK/c2" "$WORK/in2" --sign --local-user "$ALICE" --encrypt -r "$TEAM"
pgpmime "$OUT/pgpmime-signed.eml" "Reset tokens never expire" pgpmime-signed "$WORK/c2"

# 3. Signed by a key the tests do not have.
inner_text "Signed by a stranger: the upload endpoint accepts any MIME type." >"$WORK/in3"
encrypt "$WORK/c3" "$WORK/in3" --sign --local-user "$MALLORY" --encrypt -r "$TEAM"
pgpmime "$OUT/pgpmime-unknown-signer.eml" "Upload accepts anything" pgpmime-unknown-signer "$WORK/c3"

# 4. Inline PGP: two armored blocks inside a quoted-printable text/plain body.
printf 'First secret: the staging database is reachable from the internet.\n' >"$WORK/in4a"
printf 'Second secret: the backup bucket is world readable.\n' >"$WORK/in4b"
encrypt "$WORK/c4a" "$WORK/in4a" --encrypt -r "$TEAM"
encrypt "$WORK/c4b" "$WORK/in4b" --encrypt -r "$TEAM"
{
	printf 'From: Alice Researcher <alice@researcher.example>\n'
	printf 'To: security@example.com\n'
	printf 'Subject: =?UTF-8?Q?Two_findings_=E2=80=94_inline?=\n'
	printf 'Date: Thu, 02 Jan 2025 10:00:00 +0000\n'
	printf 'Message-ID: <inline@researcher.example>\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: quoted-printable\n'
	printf '\n'
	{
		printf 'Hello team \xe2\x80\x94 text before the first block.\n\n'
		cat "$WORK/c4a"
		printf '\nText between the blocks.\n\n'
		cat "$WORK/c4b"
		printf '\nText after the blocks. Alice\n'
	} | perl -MMIME::QuotedPrint -0777 -ne 'print encode_qp($_)'
} | crlf >"$OUT/inline.eml"

# 5. PGP/MIME whose decrypted MIME has protected headers (Subject outside is
# "...") and an attachment, plus a legacy-display part.
printf 'import requests\nrequests.post("https://example.com/upload", files={"f": open("x.svg")})\n' >"$OUT/poc.py"
{
	printf 'Content-Type: multipart/mixed; boundary="inner-0001"; protected-headers="v1"\n'
	printf 'Subject: RCE in image upload\n'
	printf 'From: Alice Researcher <alice@researcher.example>\n'
	printf 'Message-ID: <pgpmime-attachment@researcher.example>\n'
	printf '\n'
	printf -- '--inner-0001\n'
	printf 'Content-Type: text/rfc822-headers; protected-headers="v1"\n'
	printf 'Content-Disposition: inline\n'
	printf '\n'
	printf 'Subject: RCE in image upload\n'
	printf -- '--inner-0001\n'
	printf 'Content-Type: text/plain; charset=iso-8859-1\n'
	printf 'Content-Transfer-Encoding: quoted-printable\n'
	printf '\n'
	printf 'Uploading a crafted SVG gives remote code execution. Caf=E9 proof attached.\n'
	printf -- '--inner-0001\n'
	printf 'Content-Type: text/x-python; charset=utf-8\n'
	printf 'Content-Disposition: attachment; filename="../../etc/poc.py"\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf '\n'
	base64 -w 76 "$OUT/poc.py"
	printf -- '--inner-0001--\n'
} | crlf >"$WORK/in5"
encrypt "$WORK/c5" "$WORK/in5" --sign --local-user "$ALICE" --encrypt -r "$TEAM"
pgpmime "$OUT/pgpmime-attachment.eml" "..." pgpmime-attachment "$WORK/c5"

# 6. Encrypted to another organisation's key only.
inner_text "This was meant for someone else." >"$WORK/in6"
encrypt "$WORK/c6" "$WORK/in6" --encrypt -r "$OTHER"
pgpmime "$OUT/pgpmime-other-key.eml" "Not for you" pgpmime-other-key "$WORK/c6"

# 7. Tampered: uncompressed, so the flipped byte lands in the literal data;
# the MDC must catch it and none of the plaintext may survive.
{
	printf 'Content-Type: text/plain; charset=utf-8\n\n'
	for i in $(seq 1 80); do printf 'TAMPERED PLAINTEXT line %02d must never be shown.\n' "$i"; done
} | crlf >"$WORK/in7"
gpgm --compress-algo none --output "$WORK/c7.bin" --encrypt -r "$TEAM" "$WORK/in7"
perl -0777 -pi -e 'my $n = int(length($_) / 2); substr($_, $n, 1) = chr(ord(substr($_, $n, 1)) ^ 0x01);' "$WORK/c7.bin"
gpgm --output "$WORK/c7.arm" --enarmor "$WORK/c7.bin"
sed -e 's/PGP ARMORED FILE/PGP MESSAGE/' -e '/^Comment:/d' "$WORK/c7.arm" >"$WORK/c7"
pgpmime "$OUT/pgpmime-tampered.eml" "Tampered" pgpmime-tampered "$WORK/c7"

# 8. Encrypted to the RSA team key.
inner_text "Encrypted to the RSA key: the session cookie lacks the Secure flag." >"$WORK/in8"
encrypt "$WORK/c8" "$WORK/in8" --encrypt -r "$TEAMRSA"
pgpmime "$OUT/pgpmime-rsa.eml" "Cookie without Secure" pgpmime-rsa "$WORK/c8"

# 9. Hostile markup in the Subject (outer and protected), body and a file
# name, for the UI's escaping tests.
{
	printf 'Content-Type: multipart/mixed; boundary="inner-xss"; protected-headers="v1"\n'
	printf 'Subject: <script>alert(1)</script> protected\n'
	printf '\n'
	printf -- '--inner-xss\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Body with <script>alert(1)</script> and <img src=x onerror=alert(2)>.\n'
	printf -- '--inner-xss\n'
	printf 'Content-Type: text/html; charset=utf-8\n'
	printf 'Content-Disposition: attachment; filename="<img src=x onerror=alert(3)>.html"\n'
	printf '\n'
	printf '<p onmouseover="alert(4)">hover</p><script>alert(5)</script>\n'
	printf -- '--inner-xss--\n'
} | crlf >"$WORK/in9"
encrypt "$WORK/c9" "$WORK/in9" --encrypt -r "$TEAM"
pgpmime "$OUT/xss.eml" '<script>alert(1)</script> onerror=alert(1)' xss "$WORK/c9"

# 10. RFC 3156 section 5 multipart/signed, not encrypted. The signed data
# is the first part exactly as on the wire (CRLF), headers included.
{
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: 7bit\n'
	printf '\n'
	printf 'Signed in the clear: the API leaks tokens in /debug.\n'
} | crlf >"$WORK/in10"
gpgm --armor --detach-sign --digest-algo SHA256 --local-user "$ALICE" --output "$WORK/s10" "$WORK/in10"
{
	{
		printf 'From: Alice Researcher <alice@researcher.example>\n'
		printf 'To: security@example.com\n'
		printf 'Subject: Token leak in /debug\n'
		printf 'Date: Thu, 02 Jan 2025 10:00:00 +0000\n'
		printf 'Message-ID: <multipart-signed@researcher.example>\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/signed; micalg=pgp-sha256;\n protocol="application/pgp-signature"; boundary="sig-0001"\n'
		printf '\n'
		printf -- '--sig-0001\n'
	} | crlf
	cat "$WORK/in10"
	{
		printf -- '\n--sig-0001\n'
		printf 'Content-Type: application/pgp-signature; name="signature.asc"\n'
		printf '\n'
		cat "$WORK/s10"
		printf -- '--sig-0001--\n'
	} | crlf
} >"$OUT/multipart-signed.eml"

# 11. Plain, unencrypted mail with an attachment.
{
	printf 'From: "Bob Finder" <bob@finder.example>\n'
	printf 'To: security@example.com\n'
	printf 'Subject: Open redirect on /login\n'
	printf 'Date: Thu, 02 Jan 2025 10:00:00 +0000\n'
	printf 'Message-ID: <plain@finder.example>\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed; boundary="plain-0001"\n'
	printf '\n'
	printf -- '--plain-0001\n'
	printf 'Content-Type: multipart/alternative; boundary="alt-0001"\n'
	printf '\n'
	printf -- '--alt-0001\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'The next= parameter of /login redirects anywhere.\n'
	printf -- '--alt-0001\n'
	printf 'Content-Type: text/html; charset=utf-8\n'
	printf '\n'
	printf '<p>The next= parameter of /login redirects <b>anywhere</b>.</p>\n'
	printf -- '--alt-0001--\n'
	printf -- '--plain-0001\n'
	printf 'Content-Type: application/octet-stream\n'
	printf 'Content-Disposition: attachment; filename="redirect.txt"\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf '\n'
	printf 'https://example.com/login?next=https://evil.example/\n' | base64
	printf -- '--plain-0001--\n'
} | crlf >"$OUT/plain.eml"

# 12. HTML only, unencrypted.
{
	printf 'From: carol@html.example\n'
	printf 'To: security@example.com\n'
	printf 'Subject: HTML only\n'
	printf 'Message-ID: <html-only@html.example>\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/html; charset=utf-8\n'
	printf '\n'
	printf '<html><head><style>p { color: red }</style></head><body><p>The &quot;export&quot; button leaks <b>every</b> invoice.</p><script>alert(1)</script></body></html>\n'
} | crlf >"$OUT/html-only.eml"

echo "fixtures written to $OUT"
