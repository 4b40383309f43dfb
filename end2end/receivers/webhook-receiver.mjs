// A Standard Webhooks receiver for the delivery tests: verifies every request with the
// specification's own npm package (an implementation independent of Latchkey's), appends
// what it accepted to a file as one JSON line, and answers 204 (400 when the signature
// does not verify).
//
// usage: node webhook-receiver.mjs PORT SECRET OUT_FILE
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const [port, secret, outFile] = process.argv.slice(2);
const verifier = new Webhook(secret.replace(/^whsec_/, ""));

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = {
      "webhook-id": req.headers["webhook-id"] ?? "",
      "webhook-timestamp": req.headers["webhook-timestamp"] ?? "",
      "webhook-signature": req.headers["webhook-signature"] ?? "",
    };
    let payload;
    try {
      payload = verifier.verify(body, headers);
    } catch (err) {
      appendFileSync(outFile, JSON.stringify({ refused: String(err) }) + "\n");
      res.writeHead(400).end();
      return;
    }
    appendFileSync(
      outFile,
      JSON.stringify({ id: headers["webhook-id"], path: req.url, payload }) + "\n",
    );
    res.writeHead(204).end();
  });
});

server.listen(Number(port), "127.0.0.1", () => {
  console.log(`webhook receiver listening on ${port}`);
});
