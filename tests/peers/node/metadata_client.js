'use strict';
// One channel to an h2grpc interop_server: for each size (KiB), a call carrying that much
// metadata, then three plain calls on the same channel. Prints `SIZE CODE after CODE CODE CODE`.
//
//     node metadata_client.js SOCKET SIZE_KIB...
//
// No stubs: EmptyCall's request and response are empty messages, sent as raw bytes.

const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');

const [sock, ...sizes] = process.argv.slice(2);
const client = new grpc.Client(`unix:${sock}`, grpc.credentials.createInsecure());
const names = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

function call(metadata) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 20000);
    client.makeUnaryRequest('/grpc.testing.TestService/EmptyCall', (x) => x, (x) => x,
      Buffer.alloc(0), metadata || new grpc.Metadata(), { deadline },
      (err) => resolve(err ? names[err.code] : 'OK'));
  });
}

(async () => {
  console.log('first', await call());
  for (const kib of sizes) {
    const md = new grpc.Metadata();
    md.set('x-big', crypto.randomBytes(Math.floor(parseFloat(kib) * 1024 / 2)).toString('hex'));
    const big = await call(md);
    console.log(`${parseFloat(kib)} ${big} after ${await call()} ${await call()} ${await call()}`);
  }
  client.close();
})();
