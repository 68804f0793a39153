#!/usr/bin/env node
'use strict';
// Node (@grpc/grpc-js) interop client: the interop-test-descriptions.md cases.
//
//   node interop_client.js --addr unix:/path/to.sock | host:port --test_case NAME|all
//                          [--tls_dir DIR [--server_name NAME] [--mtls]]
//
// Prints one line per case, "NAME: PASS" or "NAME: FAIL what was seen", and exits non-zero if
// any case failed.

const { grpc, testing, argument, clientCredentials, clientOptions } = require('./interop_common');

const CASES = [
  'empty_unary',
  'large_unary',
  'client_streaming',
  'server_streaming',
  'ping_pong',
  'empty_stream',
  'custom_metadata',
  'status_code_and_message',
  'special_status_message',
  'unimplemented_method',
  'unimplemented_service',
  'cancel_after_begin',
  'cancel_after_first_response',
  'timeout_on_sleeping_server',
];

const ECHO_INITIAL = ['x-grpc-test-echo-initial', 'test_initial_metadata_value'];
const ECHO_TRAILING = ['x-grpc-test-echo-trailing-bin', Buffer.from([0xab, 0xab, 0xab])];
const SPECIAL_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n';
const CALL_TIMEOUT_MS = 20000;

class Failure extends Error {}

function check(cond, what) {
  if (!cond) throw new Failure(what);
}

const codeName = (code) =>
  Object.keys(grpc.status).find((k) => grpc.status[k] === code) || String(code);

const zeros = (n) => ({ type: 0, body: Buffer.alloc(n) });
const deadline = () => ({ deadline: Date.now() + CALL_TIMEOUT_MS });
const duplexRequest = (size, body) => ({
  response_type: 0,
  response_parameters: [{ size }],
  payload: zeros(body),
});

function unary(method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve, reject) => {
    let headers;
    const call = method(request, metadata, deadline(), (err, response) => {
      if (err) reject(err);
      else resolve({ response, headers, call });
    });
    call.on('metadata', (md) => {
      headers = md;
    });
  });
}

/** Collects a response stream: resolves with responses, headers and trailers, rejects on error. */
function collect(call) {
  return new Promise((resolve, reject) => {
    const responses = [];
    let headers;
    let trailers;
    call.on('metadata', (md) => {
      headers = md;
    });
    call.on('data', (r) => responses.push(r));
    call.on('status', (s) => {
      trailers = s.metadata;
    });
    call.on('error', reject);
    call.on('end', () => setImmediate(() => resolve({ responses, headers, trailers })));
  });
}

/** Reads responses one at a time from a stream. */
function reader(call) {
  const queue = [];
  const waiters = [];
  let ended = false;
  let error = null;
  const wake = () => {
    while (waiters.length > 0 && (queue.length > 0 || ended || error)) {
      const w = waiters.shift();
      if (queue.length > 0) w.resolve(queue.shift());
      else if (error) w.reject(error);
      else w.resolve(null);
    }
  };
  call.on('data', (r) => {
    queue.push(r);
    wake();
  });
  call.on('end', () => {
    ended = true;
    wake();
  });
  call.on('error', (e) => {
    error = e;
    wake();
  });
  return () =>
    new Promise((resolve, reject) => {
      waiters.push({ resolve, reject });
      wake();
    });
}

async function expectError(promise, code, message) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (err instanceof Failure) throw err;
    check(
      err.code === code,
      `expected ${codeName(code)}, got ${codeName(err.code)} ${JSON.stringify(err.details)}`,
    );
    if (message !== undefined) {
      check(
        err.details === message,
        `expected message ${JSON.stringify(message)}, got ${JSON.stringify(err.details)}`,
      );
    }
    return;
  }
  throw new Failure(`expected ${codeName(code)}, the call succeeded with ${JSON.stringify(result)}`);
}

const cases = {
  async empty_unary(client) {
    const { response } = await unary(client.EmptyCall.bind(client), {});
    check(response !== null && response !== undefined, 'no response');
  },

  async large_unary(client) {
    const request = { response_type: 0, response_size: 314159, payload: zeros(271828) };
    const { response } = await unary(client.UnaryCall.bind(client), request);
    const body = response.payload ? response.payload.body : Buffer.alloc(0);
    check(
      body.length === 314159 && body.every((b) => b === 0),
      `response body of ${body.length} bytes, expected 314159 zero bytes`,
    );
  },

  async client_streaming(client) {
    const response = await new Promise((resolve, reject) => {
      const call = client.StreamingInputCall(deadline(), (err, r) => (err ? reject(err) : resolve(r)));
      for (const n of [27182, 8, 1828, 45904]) call.write({ payload: zeros(n) });
      call.end();
    });
    check(
      response.aggregated_payload_size === 74922,
      `aggregated_payload_size ${response.aggregated_payload_size}, expected 74922`,
    );
  },

  async server_streaming(client) {
    const sizes = [31415, 9, 2653, 58979];
    const request = { response_type: 0, response_parameters: sizes.map((size) => ({ size })) };
    const { responses } = await collect(client.StreamingOutputCall(request, deadline()));
    const got = responses.map((r) => r.payload.body.length);
    check(
      JSON.stringify(got) === JSON.stringify(sizes),
      `response sizes ${JSON.stringify(got)}, expected ${JSON.stringify(sizes)}`,
    );
  },

  async ping_pong(client) {
    const pairs = [
      [31415, 27182],
      [9, 8],
      [2653, 1828],
      [58979, 45904],
    ];
    const call = client.FullDuplexCall(deadline());
    const next = reader(call);
    for (const [i, [size, body]] of pairs.entries()) {
      call.write(duplexRequest(size, body));
      const response = await next();
      check(response !== null, `the stream ended after ${i} responses`);
      const got = response.payload.body.length;
      check(got === size, `response ${i} has ${got} bytes, expected ${size}`);
    }
    call.end();
    check((await next()) === null, 'a fifth response arrived');
  },

  async empty_stream(client) {
    const call = client.FullDuplexCall(deadline());
    const done = collect(call);
    call.end();
    const { responses } = await done;
    check(responses.length === 0, `${responses.length} responses on an empty stream`);
  },

  async custom_metadata(client) {
    const metadata = () => {
      const md = new grpc.Metadata();
      md.add(...ECHO_INITIAL);
      md.add(...ECHO_TRAILING);
      return md;
    };
    const checkEcho = (where, headers, trailers) => {
      const initial = headers ? headers.get(ECHO_INITIAL[0]) : [];
      check(
        initial.length === 1 && initial[0] === ECHO_INITIAL[1],
        `${where}: response headers carry ${ECHO_INITIAL[0]} = ${JSON.stringify(initial)}`,
      );
      const trailing = trailers ? trailers.get(ECHO_TRAILING[0]) : [];
      check(
        trailing.length === 1 && Buffer.compare(trailing[0], ECHO_TRAILING[1]) === 0,
        `${where}: trailers carry ${ECHO_TRAILING[0]} = ${JSON.stringify(trailing)}`,
      );
    };

    const request = { response_type: 0, response_size: 314159, payload: zeros(271828) };
    let unaryTrailers;
    const { headers } = await new Promise((resolve, reject) => {
      let h;
      const call = client.UnaryCall(request, metadata(), deadline(), (err) =>
        err ? reject(err) : setImmediate(() => resolve({ headers: h })),
      );
      call.on('metadata', (md) => {
        h = md;
      });
      call.on('status', (s) => {
        unaryTrailers = s.metadata;
      });
    });
    checkEcho('unary', headers, unaryTrailers);

    const call = client.FullDuplexCall(metadata(), deadline());
    const done = collect(call);
    call.write(duplexRequest(314159, 271828));
    call.end();
    const result = await done;
    check(result.responses.length === 1, `full duplex: ${result.responses.length} responses, expected 1`);
    checkEcho('full duplex', result.headers, result.trailers);
  },

  async status_code_and_message(client) {
    const message = 'test status message';
    const response_status = { code: 2, message };
    await expectError(
      unary(client.UnaryCall.bind(client), { response_status }),
      grpc.status.UNKNOWN,
      message,
    );
    const call = client.FullDuplexCall(deadline());
    const done = collect(call);
    call.write({ response_status });
    call.end();
    await expectError(done, grpc.status.UNKNOWN, message);
  },

  async special_status_message(client) {
    const response_status = { code: 2, message: SPECIAL_MESSAGE };
    await expectError(
      unary(client.UnaryCall.bind(client), { response_status }),
      grpc.status.UNKNOWN,
      SPECIAL_MESSAGE,
    );
  },

  async unimplemented_method(client) {
    await expectError(unary(client.UnimplementedCall.bind(client), {}), grpc.status.UNIMPLEMENTED);
  },

  async unimplemented_service(client, addr) {
    const other = new testing.UnimplementedService(addr, clientCredentials(), clientOptions());
    try {
      await expectError(unary(other.UnimplementedCall.bind(other), {}), grpc.status.UNIMPLEMENTED);
    } finally {
      other.close();
    }
  },

  async cancel_after_begin(client) {
    const result = new Promise((resolve, reject) => {
      const call = client.StreamingInputCall(deadline(), (err, r) => (err ? reject(err) : resolve(r)));
      call.cancel();
    });
    await expectError(result, grpc.status.CANCELLED);
  },

  async cancel_after_first_response(client) {
    const call = client.FullDuplexCall(deadline());
    const next = reader(call);
    call.write(duplexRequest(31415, 27182));
    const first = await next();
    check(first !== null, 'no first response');
    check(
      first.payload.body.length === 31415,
      `first response has ${first.payload.body.length} bytes, expected 31415`,
    );
    call.cancel();
    await expectError(next(), grpc.status.CANCELLED);
  },

  async timeout_on_sleeping_server(client) {
    const call = client.FullDuplexCall({ deadline: Date.now() + 1 });
    const done = collect(call);
    call.write({ payload: zeros(27182) });
    await expectError(done, grpc.status.DEADLINE_EXCEEDED);
  },
};

async function main() {
  const addr = argument('addr');
  const testCase = argument('test_case');
  if (!addr || !testCase) {
    console.error('usage: node interop_client.js --addr unix:/path | host:port --test_case NAME|all');
    process.exit(2);
  }
  const client = new testing.TestService(addr, clientCredentials(), clientOptions());
  const names = testCase === 'all' ? CASES : [testCase];
  let failed = false;
  for (const name of names) {
    try {
      if (!CASES.includes(name)) throw new Failure(`unknown test case ${JSON.stringify(name)}`);
      await cases[name](client, addr);
      console.log(`${name}: PASS`);
    } catch (err) {
      failed = true;
      const seen =
        err instanceof Failure
          ? err.message
          : err.code !== undefined
            ? `status ${codeName(err.code)} ${JSON.stringify(err.details)}`
            : String(err);
      console.log(`${name}: FAIL ${JSON.stringify(seen).slice(1, -1)}`);
    }
  }
  client.close();
  process.exit(failed ? 1 : 0);
}

main();
