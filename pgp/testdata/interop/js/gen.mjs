// gen.mjs drives OpenPGP.js (v6, and v5 for the LibrePGP tag-20 packet) for
// ../gen.sh. Every command reads and writes files; nothing else.
//
//   node gen.mjs genkey  --uid U --sec F --pub F [--v6] [--aead] [--pass P] [--date ISO]
//   node gen.mjs encrypt --to F[,F...] --in F --out F [--sign F --pass P] [--aead ocb|gcm|eax]
//                        [--date ISO] [--binary]
//   node gen.mjs encrypt5ocb --to F --in F --out F   (OpenPGP.js v5: tag-20 AEAD Encrypted Data, OCB)
//   node gen.mjs sign    --key F --pass P --in F --out F --mode detached|cleartext|inline
//                        [--hash sha1|sha256] [--date ISO]
import { readFileSync, writeFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import * as openpgp5 from 'openpgp5';

function args(argv) {
  const a = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      const k = argv[i].slice(2);
      if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) a[k] = argv[++i];
      else a[k] = true;
    } else a._.push(argv[i]);
  }
  return a;
}

function uid(s) {
  const m = /^(.*?)\s*<([^>]+)>$/.exec(s);
  return m ? { name: m[1], email: m[2] } : { email: s };
}

const date = (a) => (a.date ? new Date(a.date) : new Date());

async function privateKey(lib, file, pass) {
  const key = await lib.readPrivateKey({ armoredKey: readFileSync(file, 'utf8') });
  if (key.isDecrypted()) return key;
  return lib.decryptKey({ privateKey: key, passphrase: pass });
}

async function publicKeys(lib, list) {
  return Promise.all(list.split(',').map((f) => lib.readKey({ armoredKey: readFileSync(f, 'utf8') })));
}

const cmds = {
  async genkey(a) {
    const config = { v6Keys: !!a.v6, aeadProtect: !!a.aead || !!a.v6 };
    const { privateKey: sec, publicKey: pub } = await openpgp.generateKey({
      type: a.v6 ? 'curve25519' : 'ecc',
      curve: a.v6 ? undefined : 'curve25519Legacy',
      userIDs: [uid(a.uid)],
      passphrase: a.pass || undefined,
      date: date(a),
      format: 'armored',
      config,
    });
    writeFileSync(a.sec, sec);
    writeFileSync(a.pub, pub);
  },

  async encrypt(a) {
    const encryptionKeys = await publicKeys(openpgp, a.to);
    const message = await openpgp.createMessage({ binary: readFileSync(a.in), format: 'binary', date: date(a) });
    const opts = { message, encryptionKeys, date: date(a), format: a.binary ? 'binary' : 'armored', config: {} };
    if (a.sign) opts.signingKeys = await privateKey(openpgp, a.sign, a.pass);
    if (a.aead) {
      // SEIPDv2 (RFC 9580). OpenPGP.js uses it only when every recipient
      // key advertises it, and then picks the AEAD mode from the keys'
      // cipher-suite preferences: passing the session key makes the mode
      // the one asked for, whatever the recipient key prefers.
      const mode = openpgp.enums.aead[a.aead];
      opts.config = { aeadProtect: true, preferredAEADAlgorithm: mode };
      opts.sessionKey = { data: crypto.getRandomValues(new Uint8Array(32)), algorithm: 'aes256', aeadAlgorithm: a.aead };
    }
    const out = await openpgp.encrypt(opts);
    writeFileSync(a.out, out);
  },

  async encrypt5ocb(a) {
    // OpenPGP.js v5 with aeadProtect writes the AEAD Encrypted Data packet
    // (tag 20) of draft-ietf-openpgp-rfc4880bis, the packet GnuPG 2.4
    // calls "OCB Encrypted Data" (LibrePGP). It checks that the recipient
    // key advertises AEAD; an explicit session key skips that check, as
    // GnuPG 2.4 would skip it for its own keys.
    const encryptionKeys = await publicKeys(openpgp5, a.to);
    const message = await openpgp5.createMessage({ binary: readFileSync(a.in), date: date(a) });
    const out = await openpgp5.encrypt({
      message,
      encryptionKeys,
      date: date(a),
      sessionKey: { data: crypto.getRandomValues(new Uint8Array(32)), algorithm: 'aes256', aeadAlgorithm: 'ocb' },
      config: { aeadProtect: true, preferredAEADAlgorithm: openpgp5.enums.aead.ocb },
    });
    writeFileSync(a.out, out);
  },

  async sign(a) {
    const signingKeys = await privateKey(openpgp, a.key, a.pass);
    const config = {};
    if (a.hash) config.preferredHashAlgorithm = openpgp.enums.hash[a.hash];
    const data = readFileSync(a.in);
    let out;
    if (a.mode === 'cleartext') {
      const message = await openpgp.createCleartextMessage({ text: data.toString('utf8') });
      out = await openpgp.sign({ message, signingKeys, date: date(a), config });
    } else {
      const message = await openpgp.createMessage({ binary: data, date: date(a) });
      out = await openpgp.sign({ message, signingKeys, detached: a.mode === 'detached', date: date(a), config });
    }
    writeFileSync(a.out, out);
  },
};

const a = args(process.argv.slice(2));
const cmd = cmds[a._[0]];
if (!cmd) {
  console.error('usage: node gen.mjs genkey|encrypt|encrypt5ocb|sign ...');
  process.exit(2);
}
await cmd(a);
