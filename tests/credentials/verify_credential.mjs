// Verify a Verifiable Credential with Digital Bazaar's implementation, offline.
//
//   node verify_credential.mjs CREDENTIAL.json [--did DID-DOCUMENT.json ...] [--status LIST.json ...]
//   node verify_credential.mjs --issue UNSIGNED.json SEED-HEX OUT.json
//
// Contexts come from the npm packages in frontend/node_modules (found through the
// FRONTEND_DIR variable); every other URL is refused, so nothing is fetched. did:key
// identifiers are resolved by @digitalbazaar/did-method-key, did:web documents are read from
// the files given with --did. Prints one JSON line {"verified": bool, "error": "..."} and
// exits 0 when verified, 1 when not, 2 on bad use.
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

const frontend = process.env.FRONTEND_DIR;
if(!frontend) {
  console.error('set FRONTEND_DIR to the folder holding node_modules');
  process.exit(2);
}
async function load(name) {
  const folder = join(frontend, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  const exported = manifest.exports;
  let entry = typeof exported === 'string' ? exported :
    exported?.['.']?.import ?? exported?.import ?? manifest.module ?? manifest.main;
  if(typeof entry === 'object') {
    entry = entry.default;
  }
  return import(pathToFileURL(join(folder, entry)).href);
}

const vc = await load('@digitalbazaar/vc');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
const didKey = await load('@digitalbazaar/did-method-key');
const credentialsContext = await load('@digitalbazaar/credentials-context');
const statusList = await load('@digitalbazaar/vc-bitstring-status-list');

const contexts = new Map(credentialsContext.contexts);
const didDocuments = new Map();
const statusCredentials = new Map();

const resolver = didKey.driver();
resolver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    const document = await resolver.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const document = didDocuments.get(did);
    if(!document) {
      throw new Error(`no DID document given for ${did}`);
    }
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document};
    }
    const method = document.verificationMethod.find(m => m.id === url);
    if(!method) {
      throw new Error(`${did} has no verification method ${url}`);
    }
    return {
      contextUrl: null,
      documentUrl: url,
      document: {'@context': 'https://w3id.org/security/multikey/v1', ...method}
    };
  }
  if(statusCredentials.has(url)) {
    return {contextUrl: null, documentUrl: url, document: statusCredentials.get(url)};
  }
  throw new Error(`refusing to load ${url}: not a local document`);
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

const args = process.argv.slice(2);
if(args[0] === '--issue') {
  const [, unsignedPath, seedHex, outPath] = args;
  const keyPair = await Ed25519Multikey.generate({seed: Buffer.from(seedHex, 'hex')});
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  const credential = readJson(unsignedPath);
  credential.issuer = did;
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite});
  const signed = await vc.issue({credential, suite, documentLoader});
  writeFileSync(outPath, JSON.stringify(signed, null, 2));
  console.log(JSON.stringify({issued: true, issuer: did}));
  process.exit(0);
}

const credentialPath = args.shift();
for(let i = 0; i < args.length; i += 2) {
  const document = readJson(args[i + 1]);
  if(args[i] === '--did') {
    didDocuments.set(document.id, document);
  } else if(args[i] === '--status') {
    statusCredentials.set(document.id, document);
  } else {
    console.error(`unknown option ${args[i]}`);
    process.exit(2);
  }
}
const credential = readJson(credentialPath);
const suite = new DataIntegrityProof({cryptosuite});
const options = {credential, suite, documentLoader};
if(credential.credentialStatus) {
  options.checkStatus = statusList.checkStatus;
}
const result = await vc.verifyCredential(options);
const errors = [];
if(!result.verified) {
  for(const entry of [result.error, ...(result.results ?? []).map(r => r.error)]) {
    if(entry) {
      errors.push(...(entry.errors ?? [entry]).map(e => e.message ?? String(e)));
    }
  }
  if(result.statusResult && !result.statusResult.verified) {
    errors.push('status check failed');
  }
}
console.log(JSON.stringify({
  verified: result.verified,
  revoked: result.statusResult ? result.statusResult.verified === true &&
    result.statusResult.results?.[0]?.status === true : null,
  error: errors.join('; ')
}));
process.exit(result.verified ? 0 : 1);
