// Checks GS1 Digital Link URIs and a resolver with digital-link.js (GS1's grammar, from npm).
// Input (stdin): {"uris": [...], "resolve": [{"uri": ..., "linkType": ...}]}.
// Output (stdout): one JSON object with, per URI, the library's verdict and parsed parts, and
// per resolution, the status, Location, Link header and body as the resolver answered them.
const { DigitalLink } = require("digital-link.js");

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const uris = input.uris.map((uri) => {
    const dl = DigitalLink(uri);
    return {
      uri,
      valid: dl.isValid(),
      trace: dl.getValidationTrace().success,
      identifier: dl.getIdentifier(),
      keyQualifiers: dl.getKeyQualifiers(),
      roundTrip: dl.toWebUriString(),
    };
  });
  const resolved = [];
  for (const request of input.resolve || []) {
    const dl = DigitalLink(request.uri);
    if (request.linkType) dl.setLinkType(request.linkType);
    const url = dl.toWebUriString();
    const headers = request.accept ? { accept: request.accept } : {};
    const response = await fetch(url, { redirect: "manual", headers });
    resolved.push({
      url,
      status: response.status,
      location: response.headers.get("location"),
      link: response.headers.get("link"),
      contentType: response.headers.get("content-type"),
      body: await response.text(),
    });
  }
  process.stdout.write(JSON.stringify({ uris, resolved }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
