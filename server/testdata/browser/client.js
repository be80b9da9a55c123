// The page server/protocols_browser_test.go loads in headless Chromium,
// bundled by the test with esbuild. It calls the gateway (another origin,
// given as ?gateway=) with connect-web's two transports, the bookstore's
// descriptors read at run time from the FileDescriptorSet the page's
// server serves (no generated code), and leaves what it saw in
// window.results for the test to read.
import { createClient, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const params = new URLSearchParams(location.search);
const gateway = params.get("gateway");
const requestIdHeader = params.get("request_id_header");

// withCookies sends the gateway's cookies (the session token) with every
// call: a cross-origin fetch sends none unless asked.
const withCookies = (input, init) => fetch(input, { ...init, credentials: "include" });
// withoutCookies is a plain fetch (called unbound, as the transports do).
const withoutCookies = (input, init) => fetch(input, init);

async function run() {
  const resp = await fetch("/descriptors.binpb");
  const set = fromBinary(FileDescriptorSetSchema, new Uint8Array(await resp.arrayBuffer()));
  const registry = createFileRegistry(set);
  const service = registry.getService("example.bookstore.v1.BookstoreService");
  const json = (msg) => toJson(registry.getMessage(msg.$typeName), msg);

  const transports = {
    connect_json: (fetch) => createConnectTransport({ baseUrl: gateway, fetch, jsonOptions: { registry } }),
    connect_proto: (fetch) => createConnectTransport({ baseUrl: gateway, fetch, useBinaryFormat: true }),
    grpc_web: (fetch) => createGrpcWebTransport({ baseUrl: gateway, fetch }),
  };
  const results = {};
  for (const [name, make] of Object.entries(transports)) {
    const r = {};
    results[name] = r;
    const client = createClient(service, make(withCookies));
    try {
      const shelf = await client.getShelf({ shelf: 1n }, {
        onHeader: (h) => { r.unaryRequestId = h.get(requestIdHeader); },
      });
      r.unary = json(shelf);
      r.stream = [];
      for await (const book of client.watchBooks({ parent: "shelves/1" }, {
        onHeader: (h) => { r.streamRequestId = h.get(requestIdHeader); },
      })) {
        r.stream.push(json(book));
      }
    } catch (e) {
      r.error = describe(e);
    }
    // Without the cookie: refused, with the request ID to quote.
    try {
      await createClient(service, make(withoutCookies)).getShelf({ shelf: 1n });
      r.anonymous = { code: "ok" };
    } catch (e) {
      const err = ConnectError.from(e);
      r.anonymous = { code: err.code, message: err.rawMessage, requestId: err.metadata.get(requestIdHeader) };
    }
  }
  return results;
}

function describe(e) {
  if (e instanceof ConnectError) {
    return { code: e.code, message: e.rawMessage, requestId: e.metadata.get(requestIdHeader) };
  }
  return { message: String(e && e.stack ? e.stack : e) };
}

run().then(
  (results) => { window.results = results; },
  (e) => { window.results = { fatal: describe(e) }; },
);
