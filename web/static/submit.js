// submit.js encrypts the web form (/report) in the browser: it builds
// the same MIME entity the server builds without JavaScript
// (pgp.MIMEEntity: multipart/mixed, protected Subject = title, the
// fields laid out as text, files in base64), encrypts it to the team key
// from /pgp-key.asc with OpenPGP.js, and posts only the ciphertext, the
// contact address, the honeypot and the form token. The clear fields
// never leave the page. Served from the binary; a module, so no inline
// script and no eval (the CSP allows neither).
import * as openpgp from "/static/openpgp.min.mjs";

const form = document.querySelector("[data-testid=submit-form]");

// reportText lays out the fields exactly as reportText in web/submit.go.
function reportText(f) {
  let t = "Title: " + f.title + "\n" +
    "Affected asset: " + f.asset + "\n" +
    "Contact: " + f.email + "\n" +
    "Credit: " + f.credit + "\n" +
    "\nDescription:\n" + f.description.replace(/\n+$/, "") + "\n";
  if (f.steps !== "") {
    t += "\nSteps to reproduce:\n" + f.steps.replace(/\n+$/, "") + "\n";
  }
  return t;
}

// creditText is creditText in web/submit.go.
function creditText(choice, name) {
  switch (choice) {
    case "name": return "by name: " + name;
    case "handle": return "by handle: " + name;
    case "anonymous": return "anonymously";
  }
  return "none";
}

// lf normalizes line endings as triage.CleanMessageBody does.
const lf = (s) => s.replace(/\r\n?/g, "\n");

const utf8 = new TextEncoder();

// base64Lines is bytes in base64, in lines of 76 (RFC 2045 section 6.8).
function base64Lines(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  const b64 = btoa(bin);
  const lines = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\r\n");
}

// encodedWord is s as RFC 2047 encoded words when it is not plain
// ASCII, for the protected Subject: words of at most 45 bytes of UTF-8
// (75 characters encoded, RFC 2047 section 2), never splitting a
// character, on folded lines.
function encodedWord(s) {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const words = [];
  let cur = "";
  for (const ch of s) {
    if (utf8.encode(cur + ch).length > 45) {
      words.push(cur);
      cur = "";
    }
    cur += ch;
  }
  words.push(cur);
  return words.map((w) => "=?utf-8?b?" + btoa(String.fromCharCode(...utf8.encode(w))) + "?=").join("\r\n ");
}

// filenameParam is a Content-Disposition filename parameter: quoted
// when plain ASCII, else RFC 2231 extended.
function filenameParam(name) {
  if (/^[\x20-\x7e]*$/.test(name) && !/["\\]/.test(name)) return 'filename="' + name + '"';
  const enc = Array.from(utf8.encode(name), (b) =>
    /[A-Za-z0-9._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
  return "filename*=utf-8''" + enc;
}

// mimeEntity is the report as one MIME entity, CRLF line endings: the
// text alone, or multipart/mixed with the files.
async function mimeEntity(subject, text, files) {
  const textBody = base64Lines(utf8.encode(text.replace(/\n/g, "\r\n"))) + "\r\n";
  if (files.length === 0) {
    return utf8.encode('Content-Type: text/plain; charset=utf-8; protected-headers="v1"\r\n' +
      "Content-Transfer-Encoding: base64\r\n" +
      "Subject: " + encodedWord(subject) + "\r\n" +
      "MIME-Version: 1.0\r\n\r\n" + textBody);
  }
  const rnd = crypto.getRandomValues(new Uint8Array(18));
  const boundary = "secinbox-" + base64Lines(rnd).replace(/[+/=]/g, "x");
  const chunks = [
    'Content-Type: multipart/mixed; boundary="' + boundary + '"; protected-headers="v1"\r\n' +
    "MIME-Version: 1.0\r\n" +
    "Subject: " + encodedWord(subject) + "\r\n\r\n" +
    "--" + boundary + "\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    "Content-Transfer-Encoding: base64\r\n\r\n" + textBody,
  ];
  for (const f of files) {
    const type = /^[\w.+-]+\/[\w.+-]+$/.test(f.type) ? f.type : "application/octet-stream";
    chunks.push("--" + boundary + "\r\n" +
      "Content-Type: " + type + "\r\n" +
      "Content-Disposition: attachment; " + filenameParam(f.name) + "\r\n" +
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64Lines(new Uint8Array(await f.arrayBuffer())) + "\r\n");
  }
  chunks.push("--" + boundary + "--\r\n");
  return utf8.encode(chunks.join(""));
}

// encryptToTeam encrypts bytes to every key /pgp-key.asc publishes.
async function encryptToTeam(bytes) {
  const resp = await fetch("/pgp-key.asc", { credentials: "omit", cache: "no-store" });
  if (!resp.ok) throw new Error("could not fetch the team key (" + resp.status + ")");
  const keys = await openpgp.readKeys({ armoredKeys: await resp.text() });
  const message = await openpgp.createMessage({ binary: bytes });
  return openpgp.encrypt({ message, encryptionKeys: keys, format: "armored" });
}

function setError(msg) {
  const el = document.querySelector("[data-testid=submit-error]");
  el.textContent = msg;
  el.hidden = msg === "";
  if (msg !== "") el.scrollIntoView({ block: "center" });
}

function setProgress(msg) {
  form.querySelector("[data-testid=submit-progress]").textContent = msg;
}

// showAnswer puts the server's answer page in place of this one's main
// content: the confirmation with the status link.
function showAnswer(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const main = doc.querySelector("main");
  if (!main) throw new Error("unexpected answer from the server");
  document.querySelector("main").replaceWith(document.adoptNode(main));
  document.title = doc.title;
  document.querySelector("main h1")?.focus();
}

// answerError is the message of a refusal page. A refused form comes
// back with a fresh form token: taking it lets the researcher send again
// without reloading the page and losing what they typed.
function answerError(html, status) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const fresh = doc.querySelector("[data-testid=submit-form] input[name=form_token]");
  if (fresh) form.elements.form_token.value = fresh.value;
  const el = doc.querySelector("[data-testid=submit-error]:not([hidden]), [data-testid=error-message]");
  return el?.textContent.trim() || "The server refused the report (" + status + ").";
}

async function submit(ev) {
  ev.preventDefault();
  if (!form.reportValidity()) return;
  const el = form.elements;
  const files = Array.from(el.attachments.files);
  const maxFiles = Number(form.dataset.maxFiles), maxBytes = Number(form.dataset.maxBytes);
  if (files.length > maxFiles) return setError("Attach at most " + maxFiles + " files.");
  if (files.reduce((n, f) => n + f.size, 0) > maxBytes) {
    return setError("The attachments are larger than " + (maxBytes >> 20) + " MiB in all.");
  }
  const choice = el.credit.value;
  const creditName = el.credit_name.value.trim();
  if ((choice === "name" || choice === "handle") && creditName === "") {
    return setError("Give the name or handle to credit, or choose another way to be credited.");
  }
  const email = el.email.value.trim();
  const title = el.title.value.trim();
  const text = reportText({
    title, email,
    asset: el.asset.value.trim(),
    credit: creditText(choice, creditName),
    description: lf(el.description.value),
    steps: el.steps.value.trim() === "" ? "" : lf(el.steps.value),
  });
  const button = form.querySelector("[data-testid=submit-button]");
  button.disabled = true;
  setError("");
  try {
    setProgress("Encrypting your report in this browser…");
    const armored = await encryptToTeam(await mimeEntity(title, text, files));
    // Only these four leave the page.
    const body = new FormData();
    body.append("ciphertext", armored);
    body.append("email", email);
    body.append("website", el.website.value);
    body.append("form_token", el.form_token.value);
    setProgress("Sending the encrypted report…");
    const resp = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
    const html = await resp.text();
    if (!resp.ok) {
      setProgress("");
      setError(answerError(html, resp.status));
      return;
    }
    showAnswer(html);
  } catch (err) {
    setProgress("");
    setError("Your report could not be encrypted or sent: " + err.message + ". Nothing was sent in the clear.");
  } finally {
    button.disabled = false;
  }
}

if (form) {
  form.dataset.encrypting = "browser";
  form.addEventListener("submit", submit);
}
