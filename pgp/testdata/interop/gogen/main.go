// Command gogen makes go-crypto's (ProtonMail/go-crypto, openpgp/v2)
// fixtures for ../gen.sh. It lives under testdata, so it is no part of
// the product and `go test ./...` does not build it.
//
//	gogen genkey  -uid U -sec F -pub F [-v6] [-pass P] [-date RFC3339]
//	gogen encrypt -to F[,F...] -in F -out F [-sign F -pass P] [-aead ocb|gcm|eax]
//	              [-compress none|zip|zlib] [-date RFC3339] [-binary]
//	gogen sign    -key F -pass P -in F -out F -mode detached|cleartext|inline
//	              [-hash sha1|sha256] [-date RFC3339]
//	gogen dump    -in F        (outline of the packets outside the encryption)
//	gogen micalg  -in F        (RFC 3156 micalg of a detached signature: "pgp-sha256")
package main

import (
	"bytes"
	"crypto"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gogen genkey|encrypt|sign|dump ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var (
		uid      = fs.String("uid", "", "user ID, Name <email>")
		sec      = fs.String("sec", "", "secret key output")
		pub      = fs.String("pub", "", "public key output")
		v6       = fs.Bool("v6", false, "v6 key (RFC 9580), Ed25519 + X25519")
		pass     = fs.String("pass", "", "passphrase")
		date     = fs.String("date", "", "creation time, RFC 3339 (default now)")
		to       = fs.String("to", "", "recipient public keys, comma-separated")
		in       = fs.String("in", "", "input")
		out      = fs.String("out", "", "output")
		sign     = fs.String("sign", "", "signer secret key")
		key      = fs.String("key", "", "signer secret key")
		aead     = fs.String("aead", "", "SEIPDv2 with this AEAD mode")
		compress = fs.String("compress", "none", "compression")
		binary   = fs.Bool("binary", false, "binary output, not armored")
		mode     = fs.String("mode", "detached", "signature kind")
		hash     = fs.String("hash", "sha256", "signature hash")
	)
	if err := fs.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	cfg := &packet.Config{DefaultHash: crypto.SHA256, DefaultCipher: packet.CipherAES256}
	if *date != "" {
		t, err := time.Parse(time.RFC3339, *date)
		check(err)
		cfg.Time = func() time.Time { return t }
	}
	switch os.Args[1] {
	case "genkey":
		genkey(cfg, *uid, *sec, *pub, *v6, *pass)
	case "encrypt":
		encrypt(cfg, *to, *in, *out, *sign, *pass, *aead, *compress, *binary)
	case "sign":
		switch *hash {
		case "sha1":
			cfg.DefaultHash = crypto.SHA1
		case "sha256":
		default:
			check(fmt.Errorf("unknown hash %q", *hash))
		}
		signFile(cfg, *key, *pass, *in, *out, *mode)
	case "dump":
		dump(*in)
	case "micalg":
		micalg(*in)
	default:
		check(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gogen:", err)
		os.Exit(1)
	}
}

func genkey(cfg *packet.Config, uid, secFile, pubFile string, v6 bool, pass string) {
	name, email, _ := strings.Cut(strings.TrimSuffix(uid, ">"), " <")
	if v6 {
		cfg.V6Keys = true
		cfg.Algorithm = packet.PubKeyAlgoEd25519
		cfg.AEADConfig = &packet.AEADConfig{DefaultMode: packet.AEADModeOCB}
	} else {
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
		cfg.Curve = packet.Curve25519
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	check(err)
	var pubBuf bytes.Buffer
	w, err := armor.Encode(&pubBuf, openpgp.PublicKeyType, nil)
	check(err)
	check(e.Serialize(w))
	check(w.Close())
	check(os.WriteFile(pubFile, append(pubBuf.Bytes(), '\n'), 0o644))
	if pass != "" {
		check(e.EncryptPrivateKeys([]byte(pass), cfg))
	}
	var secBuf bytes.Buffer
	w, err = armor.Encode(&secBuf, openpgp.PrivateKeyType, nil)
	check(err)
	check(e.SerializePrivateWithoutSigning(w, cfg))
	check(w.Close())
	check(os.WriteFile(secFile, append(secBuf.Bytes(), '\n'), 0o600))
}

func readKeys(files string) openpgp.EntityList {
	var el openpgp.EntityList
	for _, f := range strings.Split(files, ",") {
		fh, err := os.Open(f)
		check(err)
		l, err := openpgp.ReadArmoredKeyRing(fh)
		check(err)
		fh.Close()
		el = append(el, l...)
	}
	return el
}

func secretKey(file, pass string) *openpgp.Entity {
	el := readKeys(file)
	if pass != "" {
		check(el[0].DecryptPrivateKeys([]byte(pass)))
	}
	return el[0]
}

var aeadModes = map[string]packet.AEADMode{"ocb": packet.AEADModeOCB, "gcm": packet.AEADModeGCM, "eax": packet.AEADModeEAX}

func encrypt(cfg *packet.Config, to, in, out, signer, pass, aead, compress string, binary bool) {
	recipients := readKeys(to)
	if aead != "" {
		mode, ok := aeadModes[aead]
		if !ok {
			check(fmt.Errorf("unknown AEAD mode %q", aead))
		}
		cfg.AEADConfig = &packet.AEADConfig{DefaultMode: mode}
		// go-crypto takes SEIPDv2 and its AEAD mode from the recipients'
		// preferences (the self-signature's Features and Preferred AEAD
		// Ciphersuites), as RFC 9580 section 5.2.3.15 asks. To make the
		// mode asked for, state that preference on the in-memory copy of
		// the recipient keys; the key files are not changed.
		for _, e := range recipients {
			sig, err := e.PrimarySelfSignature(cfg.Now(), cfg)
			check(err)
			sig.SEIPDv2 = true
			sig.PreferredCipherSuites = [][2]uint8{{uint8(packet.CipherAES256), uint8(mode)}}
		}
	}
	switch compress {
	case "none":
		cfg.DefaultCompressionAlgo = packet.CompressionNone
	case "zip":
		cfg.DefaultCompressionAlgo = packet.CompressionZIP
	case "zlib":
		cfg.DefaultCompressionAlgo = packet.CompressionZLIB
	default:
		check(fmt.Errorf("unknown compression %q", compress))
	}
	var signers []*openpgp.Entity
	if signer != "" {
		signers = append(signers, secretKey(signer, pass))
	}
	data, err := os.ReadFile(in)
	check(err)
	var buf bytes.Buffer
	var dst io.WriteCloser = nopCloser{&buf}
	if !binary {
		dst, err = armor.Encode(&buf, openpgp.MessageType, nil)
		check(err)
	}
	pw, err := openpgp.Encrypt(dst, recipients, nil, signers, &openpgp.FileHints{ModTime: cfg.Now()}, cfg)
	check(err)
	_, err = pw.Write(data)
	check(err)
	check(pw.Close())
	check(dst.Close())
	if !binary {
		buf.WriteByte('\n')
	}
	check(os.WriteFile(out, buf.Bytes(), 0o644))
}

func signFile(cfg *packet.Config, keyFile, pass, in, out, mode string) {
	signer := secretKey(keyFile, pass)
	data, err := os.ReadFile(in)
	check(err)
	var buf bytes.Buffer
	switch mode {
	case "detached":
		check(openpgp.ArmoredDetachSign(&buf, []*openpgp.Entity{signer}, bytes.NewReader(data), &openpgp.SignParams{Config: cfg}))
	case "cleartext":
		k, ok := signer.SigningKey(cfg.Now(), cfg)
		if !ok {
			check(fmt.Errorf("no signing key"))
		}
		w, err := clearsign.Encode(&buf, k.PrivateKey, cfg)
		check(err)
		_, err = w.Write(data)
		check(err)
		check(w.Close())
	case "inline":
		aw, err := armor.Encode(&buf, openpgp.MessageType, nil)
		check(err)
		w, err := openpgp.Sign(aw, []*openpgp.Entity{signer}, &openpgp.FileHints{ModTime: cfg.Now()}, cfg)
		check(err)
		_, err = w.Write(data)
		check(err)
		check(w.Close())
		check(aw.Close())
	default:
		check(fmt.Errorf("unknown mode %q", mode))
	}
	buf.WriteByte('\n')
	check(os.WriteFile(out, buf.Bytes(), 0o644))
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// micalg prints the micalg parameter (RFC 3156 section 5) naming the hash
// of the first signature in a detached signature file.
func micalg(in string) {
	data, err := os.ReadFile(in)
	check(err)
	b, err := armor.Decode(bytes.NewReader(data))
	check(err)
	p, err := packet.NewReader(b.Body).Next()
	check(err)
	sig, ok := p.(*packet.Signature)
	if !ok {
		check(fmt.Errorf("%s: not a signature packet but %T", in, p))
	}
	names := map[crypto.Hash]string{crypto.SHA1: "pgp-sha1", crypto.SHA224: "pgp-sha224", crypto.SHA256: "pgp-sha256",
		crypto.SHA384: "pgp-sha384", crypto.SHA512: "pgp-sha512", crypto.SHA3_256: "pgp-sha3-256", crypto.SHA3_512: "pgp-sha3-512"}
	name, ok := names[sig.Hash]
	if !ok {
		check(fmt.Errorf("%s: unknown hash %v", in, sig.Hash))
	}
	fmt.Println(name)
}

// dump prints the packets outside the encryption, as the README's matrix
// describes them ("PKESKv3 SEIPDv1", "PKESKv6 SEIPDv2/OCB", "PKESKv3
// AEAD(tag 20)").
func dump(in string) {
	data, err := os.ReadFile(in)
	check(err)
	var r io.Reader = bytes.NewReader(data)
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		b, err := armor.Decode(r)
		check(err)
		r = b.Body
	}
	fmt.Println(Outline(r))
}

// Outline names the outer packets of an OpenPGP message.
func Outline(r io.Reader) string {
	pr := packet.NewReader(r)
	var parts []string
	for {
		p, err := pr.Next()
		if err != nil {
			if err != io.EOF {
				parts = append(parts, "ERROR("+err.Error()+")")
			}
			break
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			parts = append(parts, fmt.Sprintf("PKESKv%d", p.Version))
		case *packet.SymmetricallyEncrypted:
			if p.Version == 2 {
				parts = append(parts, fmt.Sprintf("SEIPDv2/%s", modeName(p.Mode)))
			} else if p.IntegrityProtected {
				parts = append(parts, "SEIPDv1")
			} else {
				parts = append(parts, "SED")
			}
			return strings.Join(parts, " ")
		case *packet.AEADEncrypted:
			parts = append(parts, "AEAD(tag 20)")
			return strings.Join(parts, " ")
		case *packet.OnePassSignature:
			parts = append(parts, "OPS")
		case *packet.Signature:
			parts = append(parts, "SIG")
		case *packet.Compressed:
			parts = append(parts, "COMPRESSED")
		case *packet.LiteralData:
			parts = append(parts, "LITERAL")
			if _, err := io.Copy(io.Discard, p.Body); err != nil {
				parts = append(parts, "ERROR("+err.Error()+")")
				return strings.Join(parts, " ")
			}
		default:
			parts = append(parts, fmt.Sprintf("%T", p))
		}
	}
	return strings.Join(parts, " ")
}

func modeName(m packet.AEADMode) string {
	for n, v := range aeadModes {
		if v == m {
			return strings.ToUpper(n)
		}
	}
	return fmt.Sprint(int(m))
}
