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
#   signers.pub.asc       public keys of the signers of the weak, expired and revoked fixtures
#   poc.py                the attachment inside pgpmime-attachment.eml (to compare hashes)
#   *.eml                 messages, CRLF line endings as on the wire
#
# `gen-fixtures.sh many-signatures` makes many-signatures.eml alone (its
# signers are throw-away keys no test holds).
#
# The keys of Kim (key-attached.eml) and Ada (autocrypt.eml) are not
# exported: those messages carry them, and must verify with them alone.
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

# many_signatures: many-signatures.eml, an inline signed-only (not
# encrypted) message signed by 17 throw-away keys, one more than package
# pgp verifies (maxSignatures). It needs no other key, so it can be made
# alone: `gen-fixtures.sh many-signatures` writes only this file.
many_signatures() {
	local ids=() f i
	for i in $(seq -w 1 17); do
		f=$(newkey "Signer $i <signer$i@many.example>" ed25519 "" "")
		ids+=(--local-user "$f")
	done
	printf 'Seventeen signatures on one message: the content must still be read.\n' >"$WORK/many"
	gpgm --armor --sign --digest-algo SHA256 "${ids[@]}" --output "$WORK/many.asc" "$WORK/many"
	{
		printf 'From: Sam Many <sam@many.example>\n'
		printf 'To: security@example.com\n'
		printf 'Subject: Many signatures\n'
		printf 'Date: Thu, 02 Jan 2025 10:00:00 +0000\n'
		printf 'Message-ID: <many-signatures@many.example>\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Text before the signed block.\n'
		printf '\n'
		cat "$WORK/many.asc"
	} | crlf >"$OUT/many-signatures.eml"
}

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

if [ "${1:-}" = many-signatures ]; then
	many_signatures
	echo "many-signatures.eml written to $OUT"
	exit 0
fi

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

# ---------------------------------------------------------------------------
# Signature results, coverage and keys in mail (issue 3).

RITA=$(newkey "Rita Legacy <rita@legacy.example>" rsa1024 "" "")
ERIN=$(newkey "Erin Expired <erin@expired.example>" ed25519 "" "")
ROB=$(newkey "Rob Revoked <rob@revoked.example>" ed25519 "" "")
KIM=$(newkey "Kim Newkey <kim@newkey.example>" ed25519 cv25519 "")
gpgk --quick-add-uid "$KIM" "Kim Elsewhere <kim@elsewhere.example>"
ADA=$(newkey "Ada Autocrypt <ada@autocrypt.example>" ed25519 cv25519 "")

# headers FROM SUBJECT MSGID: the common header fields (LF; crlf later).
headers() {
	printf 'From: %s\n' "$1"
	printf 'To: security@example.com\n'
	printf 'Subject: %s\n' "$2"
	printf 'Date: Thu, 02 Jan 2025 10:00:00 +0000\n'
	printf 'Message-ID: <%s@example.net>\n' "$3"
	printf 'MIME-Version: 1.0\n'
}

# detach SIGFILE ENTITY SIGNER GPGARGS...: armored detached signature.
detach() {
	local out=$1 in=$2 signer=$3
	shift 3
	gpgm --armor --detach-sign --local-user "$signer" "$@" --output "$out" "$in"
}

# signedbody ENTITY SIGFILE BOUNDARY MICALG: an RFC 3156 section 5
# multipart/signed entity (its Content-Type field and body), CRLF.
signedbody() {
	{
		printf 'Content-Type: multipart/signed; micalg=%s;\n protocol="application/pgp-signature"; boundary="%s"\n' "$4" "$3"
		printf '\n'
		printf -- '--%s\n' "$3"
	} | crlf
	cat "$1"
	{
		printf -- '\n--%s\n' "$3"
		printf 'Content-Type: application/pgp-signature; name="signature.asc"\n'
		printf 'Content-Disposition: attachment; filename="signature.asc"\n'
		printf '\n'
		cat "$2"
		printf -- '--%s--\n' "$3"
	} | crlf
}

# signedmail OUT FROM SUBJECT MSGID ENTITY SIGNER MICALG GPGARGS...: a
# whole multipart/signed message signed by SIGNER.
signedmail() {
	local out=$1 from=$2 subject=$3 msgid=$4 entity=$5 signer=$6 micalg=$7
	shift 7
	detach "$WORK/sig" "$entity" "$signer" "$@"
	{
		headers "$from" "$subject" "$msgid" | crlf
		signedbody "$entity" "$WORK/sig" "signed-$msgid" "$micalg"
	} >"$out"
}

ALICE_FROM='Alice Researcher <alice@researcher.example>'

# 13. Inline cleartext signature (RFC 9580 section 7) with unsigned text
# around it, dash-escaped lines, trailing blanks and a Hash: header.
{
	printf 'The staging host leaks its .git directory.\n'
	printf -- '- reproduce: curl https://staging.example.com/.git/config   \n'
	printf -- '-----BEGIN PGP MESSAGE----- in the text is not armor here\n'
	printf 'From the logs: 4 requests.\n'
} >"$WORK/in13"
gpgm --clearsign --digest-algo SHA512 --local-user "$ALICE" --output "$WORK/c13" "$WORK/in13"
{
	headers "$ALICE_FROM" "Cleartext signed" clearsigned
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Unsigned preface: anyone could have written this line.\n\n'
	cat "$WORK/c13"
	printf '\nUnsigned footer, added by a mailing list.\n'
} | crlf >"$OUT/clearsigned.eml"

# 14-18. Weak, expired and revoked signatures, each RFC 3156 section 5.
inner_text "Signed with SHA-1, which can be forged." >"$WORK/in14"
signedmail "$OUT/sha1-signed.eml" "$ALICE_FROM" "SHA-1 signature" sha1-signed "$WORK/in14" "$ALICE" pgp-sha1 --digest-algo SHA1
inner_text "Signed with MD5 by an RSA-1024 key." >"$WORK/in15"
signedmail "$OUT/md5-signed.eml" "Rita Legacy <rita@legacy.example>" "MD5 signature" md5-signed "$WORK/in15" "$RITA" pgp-md5 --digest-algo MD5
inner_text "Signed with SHA-256, but by an RSA-1024 key." >"$WORK/in16"
signedmail "$OUT/rsa1024-signed.eml" "Rita Legacy <rita@legacy.example>" "RSA-1024 signature" rsa1024-signed "$WORK/in16" "$RITA" pgp-sha256 --digest-algo SHA256
inner_text "This signature expired a day after it was made." >"$WORK/in17"
signedmail "$OUT/expired-sig.eml" "$ALICE_FROM" "Expired signature" expired-sig "$WORK/in17" "$ALICE" pgp-sha256 --default-sig-expire 1d
inner_text "Signed after the key had expired." >"$WORK/in18"
signedmail "$OUT/expired-key.eml" "Erin Expired <erin@expired.example>" "Expired key" expired-key "$WORK/in18" "$ERIN" pgp-sha256
# Erin's key gets an expiry 2 hours after a self-signature made on
# 2025-01-01 12:00: it had expired when the message above was signed.
gpg --batch --quiet --pinentry-mode loopback --faked-system-time 20250101T120000 --quick-set-expire "$ERIN" seconds=7200
inner_text "Signed by a key that is now revoked." >"$WORK/in19"
signedmail "$OUT/revoked-key.eml" "Rob Revoked <rob@revoked.example>" "Revoked key" revoked-key "$WORK/in19" "$ROB" pgp-sha256
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$ROB.rev" | gpgk --import
# A RIPEMD-160 one-pass signature, inline.
printf 'Signed inline with RIPEMD-160.\n' >"$WORK/in20"
gpgm --armor --sign --digest-algo RIPEMD160 --local-user "$RITA" --output "$WORK/c20" "$WORK/in20"
{
	headers "Rita Legacy <rita@legacy.example>" "RIPEMD-160 signature" ripemd160-signed
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	cat "$WORK/c20"
} | crlf >"$OUT/ripemd160-signed.eml"
gpgk --armor --export "$RITA" "$ERIN" "$ROB" >"$OUT/signers.pub.asc"

# 21. Encrypt-then-sign: multipart/signed around multipart/encrypted; the
# signature covers the ciphertext.
inner_text "Encrypted, then signed from outside: the signature covers the ciphertext." >"$WORK/in21"
encrypt "$WORK/c21" "$WORK/in21" --encrypt -r "$TEAM"
{
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc-21"\n'
	printf '\n'
	printf -- '--enc-21\n'
	printf 'Content-Type: application/pgp-encrypted\n'
	printf '\n'
	printf 'Version: 1\n'
	printf -- '--enc-21\n'
	printf 'Content-Type: application/octet-stream\n'
	printf '\n'
	cat "$WORK/c21"
	printf -- '--enc-21--\n'
} | crlf >"$WORK/e21"
signedmail "$OUT/encrypt-then-sign.eml" "$ALICE_FROM" "Encrypt then sign" encrypt-then-sign "$WORK/e21" "$ALICE" pgp-sha256

# 22. Sign-then-encrypt, nested (RFC 3156 section 6.1): multipart/signed
# inside the encrypted part, protected headers on the signed entity.
{
	printf 'Content-Type: multipart/mixed; boundary="inner-22"; protected-headers="v1"\n'
	printf 'Subject: Nested: the real subject\n'
	printf 'From: %s\n' "$ALICE_FROM"
	printf '\n'
	printf -- '--inner-22\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Signed, then encrypted: the signature is inside.\n'
	printf -- '--inner-22\n'
	printf 'Content-Type: text/x-python; charset=utf-8\n'
	printf 'Content-Disposition: attachment; filename="poc.py"\n'
	printf '\n'
	cat "$OUT/poc.py"
	printf -- '--inner-22--\n'
} | crlf >"$WORK/e22"
detach "$WORK/s22" "$WORK/e22" "$ALICE"
signedbody "$WORK/e22" "$WORK/s22" "signed-22" pgp-sha256 >"$WORK/in22"
encrypt "$WORK/c22" "$WORK/in22" --encrypt -r "$TEAM"
pgpmime "$OUT/sign-then-encrypt.eml" "..." sign-then-encrypt "$WORK/c22"

# 23. multipart/signed over a nested multipart, not encrypted.
{
	printf 'Content-Type: multipart/mixed; boundary="mixed-23"\n'
	printf '\n'
	printf -- '--mixed-23\n'
	printf 'Content-Type: multipart/alternative; boundary="alt-23"\n'
	printf '\n'
	printf -- '--alt-23\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Signed nested text: the cache key ignores the Host header.\n'
	printf -- '--alt-23\n'
	printf 'Content-Type: text/html; charset=utf-8\n'
	printf '\n'
	printf '<p>Signed nested text: the cache key ignores the <b>Host</b> header.</p>\n'
	printf -- '--alt-23--\n'
	printf -- '--mixed-23\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Content-Disposition: attachment; filename="request.txt"\n'
	printf '\n'
	printf 'GET / HTTP/1.1\nHost: evil.example\n'
	printf -- '--mixed-23--\n'
} | crlf >"$WORK/e23"
signedmail "$OUT/signed-nested.eml" "$ALICE_FROM" "Cache poisoning" signed-nested "$WORK/e23" "$ALICE" pgp-sha256

# 24. Inline encrypted blocks inside text/html: one in <pre>, one pasted
# with <br> line breaks.
printf 'First HTML secret: the admin panel has no CSRF token.\n' >"$WORK/in24a"
printf 'Second HTML secret: session ids are sequential.\n' >"$WORK/in24b"
encrypt "$WORK/c24a" "$WORK/in24a" --encrypt -r "$TEAM"
encrypt "$WORK/c24b" "$WORK/in24b" --encrypt -r "$TEAM"
{
	headers "$ALICE_FROM" "Inline in HTML" inline-html
	printf 'Content-Type: text/html; charset=utf-8\n'
	printf '\n'
	printf '<html><head><style>pre { color: red }</style></head><body>\n'
	printf '<p>Hello team &amp; friends, two blocks follow.</p>\n<pre>'
	cat "$WORK/c24a"
	printf '</pre>\n<p>And one pasted with line breaks:</p>\n<div>'
	sed 's/$/<br>/' "$WORK/c24b"
	printf '</div>\n<p>Bye, <a href="https://researcher.example/">Alice</a></p></body></html>\n'
} | crlf >"$OUT/inline-html.eml"

# 25. Encrypted attachments in an otherwise plain mail: a binary .pgp, an
# armored .asc, and PGP Desktop's encrypted HTML body.
printf 'Details in the encrypted attachment: the S3 bucket "backups" is public.\n' >"$WORK/report.txt"
gpgm --encrypt -r "$TEAM" --output "$WORK/report.txt.pgp" "$WORK/report.txt"
printf 'Armored attachment: the password reset link is valid for a year.\n' >"$WORK/details.txt"
gpgm --armor --sign --local-user "$ALICE" --encrypt -r "$TEAM" --output "$WORK/details.txt.asc" "$WORK/details.txt"
printf '<html><body><p>Encrypted HTML body: <b>XSS</b> in /search.</p><img src="https://tracker.example/p.gif"></body></html>\n' >"$WORK/PGPexch.htm"
gpgm --encrypt -r "$TEAM" --output "$WORK/PGPexch.htm.pgp" "$WORK/PGPexch.htm"
{
	headers "$ALICE_FROM" "Encrypted attachments" attachment-encrypted
	printf 'Content-Type: multipart/mixed; boundary="att-25"\n'
	printf '\n'
	printf -- '--att-25\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Unencrypted cover note: see the attachments.\n'
	printf -- '--att-25\n'
	printf 'Content-Type: application/octet-stream; name="report.txt.pgp"\n'
	printf 'Content-Disposition: attachment; filename="report.txt.pgp"\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf '\n'
	base64 -w 76 "$WORK/report.txt.pgp"
	printf -- '--att-25\n'
	printf 'Content-Type: text/plain; charset=us-ascii; name="details.txt.asc"\n'
	printf 'Content-Disposition: attachment; filename="details.txt.asc"\n'
	printf '\n'
	cat "$WORK/details.txt.asc"
	printf -- '--att-25\n'
	printf 'Content-Type: application/octet-stream; name="PGPexch.htm.pgp"\n'
	printf 'Content-Disposition: attachment; filename="PGPexch.htm.pgp"\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf '\n'
	base64 -w 76 "$WORK/PGPexch.htm.pgp"
	printf -- '--att-25--\n'
} | crlf >"$OUT/attachment-encrypted.eml"

# 26. Thunderbird-style first contact: signed and encrypted, with the
# sender's key attached inside. Kim's key is not exported: the message
# must verify with the key it carries (which has a second user ID for
# another address, to be trimmed).
gpgk --armor --export "$KIM" >"$WORK/kim.asc"
{
	printf 'Content-Type: multipart/mixed; boundary="inner-26"; protected-headers="v1"\n'
	printf 'Subject: First contact with my key\n'
	printf '\n'
	printf -- '--inner-26\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Hello, my key is attached. The login form leaks usernames.\n'
	printf -- '--inner-26\n'
	printf 'Content-Type: application/pgp-keys; name="OpenPGP_0x%s.asc"\n' "${KIM: -16}"
	printf 'Content-Disposition: attachment; filename="OpenPGP_0x%s.asc"\n' "${KIM: -16}"
	printf '\n'
	cat "$WORK/kim.asc"
	printf -- '--inner-26--\n'
} | crlf >"$WORK/in26"
encrypt "$WORK/c26" "$WORK/in26" --sign --local-user "$KIM" --encrypt -r "$TEAM"
pgpmime "$WORK/k26" "..." key-attached "$WORK/c26"
sed 's/^From: Alice Researcher <alice@researcher.example>/From: Kim Newkey <kim@newkey.example>/' "$WORK/k26" >"$OUT/key-attached.eml"

# 27. Autocrypt header (Autocrypt Level 1) on a signed mail; Ada's key is
# not exported either.
inner_text "Signed by the key in my Autocrypt header." >"$WORK/in27"
detach "$WORK/s27" "$WORK/in27" "$ADA"
{
	headers "Ada Autocrypt <ada@autocrypt.example>" "Autocrypt" autocrypt
	printf 'Autocrypt: addr=ada@autocrypt.example; prefer-encrypt=mutual; keydata=\n'
	gpgk --export --export-options export-minimal "$ADA" | base64 -w 72 | sed 's/^/ /'
} | crlf >"$OUT/autocrypt.eml"
signedbody "$WORK/in27" "$WORK/s27" signed-27 pgp-sha256 >>"$OUT/autocrypt.eml"

# 28. K-9 style protected headers: a single text/plain entity carrying
# the Subject, no legacy display part.
{
	printf 'Content-Type: text/plain; charset=utf-8; protected-headers="v1"\n'
	printf 'Subject: K-9: password hashes are unsalted\n'
	printf 'From: %s\n' "$ALICE_FROM"
	printf '\n'
	printf 'The users table stores unsalted SHA-1 hashes.\n'
} | crlf >"$WORK/in28"
encrypt "$WORK/c28" "$WORK/in28" --sign --local-user "$ALICE" --encrypt -r "$TEAM"
pgpmime "$OUT/protected-k9.eml" "..." protected-k9 "$WORK/c28"

# 29. Legacy display only: the Subject is not on the decrypted entity,
# only in its text/rfc822-headers part.
{
	printf 'Content-Type: multipart/mixed; boundary="inner-29"; protected-headers="v1"\n'
	printf '\n'
	printf -- '--inner-29\n'
	printf 'Content-Type: text/rfc822-headers; protected-headers="v1"\n'
	printf 'Content-Disposition: inline\n'
	printf '\n'
	printf 'Subject: Legacy display subject\n'
	printf -- '--inner-29\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf '\n'
	printf 'Only the legacy display part names the subject.\n'
	printf -- '--inner-29--\n'
} | crlf >"$WORK/in29"
encrypt "$WORK/c29" "$WORK/in29" --encrypt -r "$TEAM"
pgpmime "$OUT/protected-legacy.eml" "..." protected-legacy "$WORK/c29"

# 30-33. "Johnny, you are fired" (Mueller et al., USENIX Security 2019).
# 30. A validly signed part wrapped in unsigned parts.
inner_text "The only signed sentence: please rotate the API keys." >"$WORK/in30"
detach "$WORK/s30" "$WORK/in30" "$ALICE"
{
	{
		headers "$ALICE_FROM" "Wrapped signature" wrapped-signed
		printf 'Content-Type: multipart/mixed; boundary="wrap-30"\n'
		printf '\n'
		printf -- '--wrap-30\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'UNSIGNED: also wire 10000 EUR to the account below.\n'
		printf -- '--wrap-30\n'
	} | crlf
	signedbody "$WORK/in30" "$WORK/s30" signed-30 pgp-sha256
	{
		printf -- '\n--wrap-30\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'UNSIGNED footer: IBAN XX00 0000.\n'
		printf -- '--wrap-30--\n'
	} | crlf
} >"$OUT/wrapped-signed.eml"
# 31. Alice's signed mail forwarded by Bob as message/rfc822.
{
	{
		headers '"Bob Finder" <bob@finder.example>' "Fwd: Token leak in /debug" forwarded-signed
		printf 'Content-Type: multipart/mixed; boundary="fwd-31"\n'
		printf '\n'
		printf -- '--fwd-31\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n'
		printf 'Forwarding what Alice sent me.\n'
		printf -- '--fwd-31\n'
		printf 'Content-Type: message/rfc822\n'
		printf 'Content-Disposition: inline\n'
		printf '\n'
	} | crlf
	cat "$OUT/multipart-signed.eml"
	printf -- '\n--fwd-31--\n' | crlf
} >"$OUT/forwarded-signed.eml"
# 32. Signed by Alice, but From says Bob.
inner_text "Signed by Alice, sent as Bob." >"$WORK/in32"
signedmail "$OUT/signer-not-from.eml" '"Bob Finder" <bob@finder.example>' "Signer is not From" signer-not-from "$WORK/in32" "$ALICE" pgp-sha256
# 33. The signed entity carries its own Subject and From.
{
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Subject: You are fired\n'
	printf 'From: CEO <ceo@example.com>\n'
	printf '\n'
	printf 'Quarterly numbers attached, all fine.\n'
} | crlf >"$WORK/in33"
signedmail "$OUT/inner-headers.eml" "$ALICE_FROM" "Quarterly numbers" inner-headers "$WORK/in33" "$ALICE" pgp-sha256

# 34. Two signatures in one signature part: Alice's and Mallory's (whose
# key the tests do not have).
inner_text "Signed by two keys, one of them unknown." >"$WORK/in34"
signedmail "$OUT/two-signers.eml" "$ALICE_FROM" "Two signers" two-signers "$WORK/in34" "$ALICE" pgp-sha256 --local-user "$MALLORY"

# 35. Signed-only with more signatures than pgp verifies.
many_signatures

echo "fixtures written to $OUT"
