'use strict';
// Loads proto/grpc/testing with @grpc/proto-loader: the same .proto files h2grpc and the other
// peers use, read at run time (no generated code).

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'proto');

const definition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
});

const testing = grpc.loadPackageDefinition(definition).grpc.testing;

function argument(name) {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

module.exports = { grpc, testing, argument, definition };
