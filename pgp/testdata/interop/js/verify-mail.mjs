// verify-mail.mjs checks, with OpenPGP.js, mail that secinbox composed
// (pgp/compose_test.go). It prints one JSON object on stdout:
// {"text": "...", "signatures": [{"keyID": "...", "valid": true}]}.
//
//   node verify-mail.mjs decrypt --key SEC.asc --signer PUB.asc --in MESSAGE.asc
//   node verify-mail.mjs verify  --signer PUB.asc --in SIGNED-PART --sig SIG.asc
//
// decrypt: the armored message is decrypted with the (unprotected)
// secret key and its signatures verified with the signer's public key;
// verify: a detached signature over the file's exact bytes.
import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';

function args(argv) {
  const a = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) a[argv[i].slice(2)] = argv[++i];
    else a._.push(argv[i]);
  }
  return a;
}

async function signatures(list) {
  return Promise.all(
    list.map(async (s) => {
      try {
        await s.verified;
        return { keyID: s.keyID.toHex(), valid: true };
      } catch (e) {
        return { keyID: s.keyID.toHex(), valid: false, error: String(e.message || e) };
      }
    }),
  );
}

const a = args(process.argv.slice(2));
const verificationKeys = await openpgp.readKey({ armoredKey: readFileSync(a.signer, 'utf8') });
let out;
if (a._[0] === 'decrypt') {
  const decryptionKeys = await openpgp.readPrivateKey({ armoredKey: readFileSync(a.key, 'utf8') });
  const message = await openpgp.readMessage({ armoredMessage: readFileSync(a.in, 'utf8') });
  const res = await openpgp.decrypt({ message, decryptionKeys, verificationKeys, format: 'binary' });
  out = { text: Buffer.from(res.data).toString('utf8'), signatures: await signatures(res.signatures) };
} else if (a._[0] === 'verify') {
  const message = await openpgp.createMessage({ binary: readFileSync(a.in) });
  const signature = await openpgp.readSignature({ armoredSignature: readFileSync(a.sig, 'utf8') });
  const res = await openpgp.verify({ message, signature, verificationKeys, format: 'binary' });
  out = { text: Buffer.from(res.data).toString('utf8'), signatures: await signatures(res.signatures) };
} else {
  console.error('usage: node verify-mail.mjs decrypt|verify ...');
  process.exit(2);
}
console.log(JSON.stringify(out));
