#!/usr/bin/env node
'use strict';
// Node (@grpc/grpc-js) interop server: grpc.testing.TestService as described in the "Server"
// section of interop-test-descriptions.md.
//
//   node interop_server.js --addr unix:/path/to.sock | host:port [--tls_dir DIR [--mtls]]
//
// Prints "listening on ADDR" once it accepts connections; serves until SIGTERM or SIGINT.

const fs = require('fs');
const { grpc, testing, argument, definition, serverCredentials } = require('./interop_common');

const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

/** Echo Metadata: the initial value back as a header now; the trailer to send at the end. */
function echoMetadata(call) {
  const initial = call.metadata.get(ECHO_INITIAL);
  if (initial.length > 0) {
    const headers = new grpc.Metadata();
    for (const value of initial) headers.add(ECHO_INITIAL, value);
    call.sendMetadata(headers);
  }
  const trailers = new grpc.Metadata();
  for (const value of call.metadata.get(ECHO_TRAILING)) trailers.add(ECHO_TRAILING, value);
  return trailers;
}

function payload(size) {
  return { type: 0, body: Buffer.alloc(size) };
}

/** The status a request asks for (Echo Status), or an unsupported response_type; else null. */
function requestedError(request, trailers) {
  const status = request.response_status;
  if (status && status.code !== 0) {
    return { code: status.code, details: status.message, metadata: trailers };
  }
  if (request.response_type && request.response_type !== 0) {
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: `unsupported response_type ${request.response_type}`,
      metadata: trailers,
    };
  }
  return null;
}

const sleep = (us) => new Promise((resolve) => setTimeout(resolve, us / 1000));

/** Writes one response per ResponseParameters, each after its interval. */
async function writeResponses(call, request) {
  for (const params of request.response_parameters) {
    if (params.interval_us > 0) await sleep(params.interval_us);
    if (call.cancelled) return;
    call.write({ payload: payload(params.size) });
  }
}

const handlers = {
  EmptyCall(call, callback) {
    callback(null, {}, echoMetadata(call));
  },

  UnaryCall(call, callback) {
    const trailers = echoMetadata(call);
    const error = requestedError(call.request, trailers);
    if (error) return callback(error);
    if (call.request.expect_compressed && call.request.expect_compressed.value) {
      // grpc-js does not show the request's Compressed-Flag to the handler.
      return callback({
        code: grpc.status.INVALID_ARGUMENT,
        details: 'compressed requests are not checked',
        metadata: trailers,
      });
    }
    callback(null, { payload: payload(call.request.response_size) }, trailers);
  },

  CacheableUnaryCall(call, callback) {
    handlers.UnaryCall(call, callback);
  },

  async StreamingOutputCall(call) {
    const trailers = echoMetadata(call);
    const error = requestedError(call.request, trailers);
    if (error) return call.emit('error', error);
    await writeResponses(call, call.request);
    call.end(trailers);
  },

  StreamingInputCall(call, callback) {
    const trailers = echoMetadata(call);
    let total = 0;
    call.on('data', (request) => {
      total += request.payload ? request.payload.body.length : 0;
    });
    call.on('end', () => callback(null, { aggregated_payload_size: total }, trailers));
    call.on('error', () => {});
  },

  FullDuplexCall(call) {
    const trailers = echoMetadata(call);
    // Requests are served strictly in order, one at a time.
    let chain = Promise.resolve();
    let failed = false;
    call.on('data', (request) => {
      chain = chain.then(async () => {
        if (failed || call.cancelled) return;
        const error = requestedError(request, trailers);
        if (error) {
          failed = true;
          return call.emit('error', error);
        }
        await writeResponses(call, request);
      });
    });
    call.on('end', () => {
      chain.then(() => {
        if (!failed && !call.cancelled) call.end(trailers);
      });
    });
    call.on('error', () => {});
  },

  HalfDuplexCall(call) {
    const trailers = echoMetadata(call);
    const requests = [];
    call.on('data', (request) => requests.push(request));
    call.on('end', async () => {
      for (const request of requests) {
        const error = requestedError(request, trailers);
        if (error) return call.emit('error', error);
        await writeResponses(call, request);
      }
      call.end(trailers);
    });
    call.on('error', () => {});
  },

  // UnimplementedCall is deliberately absent: grpc-js answers UNIMPLEMENTED.
};

function main() {
  const addr = argument('addr');
  if (!addr) {
    console.error('usage: node interop_server.js --addr unix:/path/to.sock | host:port');
    process.exit(2);
  }
  if (addr.startsWith('unix:')) {
    // grpc-js fails with EADDRINUSE on a stale socket file.
    const file = addr.replace(/^unix:(\/\/)?/, '');
    try {
      fs.unlinkSync(file);
    } catch (_) {
      // Nothing there.
    }
  }
  const server = new grpc.Server();
  server.addService(testing.TestService.service, handlers);
  if (process.argv.includes('--reflection')) {
    // Server reflection too, for tools (the h2grpc command's tests).
    const { ReflectionService } = require('@grpc/reflection');
    new ReflectionService(definition).addToServer(server);
  }
  server.bindAsync(addr, serverCredentials(), (err, port) => {
    if (err) {
      console.error(`cannot listen on ${addr}: ${err.message}`);
      process.exit(1);
    }
    // With port 0, the port the system chose.
    const bound = !addr.startsWith('unix:') && addr.endsWith(':0') ? `${addr.slice(0, -2)}:${port}` : addr;
    console.log(`listening on ${bound}`);
  });
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
